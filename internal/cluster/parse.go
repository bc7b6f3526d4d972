package cluster

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/keel-go/keel/resp"
)

// ErrBadTopology is wrapped by errors for topology replies keel cannot use.
var ErrBadTopology = errors.New("keel: malformed cluster topology reply")

func badTopology(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadTopology}, args...)...)
}

// ParseShards parses a CLUSTER SHARDS reply (Redis 7+). from is the address
// the reply came from: a node whose endpoint is empty is reached on from's
// host, as Redis documents, and one whose endpoint is "?" on its IP (or
// from's host when that is empty too). With useTLS the nodes' tls-port is
// used when they report one, else their port.
func ParseShards(v resp.Value, from string, useTLS bool) ([]Claim, error) {
	claims, _, err := parseShards(v, from, useTLS)
	return claims, err
}

// parseShards is ParseShards, returning the members too: the address of
// every node the reply lists and does not report failed, whether or not its
// shard serves slots. A primary that serves none is a member still: the
// old primary of a failover, say, that the answering node does not know
// yet to be a replica of the new one.
func parseShards(v resp.Value, from string, useTLS bool) (claims []Claim, members []string, err error) {
	shards, err := v.Slice()
	if err != nil {
		return nil, nil, badTopology("CLUSTER SHARDS: %v", err)
	}
	for _, shv := range shards {
		fields, err := mapOf(shv)
		if err != nil {
			return nil, nil, badTopology("CLUSTER SHARDS shard: %v", err)
		}
		ranges, err := fields["slots"].Slice()
		if err != nil || len(ranges)%2 != 0 {
			return nil, nil, badTopology("CLUSTER SHARDS slots: %v", fields["slots"])
		}
		nodes, err := fields["nodes"].Slice()
		if err != nil {
			return nil, nil, badTopology("CLUSTER SHARDS nodes: %v", fields["nodes"])
		}
		var sh Shard
		hasPrimary := false
		for _, nv := range nodes {
			n, role, err := parseShardNode(nv, from, useTLS)
			if err != nil {
				return nil, nil, err
			}
			if n.Health != Failed {
				members = append(members, n.Addr)
			}
			if role == "master" && !hasPrimary {
				sh.Primary, hasPrimary = n, true
			} else if role != "master" {
				sh.Replicas = append(sh.Replicas, n)
			}
		}
		if !hasPrimary {
			continue // a shard without a primary serves nothing
		}
		for i := 0; i < len(ranges); i += 2 {
			start, err1 := ranges[i].Int64()
			end, err2 := ranges[i+1].Int64()
			if err1 != nil || err2 != nil || start < 0 || end >= SlotCount || start > end {
				return nil, nil, badTopology("CLUSTER SHARDS slot range %v-%v", ranges[i], ranges[i+1])
			}
			claims = append(claims, Claim{Start: int(start), End: int(end), Shard: sh})
		}
	}
	return claims, members, nil
}

func parseShardNode(v resp.Value, from string, useTLS bool) (Node, string, error) {
	f, err := mapOf(v)
	if err != nil {
		return Node{}, "", badTopology("CLUSTER SHARDS node: %v", err)
	}
	portField := shardPortField(f, useTLS)
	port, err := f[portField].Int64()
	if err != nil || port <= 0 || port > 65535 {
		return Node{}, "", badTopology("CLUSTER SHARDS node %s: %v", portField, f[portField])
	}
	host, _ := f["endpoint"].Text()
	ip, _ := f["ip"].Text()
	addr, err := joinAddr(endpointHost(host, ip), int(port), from)
	if err != nil {
		return Node{}, "", err
	}
	id, _ := f["id"].Text()
	role, _ := f["role"].Text()
	health, _ := f["health"].Text()
	n := Node{Addr: addr, ID: id}
	switch health {
	case "loading":
		n.Health = Loading
	case "fail", "failed": // Redis answers "fail"; its documentation says "failed"
		n.Health = Failed
	}
	return n, role, nil
}

