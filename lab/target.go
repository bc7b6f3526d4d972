package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Target is a cluster lab did not start — staging, or a managed service
// running its own failover test — given by where to find it and how to log
// in. lab only connects to it: [WatchTarget] watches it and [Target.Shards]
// reads its shards; nothing is started or broken there.
type Target struct {
	// Seeds are "host:port" addresses to start from. A host may be a name.
	Seeds []string
	// Username and Password authenticate (an ACL user, or the default user's
	// password when Username is empty). Default: no AUTH.
	Username, Password string
	// TLS, when set, is used for every connection. Default: plain TCP.
	TLS *tls.Config
	// Resolver resolves host names; nil means net.DefaultResolver. Setting
	// it to a [DNSServer]'s lets a cluster restarted on new addresses be
	// found again through its name.
	Resolver *net.Resolver
}

// ShardInfo is one shard of a cluster lab did not start, by node address.
type ShardInfo struct {
	Primary  string // "host:port"
	Replicas []string
	Slots    []SlotRange
}

// dial connects to addr within timeout and authenticates.
func (t Target) dial(ctx context.Context, addr string, timeout time.Duration) (*rawConn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tlsConf := t.TLS
	if tlsConf != nil && tlsConf.ServerName == "" {
		// Verify each node's certificate against the name it was dialled by.
		tlsConf = tlsConf.Clone()
		tlsConf.ServerName, _, _ = net.SplitHostPort(addr)
	}
	rc, err := dialRawWith(ctx, &net.Dialer{Resolver: t.Resolver}, addr, tlsConf)
	if err != nil {
		return nil, err
	}
	if t.Password != "" {
		args := []string{"AUTH", t.Password}
		if t.Username != "" {
			args = []string{"AUTH", t.Username, t.Password}
		}
		if _, err := rc.call(args...); err != nil {
			rc.Close()
			return nil, fmt.Errorf("%s: AUTH: %w", addr, err)
		}
	}
	return rc, nil
}

// targetTimeout bounds each connection and query of Target.Shards.
const targetTimeout = 5 * time.Second

