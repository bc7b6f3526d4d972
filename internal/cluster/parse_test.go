package cluster_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/resp"
)

func pvBulk(s string) resp.Value { return resp.Value{Kind: resp.KindBulkString, Str: s} }
func pvInt(n int64) resp.Value   { return resp.Value{Kind: resp.KindInteger, Int: n} }

func pvArr(elems ...any) resp.Value {
	return resp.Value{Kind: resp.KindArray, Elems: pvList(elems...)}
}

func pvMap(kv ...any) resp.Value {
	return resp.Value{Kind: resp.KindMap, Elems: pvList(kv...)}
}

// pvList converts strings to bulk strings and ints to integers; resp.Values
// are taken as they are.
func pvList(elems ...any) []resp.Value {
	out := make([]resp.Value, 0, len(elems))
	for _, e := range elems {
		switch e := e.(type) {
		case resp.Value:
			out = append(out, e)
		case string:
			out = append(out, pvBulk(e))
		case int:
			out = append(out, pvInt(int64(e)))
		default:
			panic(fmt.Sprintf("pvList: %T", e))
		}
	}
	return out
}

// pvObj is a RESP3 map, or in RESP2 an array of alternating names and values.
func pvObj(resp3 bool, kv ...any) resp.Value {
	if resp3 {
		return pvMap(kv...)
	}
	return pvArr(kv...)
}

const pvFrom = "192.168.1.9:6379"

// pvShardsReply is a CLUSTER SHARDS reply: two shards with two slot ranges
// each, a shard with a primary but no slots, and a shard without a primary.
func pvShardsReply(resp3 bool) resp.Value {
	obj := func(kv ...any) resp.Value { return pvObj(resp3, kv...) }
	return pvArr(
		obj(
			"slots", pvArr(0, 5460, 10923, 12000),
			"nodes", pvArr(
				obj("id", "aaa", "port", 7000, "tls-port", 17000, "ip", "10.0.0.1", "endpoint", "10.0.0.1",
					"hostname", "", "role", "master", "replication-offset", 72156, "health", "online"),
				obj("id", "bbb", "port", 7001, "tls-port", 17001, "ip", "10.0.0.2", "endpoint", "?",
					"role", "replica", "replication-offset", 72156, "health", "loading"),
			),
		),
		obj(
			"slots", pvArr(5461, 10922, 12001, 16383),
			"nodes", pvArr(
				obj("id", "ccc", "port", 7002, "tls-port", 17002, "ip", "10.0.0.3", "endpoint", "",
					"role", "master", "health", "online"),
				obj("id", "ddd", "port", 7003, "tls-port", 17003, "ip", "", "endpoint", "",
					"role", "replica", "health", "fail"), // what Redis sends
				obj("id", "eee", "port", "7005", "tls-port", "17005", "ip", "10.0.0.5", "endpoint", "node-5.example",
					"role", "replica", "health", "online"),
			),
		),
		obj(
			"slots", pvArr(),
			"nodes", pvArr(
				obj("id", "fff", "port", 7006, "tls-port", 17006, "ip", "10.0.0.6", "endpoint", "10.0.0.6",
					"role", "master", "health", "online"),
			),
		),
		obj( // its primary failed and was forgotten: skipped
			"slots", pvArr(16000, 16001),
			"nodes", pvArr(
				obj("id", "ggg", "port", 7007, "tls-port", 17007, "ip", "10.0.0.7", "endpoint", "10.0.0.7",
					"role", "replica", "health", "failed"), // what Redis's documentation says
			),
		),
	)
}

func pvWantShards(useTLS bool) []cluster.Claim {
	port := func(p int) string {
		if useTLS {
			p += 10000
		}
		return fmt.Sprint(p)
	}
	s1 := cluster.Shard{
		Primary:  cluster.Node{Addr: "10.0.0.1:" + port(7000), ID: "aaa", Health: cluster.Online},
		Replicas: []cluster.Node{{Addr: "10.0.0.2:" + port(7001), ID: "bbb", Health: cluster.Loading}},
	}
	s2 := cluster.Shard{
		// An empty endpoint is the address the reply came from.
		Primary: cluster.Node{Addr: "192.168.1.9:" + port(7002), ID: "ccc", Health: cluster.Online},
		Replicas: []cluster.Node{
			{Addr: "192.168.1.9:" + port(7003), ID: "ddd", Health: cluster.Failed},
			{Addr: "node-5.example:" + port(7005), ID: "eee", Health: cluster.Online},
		},
	}
	return []cluster.Claim{
		{Start: 0, End: 5460, Shard: s1},
		{Start: 10923, End: 12000, Shard: s1},
		{Start: 5461, End: 10922, Shard: s2},
		{Start: 12001, End: 16383, Shard: s2},
	}
}