// shardPortField names the CLUSTER SHARDS field holding the port to dial.
// Over TLS it is tls-port when the node reports one (a server running with
// tls-cluster does, beside its plaintext port if it has one); managed
// services report their TLS port as port, without tls-port, so port is the
// fallback.
func shardPortField(f map[string]resp.Value, useTLS bool) string {
	if useTLS {
		if p, err := f["tls-port"].Int64(); err == nil && p > 0 {
			return "tls-port"
		}
	}
	return "port"
}

// endpointHost chooses the host to dial from a node's preferred endpoint
// and its IP. Redis reports "?" as the endpoint of a node told to prefer
// host names that has none, so its IP is the best guess; an empty (or NULL)
// endpoint means the node is reached through the address the reply came
// from, which joinAddr applies.
func endpointHost(endpoint, ip string) string {
	if endpoint == "?" {
		return ip
	}
	return endpoint
}

// ParseSlots parses a CLUSTER SLOTS reply, the fallback for servers before
// Redis 7: an array of [start, end, primary, replica...], each node being
// [host, port, id, ...].
func ParseSlots(v resp.Value, from string) ([]Claim, error) {
	entries, err := v.Slice()
	if err != nil {
		return nil, badTopology("CLUSTER SLOTS: %v", err)
	}
	var claims []Claim
	for _, e := range entries {
		f, err := e.Slice()
		if err != nil || len(f) < 3 {
			return nil, badTopology("CLUSTER SLOTS entry: %v", e)
		}
		start, err1 := f[0].Int64()
		end, err2 := f[1].Int64()
		if err1 != nil || err2 != nil || start < 0 || end >= SlotCount || start > end {
			return nil, badTopology("CLUSTER SLOTS range %v-%v", f[0], f[1])
		}
		var sh Shard
		for i, nv := range f[2:] {
			n, err := parseSlotsNode(nv, from)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				sh.Primary = n
			} else {
				sh.Replicas = append(sh.Replicas, n)
			}
		}
		claims = append(claims, Claim{Start: int(start), End: int(end), Shard: sh})
	}
	return claims, nil
}

func parseSlotsNode(v resp.Value, from string) (Node, error) {
	f, err := v.Slice()
	if err != nil || len(f) < 2 {
		return Node{}, badTopology("CLUSTER SLOTS node: %v", v)
	}
	host, _ := f[0].Text()
	port, err := f[1].Int64()
	if err != nil || port <= 0 || port > 65535 {
		return Node{}, badTopology("CLUSTER SLOTS node port: %v", f[1])
	}
	var ip string
	if len(f) > 3 {
		// Redis 7 adds the endpoints it did not prefer: "ip" when it
		// prefers host names.
		if meta, err := mapOf(f[3]); err == nil {
			ip, _ = meta["ip"].Text()
		}
	}
	addr, err := joinAddr(endpointHost(host, ip), int(port), from)
	if err != nil {
		return Node{}, err
	}
	n := Node{Addr: addr}
	if len(f) > 2 {
		n.ID, _ = f[2].Text()
	}
	return n, nil
}

// joinAddr builds host:port; an unknown host ("", "?") means from's host, as
// the cluster specification says.
func joinAddr(host string, port int, from string) (string, error) {
	if host == "" || host == "?" {
		h, _, err := net.SplitHostPort(from)
		if err != nil {
			return "", badTopology("node without a host, and no usable origin %q", from)
		}
		host = h
	}
	if strings.ContainsAny(host, " \r\n/") {
		return "", badTopology("node host %q", host)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// mapOf reads a RESP3 map, or a RESP2 array of alternating names and values,
// into a map keyed by name.
func mapOf(v resp.Value) (map[string]resp.Value, error) {
	elems, err := v.Slice()
	if err != nil {
		return nil, err
	}
	if len(elems)%2 != 0 {
		return nil, errors.New("odd number of map elements")
	}
	m := make(map[string]resp.Value, len(elems)/2)
	for i := 0; i < len(elems); i += 2 {
		k, err := elems[i].Text()
		if err != nil {
			return nil, err
		}
		m[k] = elems[i+1]
	}
	return m, nil
}

// ParseEpoch returns cluster_current_epoch from a CLUSTER INFO reply, or 0.
func ParseEpoch(v resp.Value) int64 {
	text, err := v.Text()
	if err != nil {
		return 0
	}
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, "cluster_current_epoch:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
}