// Shards asks the seeds, in order, for CLUSTER SHARDS (CLUSTER SLOTS on
// servers before Redis 7) and returns the first answer: every shard with a
// primary, as the answering node lists it (CLUSTER SLOTS lists a shard once
// per slot range). A shard's addresses use its TLS port when t.TLS is set.
func (t Target) Shards(ctx context.Context) ([]ShardInfo, error) {
	if len(t.Seeds) == 0 {
		return nil, errors.New("lab: Target: no seeds")
	}
	var errs []error
	for _, seed := range t.Seeds {
		shards, err := t.shardsFrom(ctx, seed)
		if err == nil {
			return shards, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("lab: reading the shards: %w", errors.Join(errs...))
}

func (t Target) shardsFrom(ctx context.Context, addr string) ([]ShardInfo, error) {
	rc, err := t.dial(ctx, addr, targetTimeout)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := rc.conn.SetDeadline(time.Now().Add(targetTimeout)); err != nil {
		return nil, err
	}
	return askShards(rc, addr, t.TLS != nil)
}

// askShards asks rc's node, at addr, for CLUSTER SHARDS, or CLUSTER SLOTS
// when the server does not know SHARDS.
func askShards(rc *rawConn, addr string, useTLS bool) ([]ShardInfo, error) {
	v, err := rc.call("CLUSTER", "SHARDS")
	var re ReplyError
	if errors.As(err, &re) && strings.Contains(strings.ToLower(string(re)), "unknown") {
		if v, err = rc.call("CLUSTER", "SLOTS"); err == nil {
			shards, err := parseSlots(v, addr)
			return shards, wrapAddr(addr, err)
		}
	}
	if err != nil {
		return nil, wrapAddr(addr, err)
	}
	shards, err := parseShards(v, addr, useTLS)
	return shards, wrapAddr(addr, err)
}

func wrapAddr(addr string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", addr, err)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("lab: malformed shards reply: "+format, args...)
}

// parseShards reads CLUSTER SHARDS as RESP2 gives it: per shard, a flat list
// of names and values, "slots" being start/end pairs and "nodes" a list of
// such flat maps. The first node whose role is master is the primary; a
// shard without one serves nothing and is left out.
func parseShards(v any, from string, useTLS bool) ([]ShardInfo, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, malformed("%v", v)
	}
	var out []ShardInfo
	for _, shv := range list {
		f, err := flatMap(shv)
		if err != nil {
			return nil, err
		}
		ranges, ok := f["slots"].([]any)
		if !ok || len(ranges)%2 != 0 {
			return nil, malformed("slots %v", f["slots"])
		}
		nodes, ok := f["nodes"].([]any)
		if !ok {
			return nil, malformed("nodes %v", f["nodes"])
		}
		var sh ShardInfo
		for _, nv := range nodes {
			addr, role, err := parseShardNode(nv, from, useTLS)
			if err != nil {
				return nil, err
			}
			switch {
			case role == "master" && sh.Primary == "":
				sh.Primary = addr
			case role != "master":
				sh.Replicas = append(sh.Replicas, addr)
			}
		}
		if sh.Primary == "" {
			continue
		}
		for i := 0; i < len(ranges); i += 2 {
			r, err := slotRange(ranges[i], ranges[i+1])
			if err != nil {
				return nil, err
			}
			sh.Slots = append(sh.Slots, r)
		}
		out = append(out, sh)
	}
	return out, nil
}

func parseShardNode(v any, from string, useTLS bool) (addr, role string, err error) {
	f, err := flatMap(v)
	if err != nil {
		return "", "", err
	}
	// Over TLS: tls-port when the node reports one, else port (managed
	// services report their TLS port so).
	portField := "port"
	if p, _ := f["tls-port"].(int64); useTLS && p > 0 {
		portField = "tls-port"
	}
	port, ok := f[portField].(int64)
	if !ok {
		return "", "", malformed("node %s %v", portField, f[portField])
	}
	// An empty endpoint is the replying address; "?" (host names preferred,
	// none announced) the node's IP.
	host, _ := f["endpoint"].(string)
	if host == "?" {
		host, _ = f["ip"].(string)
	}
	role, _ = f["role"].(string)
	addr, err = joinAddr(host, port, from)
	return addr, role, err
}

// parseSlots reads CLUSTER SLOTS: per slot range, [start, end, primary,
// replica...], each node being [host, port, id, ...].
func parseSlots(v any, from string) ([]ShardInfo, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, malformed("%v", v)
	}
	var out []ShardInfo
	for _, ev := range list {
		e, ok := ev.([]any)
		if !ok || len(e) < 3 {
			return nil, malformed("entry %v", ev)
		}
		r, err := slotRange(e[0], e[1])
		if err != nil {
			return nil, err
		}
		sh := ShardInfo{Slots: []SlotRange{r}}
		for i, nv := range e[2:] {
			n, ok := nv.([]any)
			if !ok || len(n) < 2 {
				return nil, malformed("node %v", nv)
			}
			host, _ := n[0].(string)
			port, _ := n[1].(int64)
			addr, err := joinAddr(host, port, from)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				sh.Primary = addr
			} else {
				sh.Replicas = append(sh.Replicas, addr)
			}
		}
		out = append(out, sh)
	}
	return out, nil
}

func slotRange(a, b any) (SlotRange, error) {
	start, ok1 := a.(int64)
	end, ok2 := b.(int64)
	if !ok1 || !ok2 || start < 0 || end > 16383 || start > end {
		return SlotRange{}, malformed("slot range %v-%v", a, b)
	}
	return SlotRange{int(start), int(end)}, nil
}

// joinAddr builds host:port; an unknown host ("" or "?") is from's, as the
// cluster specification says.
func joinAddr(host string, port int64, from string) (string, error) {
	if port <= 0 || port > 65535 {
		return "", malformed("port %d", port)
	}
	if host == "" || host == "?" {
		h, _, err := net.SplitHostPort(from)
		if err != nil {
			return "", malformed("node without a host, and no usable origin %q", from)
		}
		host = h
	}
	if strings.ContainsAny(host, " \r\n/") {
		return "", malformed("node host %q", host)
	}
	return net.JoinHostPort(host, strconv.FormatInt(port, 10)), nil
}

// flatMap reads a RESP2 map: a list of alternating names and values.
func flatMap(v any) (map[string]any, error) {
	list, ok := v.([]any)
	if !ok || len(list)%2 != 0 {
		return nil, malformed("map %v", v)
	}
	m := make(map[string]any, len(list)/2)
	for i := 0; i < len(list); i += 2 {
		k, ok := list[i].(string)
		if !ok {
			return nil, malformed("map key %v", list[i])
		}
		m[k] = list[i+1]
	}
	return m, nil
}