func TestParseShards(t *testing.T) {
	for _, resp3 := range []bool{true, false} {
		for _, useTLS := range []bool{false, true} {
			t.Run(fmt.Sprintf("resp3=%v/tls=%v", resp3, useTLS), func(t *testing.T) {
				claims, err := cluster.ParseShards(pvShardsReply(resp3), pvFrom, useTLS)
				if err != nil {
					t.Fatal(err)
				}
				if want := pvWantShards(useTLS); !reflect.DeepEqual(claims, want) {
					t.Fatalf("claims:\n got %+v\nwant %+v", claims, want)
				}
				topo := cluster.Merge(cluster.View{From: pvFrom, Claims: claims})
				if topo.Covered() != cluster.SlotCount || len(topo.Shards) != 2 {
					t.Errorf("merged: covered %d, %d shards", topo.Covered(), len(topo.Shards))
				}
			})
		}
	}
}

func TestParseShardsEmpty(t *testing.T) {
	claims, err := cluster.ParseShards(pvArr(), pvFrom, false)
	if err != nil || len(claims) != 0 {
		t.Errorf("ParseShards([]) = %v, %v", claims, err)
	}
}

// A managed service reports its TLS port as "port", without "tls-port":
// over TLS that port is dialled.
func TestParseShardsTLSPortMissing(t *testing.T) {
	v := pvArr(pvMap("slots", pvArr(0, 16383), "nodes", pvArr(
		pvMap("id", "a", "port", 7000, "ip", "10.0.0.1", "endpoint", "10.0.0.1", "role", "master"),
		pvMap("id", "b", "port", 7001, "tls-port", 0, "ip", "10.0.0.2", "endpoint", "10.0.0.2", "role", "replica"))))
	for _, useTLS := range []bool{false, true} {
		claims, err := cluster.ParseShards(v, pvFrom, useTLS)
		if err != nil {
			t.Fatalf("tls=%v: %v", useTLS, err)
		}
		sh := claims[0].Shard
		if sh.Primary.Addr != "10.0.0.1:7000" || sh.Replicas[0].Addr != "10.0.0.2:7001" {
			t.Errorf("tls=%v: primary %s, replica %s; want the ports reported as port", useTLS, sh.Primary.Addr, sh.Replicas[0].Addr)
		}
	}
}

// A TLS-only server (port 0) reports only tls-port: without TLS there is no
// port to dial, which is a clear topology error rather than port 0.
func TestParseShardsOnlyTLSPort(t *testing.T) {
	v := pvArr(pvMap("slots", pvArr(0, 16383), "nodes", pvArr(
		pvMap("id", "a", "tls-port", 17000, "ip", "10.0.0.1", "endpoint", "10.0.0.1", "role", "master"))))
	claims, err := cluster.ParseShards(v, pvFrom, true)
	if err != nil || claims[0].Shard.Primary.Addr != "10.0.0.1:17000" {
		t.Fatalf("with TLS: %+v, %v; want 10.0.0.1:17000", claims, err)
	}
	if _, err := cluster.ParseShards(v, pvFrom, false); !errors.Is(err, cluster.ErrBadTopology) {
		t.Errorf("without TLS: %v, want ErrBadTopology", err)
	}
}

