package cluster

import (
	"errors"
	"testing"

	"github.com/keel-go/keel/resp"
)

// topoOf builds a topology from primary address → slot ranges [start, end].
func topoOf(owners map[string][][2]int) *Topology {
	var v View
	for addr, ranges := range owners {
		for _, r := range ranges {
			v.Claims = append(v.Claims, Claim{Start: r[0], End: r[1], Shard: Shard{Primary: Node{Addr: addr}}})
		}
	}
	return Merge(v)
}

func slotRange(from, to int) []int {
	var out []int
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func mustTarget(t *testing.T, s *Scan, topo *Topology, want string, wantAsking bool) {
	t.Helper()
	addr, asking, err := s.target(topo)
	if err != nil || addr != want || asking != wantAsking {
		t.Fatalf("target = %q, asking %v, %v; want %q, asking %v", addr, asking, err, want, wantAsking)
	}
}

func TestScanTargetFollowsTheShard(t *testing.T) {
	start := topoOf(map[string][][2]int{"a:1": {{0, 8191}}, "b:1": {{8192, 16383}}})
	s := &Scan{name: "SCAN", slots: slotRange(0, 8191), cursor: "0"}
	mustTarget(t, s, start, "a:1", false)

	// Slot 0, the shard's first, moves to b; the rest stays on a: the scan
	// stays where its cursor is good.
	moved := topoOf(map[string][][2]int{"a:1": {{1, 8191}}, "b:1": {{0, 0}, {8192, 16383}}})
	mustTarget(t, s, moved, "a:1", false)

	// A failover: a2 now serves a's slots. The scan follows them.
	failedOver := topoOf(map[string][][2]int{"a2:1": {{1, 8191}}, "b:1": {{0, 0}, {8192, 16383}}})
	mustTarget(t, s, failedOver, "a2:1", false)

	// Nobody serves the shard's slots.
	uncovered := topoOf(map[string][][2]int{"b:1": {{8192, 16383}}})
	if _, _, err := s.target(uncovered); !errors.Is(err, ErrSlotUncovered) {
		t.Fatalf("target with the shard's slots uncovered: %v, want ErrSlotUncovered", err)
	}
}

func TestScanTargetAsk(t *testing.T) {
	topo := topoOf(map[string][][2]int{"a:1": {{0, 16383}}})
	s := KeyScan("HSCAN", "k")
	mustTarget(t, s, topo, "a:1", false)
	s.ask, s.askTopo = "b:1", topo
	mustTarget(t, s, topo, "b:1", true) // ASKING to b while the slot migrates
	next := topoOf(map[string][][2]int{"b:1": {{0, 16383}}})
	mustTarget(t, s, next, "b:1", false) // the topology changed: routed as usual
	if s.ask != "" {
		t.Fatalf("ask %q kept after a topology change", s.ask)
	}
}

func TestParseScanReply(t *testing.T) {
	bulk := func(s string) resp.Value { return resp.Value{Kind: resp.KindBulkString, Str: s} }
	good := resp.Value{Kind: resp.KindArray, Elems: []resp.Value{
		bulk("17"), {Kind: resp.KindArray, Elems: []resp.Value{bulk("k1"), bulk("k2")}},
	}}
	cursor, elems, err := parseScanReply(good)
	if err != nil || cursor != "17" || len(elems) != 2 || elems[1].Str != "k2" {
		t.Fatalf("parseScanReply = %q, %v, %v", cursor, elems, err)
	}
	for _, bad := range []resp.Value{
		bulk("0"),
		{Kind: resp.KindArray, Elems: []resp.Value{bulk("0")}},
		{Kind: resp.KindArray, Elems: []resp.Value{bulk("0"), bulk("k")}},
		{Kind: resp.KindArray, Elems: []resp.Value{{Kind: resp.KindArray}, {Kind: resp.KindArray}}},
	} {
		if _, _, err := parseScanReply(bad); !errors.Is(err, resp.ErrType) {
			t.Errorf("parseScanReply(%s): %v, want resp.ErrType", bad, err)
		}
	}
}
