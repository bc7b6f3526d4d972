package resptest

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/keel-go/keel/resp"
)

// Topology is a cluster node's view, as CLUSTER SHARDS, SLOTS and INFO
// report it.
type Topology struct {
	// Epoch is the cluster current epoch CLUSTER INFO reports.
	Epoch  int64
	Shards []Shard
}

// Shard is a primary, its replicas and the slot ranges it serves.
type Shard struct {
	Slots    [][2]int // inclusive ranges
	Primary  string   // "host:port"
	Replicas []string
	// Failed lists nodes (of Primary and Replicas) reported with health
	// "fail", as Redis reports them.
	Failed []string
}

// HandleTopology makes the server answer CLUSTER SHARDS, CLUSTER SLOTS,
// CLUSTER INFO and ROLE from view, called for each query so the test can
// change its answer as it goes.
func (s *Server) HandleTopology(view func() Topology) {
	s.Handle("CLUSTER SHARDS", func([]string) Reply { return Value(ShardsReply(view())) })
	s.Handle("CLUSTER SLOTS", func([]string) Reply { return Value(SlotsReply(view())) })
	s.Handle("CLUSTER INFO", func([]string) Reply { return Value(InfoReply(view())) })
	s.Handle("ROLE", func([]string) Reply { return Value(RoleReply(view(), s.addr)) })
}

// RoleReply is ROLE as the node at addr answers it in t: a replica of its
// shard's primary, or a master (with its replicas) when it is a primary or
// absent from t.
func RoleReply(t Topology, addr string) resp.Value {
	for _, sh := range t.Shards {
		if slices.Contains(sh.Replicas, addr) {
			host, port := splitAddr(sh.Primary)
			return array([]resp.Value{bulk("slave"), bulk(host), integer(port), bulk("connected"), integer(0)})
		}
	}
	var replicas []resp.Value
	for _, sh := range t.Shards {
		if sh.Primary != addr {
			continue
		}
		for _, r := range sh.Replicas {
			host, port := splitAddr(r)
			replicas = append(replicas, array([]resp.Value{bulk(host), bulk(strconv.FormatInt(port, 10)), bulk("0")}))
		}
	}
	return array([]resp.Value{bulk("master"), integer(0), array(replicas)})
}

// ShardsReply is t as Redis 7 answers CLUSTER SHARDS in RESP3.
func ShardsReply(t Topology) resp.Value {
	shards := make([]resp.Value, 0, len(t.Shards))
	for _, sh := range t.Shards {
		slots := make([]resp.Value, 0, 2*len(sh.Slots))
		for _, r := range sh.Slots {
			slots = append(slots, integer(int64(r[0])), integer(int64(r[1])))
		}
		nodes := []resp.Value{shardNode(sh.Primary, "master", sh)}
		for _, r := range sh.Replicas {
			nodes = append(nodes, shardNode(r, "replica", sh))
		}
		shards = append(shards, mapOf("slots", array(slots), "nodes", array(nodes)))
	}
	return array(shards)
}

func shardNode(addr, role string, sh Shard) resp.Value {
	host, port := splitAddr(addr)
	health := "online"
	for _, f := range sh.Failed {
		if f == addr {
			health = "fail"
		}
	}
	return mapOf(
		"id", bulk(NodeID(addr)),
		"port", integer(port),
		"ip", bulk(host),
		"endpoint", bulk(host),
		"role", bulk(role),
		"replication-offset", integer(0),
		"health", bulk(health),
	)
}

// SlotsReply is t as CLUSTER SLOTS answers it.
func SlotsReply(t Topology) resp.Value {
	var entries []resp.Value
	for _, sh := range t.Shards {
		for _, r := range sh.Slots {
			e := []resp.Value{integer(int64(r[0])), integer(int64(r[1])), slotsNode(sh.Primary)}
			for _, rep := range sh.Replicas {
				e = append(e, slotsNode(rep))
			}
			entries = append(entries, array(e))
		}
	}
	return array(entries)
}

func slotsNode(addr string) resp.Value {
	host, port := splitAddr(addr)
	return array([]resp.Value{bulk(host), integer(port), bulk(NodeID(addr))})
}

// InfoReply is CLUSTER INFO for t: its state and its current epoch.
func InfoReply(t Topology) resp.Value {
	return resp.Value{Kind: resp.KindVerbatim, Str: fmt.Sprintf(
		"txt:cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_known_nodes:%d\r\ncluster_size:%d\r\ncluster_current_epoch:%d\r\n",
		len(t.Shards), len(t.Shards), t.Epoch)}
}

// NodeID is a stable 40-character node id for addr.
func NodeID(addr string) string {
	id := fmt.Sprintf("%x", addr)
	for len(id) < 40 {
		id += "0"
	}
	return id[:40]
}

func splitAddr(addr string) (string, int64) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		panic("resptest: bad node address " + addr)
	}
	port, err := strconv.ParseInt(p, 10, 64)
	if err != nil {
		panic("resptest: bad node port in " + addr)
	}
	return host, port
}

func integer(n int64) resp.Value      { return resp.Value{Kind: resp.KindInteger, Int: n} }
func bulk(s string) resp.Value        { return resp.Value{Kind: resp.KindBulkString, Str: s} }
func array(e []resp.Value) resp.Value { return resp.Value{Kind: resp.KindArray, Elems: e} }

func mapOf(kv ...any) resp.Value {
	elems := make([]resp.Value, 0, len(kv))
	for i := 0; i < len(kv); i += 2 {
		elems = append(elems, bulk(kv[i].(string)), kv[i+1].(resp.Value))
	}
	return resp.Value{Kind: resp.KindMap, Elems: elems}
}