// With cluster-preferred-endpoint-type hostname, the endpoint is the
// announced host name, which is what keel dials (and verifies over TLS); a
// node with no host name announced is "?", reached on its IP.
func TestParseShardsHostnames(t *testing.T) {
	v := pvArr(pvMap("slots", pvArr(0, 16383), "nodes", pvArr(
		pvMap("id", "a", "port", 6379, "ip", "10.0.0.1", "endpoint", "node1.cache.example", "hostname", "node1.cache.example", "role", "master"),
		pvMap("id", "b", "port", 6379, "ip", "10.0.0.2", "endpoint", "?", "role", "replica"),
		pvMap("id", "c", "port", 6379, "ip", "", "endpoint", "?", "role", "replica"))))
	claims, err := cluster.ParseShards(v, pvFrom, true)
	if err != nil {
		t.Fatal(err)
	}
	sh := claims[0].Shard
	got := []string{sh.Primary.Addr, sh.Replicas[0].Addr, sh.Replicas[1].Addr}
	want := []string{"node1.cache.example:6379", "10.0.0.2:6379", "192.168.1.9:6379"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("addresses %v, want %v", got, want)
	}
}

// CLUSTER SLOTS with host names preferred: the host name first, the IP in
// the metadata map, NULL for an unknown endpoint (behind a load balancer).
func TestParseSlotsHostnames(t *testing.T) {
	v := pvArr(
		pvArr(0, 100, pvArr("node1.cache.example", 6379, "a", pvMap("ip", "10.0.0.1")),
			pvArr("?", 6379, "b", pvMap("ip", "10.0.0.2"))),
		pvArr(101, 16383, pvArr(resp.Value{Kind: resp.KindNull}, 6380, "c", pvMap())),
	)
	claims, err := cluster.ParseSlots(v, pvFrom)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{claims[0].Shard.Primary.Addr, claims[0].Shard.Replicas[0].Addr, claims[1].Shard.Primary.Addr}
	want := []string{"node1.cache.example:6379", "10.0.0.2:6379", "192.168.1.9:6380"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("addresses %v, want %v", got, want)
	}
}

func TestParseShardsIPv6(t *testing.T) {
	v := pvArr(pvMap("slots", pvArr(0, 16383), "nodes", pvArr(
		pvMap("id", "a", "port", 7000, "ip", "::1", "endpoint", "?", "role", "master"),
		pvMap("id", "b", "port", 7001, "ip", "", "endpoint", "?", "role", "replica"))))
	claims, err := cluster.ParseShards(v, "[fe80::2]:6379", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].Shard.Primary.Addr != "[::1]:7000" ||
		len(claims[0].Shard.Replicas) != 1 || claims[0].Shard.Replicas[0].Addr != "[fe80::2]:7001" {
		t.Errorf("claims = %+v", claims)
	}
}

func pvSlotsReply() resp.Value {
	return pvArr(
		pvArr(0, 5460, pvArr("10.0.0.1", 7000, "aaa"), pvArr("10.0.0.2", 7001, "bbb")),
		pvArr(10923, 12000, pvArr("10.0.0.1", 7000, "aaa"), pvArr("10.0.0.2", 7001, "bbb")),
		// Redis 7 appends a map of metadata to each node.
		pvArr(5461, 10922, pvArr("", 7002, "ccc", pvMap("hostname", "node-3"))),
		// Old servers send no node id; ports may come as strings.
		pvArr(12001, 16383, pvArr("?", 7004), pvArr("10.0.0.14", "7014")),
	)
}

func TestParseSlots(t *testing.T) {
	claims, err := cluster.ParseSlots(pvSlotsReply(), pvFrom)
	if err != nil {
		t.Fatal(err)
	}
	s1 := cluster.Shard{
		Primary:  cluster.Node{Addr: "10.0.0.1:7000", ID: "aaa"},
		Replicas: []cluster.Node{{Addr: "10.0.0.2:7001", ID: "bbb"}},
	}
	want := []cluster.Claim{
		{Start: 0, End: 5460, Shard: s1},
		{Start: 10923, End: 12000, Shard: s1},
		{Start: 5461, End: 10922, Shard: cluster.Shard{Primary: cluster.Node{Addr: "192.168.1.9:7002", ID: "ccc"}}},
		{Start: 12001, End: 16383, Shard: cluster.Shard{
			Primary:  cluster.Node{Addr: "192.168.1.9:7004"},
			Replicas: []cluster.Node{{Addr: "10.0.0.14:7014"}},
		}},
	}
	if !reflect.DeepEqual(claims, want) {
		t.Fatalf("claims:\n got %+v\nwant %+v", claims, want)
	}
	topo := cluster.Merge(cluster.View{From: pvFrom, Claims: claims})
	if topo.Covered() != cluster.SlotCount || len(topo.Shards) != 3 {
		t.Errorf("merged: covered %d, shards %+v", topo.Covered(), topo.Shards)
	}
	if sh, _ := topo.ShardFor(11000); sh.Primary.ID != "aaa" {
		t.Errorf("slot 11000 on %+v", sh.Primary)
	}
}

func TestParseSlotsIPv6From(t *testing.T) {
	claims, err := cluster.ParseSlots(pvArr(pvArr(0, 16383, pvArr("", 7000, "x"), pvArr("::1", 7001))), "[fe80::1]:6379")
	if err != nil {
		t.Fatal(err)
	}
	if claims[0].Shard.Primary.Addr != "[fe80::1]:7000" || claims[0].Shard.Replicas[0].Addr != "[::1]:7001" {
		t.Errorf("claims = %+v", claims)
	}
}

func TestParseEpoch(t *testing.T) {
	const info = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n" +
		"cluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:6\r\ncluster_my_epoch:2\r\n" +
		"cluster_stats_messages_sent:1483972\r\n"
	tests := []struct {
		name string
		v    resp.Value
		want int64
	}{
		{"bulk", pvBulk(info), 6},
		{"verbatim", resp.Value{Kind: resp.KindVerbatim, Str: "txt:cluster_state:ok\r\ncluster_current_epoch:42\r\n"}, 42},
		{"last line without CRLF", pvBulk("cluster_state:ok\r\ncluster_current_epoch:7"), 7},
		{"LF only", pvBulk("cluster_state:ok\ncluster_current_epoch:8\n"), 8},
		{"missing", pvBulk("cluster_state:ok\r\ncluster_my_epoch:2\r\n"), 0},
		{"not a number", pvBulk("cluster_current_epoch:lots\r\n"), 0},
		{"empty", pvBulk(""), 0},
		{"null", resp.Value{Kind: resp.KindNull}, 0},
		{"error", resp.Value{Kind: resp.KindError, Str: "ERR This instance has cluster support disabled"}, 0},
		{"array", pvArr(pvBulk(info)), 0},
	}
	for _, tt := range tests {
		if got := cluster.ParseEpoch(tt.v); got != tt.want {
			t.Errorf("%s: ParseEpoch = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// pvGoodNode is a valid RESP3 CLUSTER SHARDS node with some fields replaced
// or (when the replacement is nil) removed.
func pvGoodNode(replace ...any) resp.Value {
	kv := []any{"id", "aaa", "port", 7000, "tls-port", 17000, "ip", "10.0.0.1", "endpoint", "10.0.0.1", "role", "master", "health", "online"}
	for i := 0; i < len(replace); i += 2 {
		found := false
		for j := 0; j < len(kv); j += 2 {
			if kv[j] == replace[i] {
				found = true
				if replace[i+1] == nil {
					kv = append(kv[:j:j], kv[j+2:]...)
				} else {
					kv[j+1] = replace[i+1]
				}
				break
			}
		}
		if !found && replace[i+1] != nil {
			kv = append(kv, replace[i], replace[i+1])
		}
	}
	return pvMap(kv...)
}

func pvOneShard(slots resp.Value, nodes ...any) resp.Value {
	return pvArr(pvMap("slots", slots, "nodes", pvArr(nodes...)))
}

func TestParseShardsHostile(t *testing.T) {
	all := pvArr(0, 16383)
	tests := []struct {
		name   string
		v      resp.Value
		from   string
		useTLS bool
	}{
		{name: "bulk string", v: pvBulk("slots")},
		{name: "integer", v: pvInt(3)},
		{name: "null", v: resp.Value{Kind: resp.KindNull}},
		{name: "error reply", v: resp.Value{Kind: resp.KindError, Str: "ERR unknown subcommand 'SHARDS'"}},
		{name: "zero value", v: resp.Value{}},
		{name: "shard not a map", v: pvArr("slots")},
		{name: "shard is an integer", v: pvArr(1)},
		{name: "shard odd map", v: pvArr(pvArr("slots", all, "nodes"))},
		{name: "shard key not text", v: pvArr(pvMap(pvArr(), all, "nodes", pvArr(pvGoodNode())))},
		{name: "missing slots", v: pvArr(pvMap("nodes", pvArr(pvGoodNode())))},
		{name: "slots not an array", v: pvOneShard(pvBulk("0-16383"), pvGoodNode())},
		{name: "slots odd count", v: pvOneShard(pvArr(0, 100, 200), pvGoodNode())},
		{name: "slot negative", v: pvOneShard(pvArr(-1, 100), pvGoodNode())},
		{name: "slot too high", v: pvOneShard(pvArr(0, 16384), pvGoodNode())},
		{name: "slot start > end", v: pvOneShard(pvArr(200, 100), pvGoodNode())},
		{name: "slot not a number", v: pvOneShard(pvArr("zero", 100), pvGoodNode())},
		{name: "slot null", v: pvOneShard(pvArr(resp.Value{Kind: resp.KindNull}, 100), pvGoodNode())},
		{name: "missing nodes", v: pvArr(pvMap("slots", all))},
		{name: "nodes not an array", v: pvArr(pvMap("slots", all, "nodes", "node"))},
		{name: "node not a map", v: pvOneShard(all, "10.0.0.1:7000")},
		{name: "node odd map", v: pvOneShard(all, pvArr("id", "aaa", "port"))},
		{name: "port missing", v: pvOneShard(all, pvGoodNode("port", nil))},
		{name: "port 0", v: pvOneShard(all, pvGoodNode("port", 0))},
		{name: "port negative", v: pvOneShard(all, pvGoodNode("port", -7000))},
		{name: "port 65536", v: pvOneShard(all, pvGoodNode("port", 65536))},
		{name: "port not a number", v: pvOneShard(all, pvGoodNode("port", "seven"))},
		{name: "tls-port and port 0", v: pvOneShard(all, pvGoodNode("tls-port", 0, "port", 0)), useTLS: true},
		{name: "tls-port bad, port 0", v: pvOneShard(all, pvGoodNode("tls-port", "x", "port", 0)), useTLS: true},
		{name: "endpoint with space", v: pvOneShard(all, pvGoodNode("endpoint", "10.0.0.1 7000"))},
		{name: "endpoint with slash", v: pvOneShard(all, pvGoodNode("endpoint", "10.0.0.0/8"))},
		{name: "endpoint with CRLF", v: pvOneShard(all, pvGoodNode("endpoint", "host\r\nx"))},
		{name: "ip with space", v: pvOneShard(all, pvGoodNode("endpoint", "?", "ip", "a b"))},
		{name: "ip with slash", v: pvOneShard(all, pvGoodNode("endpoint", "?", "ip", "../x"))},
		{name: "no host, bad from", v: pvOneShard(all, pvGoodNode("endpoint", "", "ip", "")), from: "nohost"},
		{name: "no host, from with slash", v: pvOneShard(all, pvGoodNode("endpoint", "?", "ip", nil)), from: "a/b:6379"},
		{name: "bad replica", v: pvOneShard(all, pvGoodNode(), pvGoodNode("role", "replica", "port", 0))},
		{name: "good shard then bad", v: pvArr(
			pvMap("slots", pvArr(0, 100), "nodes", pvArr(pvGoodNode())),
			pvMap("slots", pvArr(101, 16384), "nodes", pvArr(pvGoodNode("id", "b", "ip", "10.0.0.2", "endpoint", "10.0.0.2"))),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == "" {
				from = pvFrom
			}
			claims, err := cluster.ParseShards(tt.v, from, tt.useTLS)
			if !errors.Is(err, cluster.ErrBadTopology) {
				t.Fatalf("ParseShards(%v) = %+v, %v; want ErrBadTopology", tt.v, claims, err)
			}
			if claims != nil {
				t.Errorf("claims %+v returned with error", claims)
			}
		})
	}
}

func TestParseSlotsHostile(t *testing.T) {
	node := pvArr("10.0.0.1", 7000, "aaa")
	tests := []struct {
		name string
		v    resp.Value
		from string
	}{
		{name: "bulk string", v: pvBulk("0 16383")},
		{name: "null", v: resp.Value{Kind: resp.KindNull}},
		{name: "error reply", v: resp.Value{Kind: resp.KindError, Str: "ERR This instance has cluster support disabled"}},
		{name: "entry not an array", v: pvArr("0-16383")},
		{name: "entry without nodes", v: pvArr(pvArr(0, 16383))},
		{name: "entry empty", v: pvArr(pvArr())},
		{name: "start negative", v: pvArr(pvArr(-1, 16383, node))},
		{name: "end too high", v: pvArr(pvArr(0, 16384, node))},
		{name: "start > end", v: pvArr(pvArr(100, 99, node))},
		{name: "start not a number", v: pvArr(pvArr("a", 99, node))},
		{name: "end array", v: pvArr(pvArr(0, pvArr(), node))},
		{name: "node not an array", v: pvArr(pvArr(0, 16383, "10.0.0.1:7000"))},
		{name: "node one element", v: pvArr(pvArr(0, 16383, pvArr("10.0.0.1")))},
		{name: "node empty", v: pvArr(pvArr(0, 16383, pvArr()))},
		{name: "port 0", v: pvArr(pvArr(0, 16383, pvArr("10.0.0.1", 0)))},
		{name: "port 65536", v: pvArr(pvArr(0, 16383, pvArr("10.0.0.1", 65536)))},
		{name: "port not a number", v: pvArr(pvArr(0, 16383, pvArr("10.0.0.1", "http")))},
		{name: "port null", v: pvArr(pvArr(0, 16383, pvArr("10.0.0.1", resp.Value{Kind: resp.KindNull})))},
		{name: "host with space", v: pvArr(pvArr(0, 16383, pvArr("evil host", 7000)))},
		{name: "host with slash", v: pvArr(pvArr(0, 16383, pvArr("10.0.0.1/24", 7000)))},
		{name: "no host, bad from", v: pvArr(pvArr(0, 16383, pvArr("", 7000))), from: "nohost"},
		{name: "bad replica", v: pvArr(pvArr(0, 16383, node, pvArr("10.0.0.2", 0)))},
		{name: "good entry then bad", v: pvArr(pvArr(0, 100, node), pvArr(101, 200))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == "" {
				from = pvFrom
			}
			claims, err := cluster.ParseSlots(tt.v, from)
			if !errors.Is(err, cluster.ErrBadTopology) {
				t.Fatalf("ParseSlots(%v) = %+v, %v; want ErrBadTopology", tt.v, claims, err)
			}
			if claims != nil {
				t.Errorf("claims %+v returned with error", claims)
			}
		})
	}
}

// pvCheckClaims checks what a parser returned for an arbitrary reply.
func pvCheckClaims(t *testing.T, what string, v resp.Value, claims []cluster.Claim, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, cluster.ErrBadTopology) {
			t.Fatalf("%s(%v): error %v does not wrap ErrBadTopology", what, v, err)
		}
		if claims != nil {
			t.Fatalf("%s(%v): claims %+v with error %v", what, v, claims, err)
		}
		return
	}
	for _, c := range claims {
		if c.Start < 0 || c.Start > c.End || c.End > cluster.SlotCount-1 {
			t.Fatalf("%s(%v): claim range %d-%d", what, v, c.Start, c.End)
		}
		if c.Shard.Primary.Addr == "" {
			t.Fatalf("%s(%v): claim %d-%d without a primary address", what, v, c.Start, c.End)
		}
		for _, r := range c.Shard.Replicas {
			if r.Addr == "" {
				t.Fatalf("%s(%v): replica without an address", what, v)
			}
		}
	}
}

func FuzzParseShards(f *testing.F) {
	for _, v := range []resp.Value{pvShardsReply(true), pvShardsReply(false), pvSlotsReply(),
		pvOneShard(pvArr(0, 16383), pvGoodNode("endpoint", "?", "ip", ""))} {
		f.Add(resp.AppendValue(nil, v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := resp.NewReader(bytes.NewReader(data), resp.Limits{}).Read()
		if err != nil {
			return
		}
		for _, useTLS := range []bool{false, true} {
			claims, err := cluster.ParseShards(v, pvFrom, useTLS)
			pvCheckClaims(t, "ParseShards", v, claims, err)
		}
		claims, err := cluster.ParseSlots(v, pvFrom)
		pvCheckClaims(t, "ParseSlots", v, claims, err)
		_ = cluster.ParseEpoch(v)
	})
}
