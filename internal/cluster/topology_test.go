package cluster_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/keel-go/keel/internal/cluster"
)

// topoShard builds a healthy shard from a primary and replica addresses.
func topoShard(primary string, replicas ...string) cluster.Shard {
	sh := cluster.Shard{Primary: cluster.Node{Addr: primary, ID: "id-" + primary}}
	for _, r := range replicas {
		sh.Replicas = append(sh.Replicas, cluster.Node{Addr: r, ID: "id-" + r})
	}
	return sh
}

func topoClaim(start, end int, sh cluster.Shard) cluster.Claim {
	return cluster.Claim{Start: start, End: end, Shard: sh}
}

// topoOwners returns the primary address serving each slot ("" when none).
func topoOwners(t *cluster.Topology) []string {
	out := make([]string, cluster.SlotCount)
	for s := range cluster.SlotCount {
		if sh, ok := t.ShardFor(s); ok {
			out[s] = sh.Primary.Addr
		}
	}
	return out
}

// topoDeepCopy copies shards including their replica slices.
func topoDeepCopy(shards []cluster.Shard) []cluster.Shard {
	out := slices.Clone(shards)
	for i := range out {
		out[i].Replicas = slices.Clone(out[i].Replicas)
	}
	return out
}

// topoCheck checks that slots lo..hi are all served by primary addr.
func topoCheck(t *testing.T, topo *cluster.Topology, lo, hi int, addr string) {
	t.Helper()
	for s := lo; s <= hi; s++ {
		sh, ok := topo.ShardFor(s)
		switch {
		case addr == "" && ok:
			t.Fatalf("slot %d: served by %s, want uncovered", s, sh.Primary.Addr)
		case addr == "":
		case !ok:
			t.Fatalf("slot %d: uncovered, want %s", s, addr)
		case sh.Primary.Addr != addr:
			t.Fatalf("slot %d: served by %s, want %s", s, sh.Primary.Addr, addr)
		}
	}
}

var (
	topoA = topoShard("10.0.0.1:7000", "10.0.0.11:7000")
	topoB = topoShard("10.0.0.2:7000", "10.0.0.12:7000")
	topoC = topoShard("10.0.0.3:7000", "10.0.0.13:7000", "10.0.0.23:7000")
)

// topoThree is a healthy cluster: A 0-5460, B 5461-10922, C 10923-16383.
func topoThree(t testing.TB) *cluster.Topology {
	t.Helper()
	return cluster.Merge(cluster.View{From: "10.0.0.1:7000", Epoch: 6, Claims: []cluster.Claim{
		topoClaim(0, 5460, topoA),
		topoClaim(5461, 10922, topoB),
		topoClaim(10923, 16383, topoC),
	}})
}

func TestMergeOneView(t *testing.T) {
	topo := topoThree(t)
	if topo.Covered() != cluster.SlotCount {
		t.Fatalf("Covered = %d, want %d", topo.Covered(), cluster.SlotCount)
	}
	if topo.Epoch != 6 {
		t.Errorf("Epoch = %d, want 6", topo.Epoch)
	}
	if !reflect.DeepEqual(topo.Shards, []cluster.Shard{topoA, topoB, topoC}) {
		t.Errorf("Shards = %+v", topo.Shards)
	}
	topoCheck(t, topo, 0, 5460, topoA.Primary.Addr)
	topoCheck(t, topo, 5461, 10922, topoB.Primary.Addr)
	topoCheck(t, topo, 10923, 16383, topoC.Primary.Addr)
	sh, _ := topo.ShardFor(16383)
	if !reflect.DeepEqual(*sh, topoC) {
		t.Errorf("ShardFor(16383) = %+v, want %+v", *sh, topoC)
	}
}

func TestMergeEmpty(t *testing.T) {
	for _, topo := range []*cluster.Topology{
		cluster.Merge(),
		cluster.Merge(cluster.View{From: "a:1", Epoch: 3}),
	} {
		if topo.Covered() != 0 || len(topo.Shards) != 0 || len(topo.Addrs()) != 0 {
			t.Errorf("empty merge: covered %d, shards %v", topo.Covered(), topo.Shards)
		}
		if _, ok := topo.ShardFor(0); ok {
			t.Error("ShardFor(0) on an empty topology: ok")
		}
		if topo.Has("a:1") {
			t.Error("Has(a:1) on an empty topology")
		}
	}
}

func TestMergeClipsRanges(t *testing.T) {
	topo := cluster.Merge(cluster.View{Claims: []cluster.Claim{
		topoClaim(-10, 100, topoA),
		topoClaim(16000, 99999, topoB),
		topoClaim(500, 400, topoC), // empty range: C serves nothing
	}})
	topoCheck(t, topo, 0, 100, topoA.Primary.Addr)
	topoCheck(t, topo, 101, 15999, "")
	topoCheck(t, topo, 16000, 16383, topoB.Primary.Addr)
	if topo.Covered() != 101+384 {
		t.Errorf("Covered = %d, want %d", topo.Covered(), 101+384)
	}
	if topo.Has(topoC.Primary.Addr) {
		t.Error("shard with an empty range kept")
	}
}

func TestMergeHigherEpochWins(t *testing.T) {
	// Epoch 5: A 0-8191, B 8192-16383. Epoch 7 (after a failover and a
	// migration): A 0-8000, C 8001-16383.
	older := cluster.View{From: "10.0.0.1:7000", Epoch: 5, Claims: []cluster.Claim{
		topoClaim(0, 8191, topoA),
		topoClaim(8192, 16383, topoB),
	}}
	newer := cluster.View{From: "10.0.0.3:7000", Epoch: 7, Claims: []cluster.Claim{
		topoClaim(0, 8000, topoA),
		topoClaim(8001, 16383, topoC),
	}}
	for _, order := range [][]cluster.View{{older, newer}, {newer, older}} {
		topo := cluster.Merge(order...)
		if topo.Epoch != 7 {
			t.Errorf("Epoch = %d, want 7", topo.Epoch)
		}
		topoCheck(t, topo, 0, 8000, topoA.Primary.Addr)
		topoCheck(t, topo, 8001, 16383, topoC.Primary.Addr)
		if topo.Has(topoB.Primary.Addr) || topo.Has(topoB.Replicas[0].Addr) {
			t.Errorf("B won no slot but is kept: %+v", topo.Shards)
		}
		if len(topo.Shards) != 2 {
			t.Errorf("%d shards, want 2", len(topo.Shards))
		}
	}
}

func TestMergeLowerEpochFillsUncovered(t *testing.T) {
	// The newer view knows only 0-9999 (B); the older one says A serves
	// everything. The older claim fills what the newer leaves uncovered.
	newer := cluster.View{Epoch: 9, Claims: []cluster.Claim{topoClaim(0, 9999, topoB)}}
	older := cluster.View{Epoch: 2, Claims: []cluster.Claim{topoClaim(0, 16383, topoA)}}
	for _, order := range [][]cluster.View{{older, newer}, {newer, older}} {
		topo := cluster.Merge(order...)
		topoCheck(t, topo, 0, 9999, topoB.Primary.Addr)
		topoCheck(t, topo, 10000, 16383, topoA.Primary.Addr)
		if topo.Covered() != cluster.SlotCount {
			t.Errorf("Covered = %d", topo.Covered())
		}
		if topo.Epoch != 9 {
			t.Errorf("Epoch = %d, want 9", topo.Epoch)
		}
		// Shards are numbered in the order the winning views name them.
		if len(topo.Shards) != 2 || topo.Shards[0].Primary.Addr != topoB.Primary.Addr {
			t.Errorf("Shards = %+v", topo.Shards)
		}
	}
}

func TestMergeEqualEpochsStable(t *testing.T) {
	va := cluster.View{From: "a", Epoch: 3, Claims: []cluster.Claim{topoClaim(0, 16383, topoA)}}
	vb := cluster.View{From: "b", Epoch: 3, Claims: []cluster.Claim{topoClaim(0, 16383, topoB)}}
	vc := cluster.View{From: "c", Epoch: 1, Claims: []cluster.Claim{topoClaim(0, 16383, topoC)}}
	for _, tt := range []struct {
		views []cluster.View
		want  string
	}{
		{[]cluster.View{va, vb}, topoA.Primary.Addr},
		{[]cluster.View{vb, va}, topoB.Primary.Addr},
		{[]cluster.View{vc, vb, va}, topoB.Primary.Addr},
		{[]cluster.View{vc, va, vb}, topoA.Primary.Addr},
	} {
		topo := cluster.Merge(tt.views...)
		topoCheck(t, topo, 0, 16383, tt.want)
		if len(topo.Shards) != 1 {
			t.Errorf("%d shards, want 1", len(topo.Shards))
		}
	}
}

func TestMergeDropsShardsWithoutSlots(t *testing.T) {
	// D claims 0-100 in an old view, but the newest view gives those
	// slots to A; E is only ever a claim of an empty range.
	topoD := topoShard("10.0.0.4:7000", "10.0.0.14:7000")
	topoE := topoShard("10.0.0.5:7000")
	topo := cluster.Merge(
		cluster.View{Epoch: 1, Claims: []cluster.Claim{topoClaim(0, 100, topoD), topoClaim(9, 8, topoE)}},
		cluster.View{Epoch: 2, Claims: []cluster.Claim{topoClaim(0, 8191, topoA), topoClaim(8192, 16383, topoB)}},
	)
	if len(topo.Shards) != 2 {
		t.Fatalf("Shards = %+v, want A and B only", topo.Shards)
	}
	for _, addr := range []string{topoD.Primary.Addr, topoD.Replicas[0].Addr, topoE.Primary.Addr} {
		if topo.Has(addr) {
			t.Errorf("Has(%s) after its shard won no slot", addr)
		}
	}
	// Indices are renumbered: every slot still finds its shard.
	topoCheck(t, topo, 0, 8191, topoA.Primary.Addr)
	topoCheck(t, topo, 8192, 16383, topoB.Primary.Addr)
}

func TestMergeSamePrimaryOneShard(t *testing.T) {
	// A primary named in several claims (several ranges, several views)
	// is one shard; the first claim seen (newest view) gives its nodes.
	topoA2 := topoShard(topoA.Primary.Addr, "10.0.0.99:7000")
	topo := cluster.Merge(
		cluster.View{Epoch: 1, Claims: []cluster.Claim{topoClaim(0, 99, topoA2), topoClaim(200, 299, topoA2)}},
		cluster.View{Epoch: 4, Claims: []cluster.Claim{topoClaim(100, 199, topoA), topoClaim(300, 16383, topoB)}},
	)
	if len(topo.Shards) != 2 {
		t.Fatalf("Shards = %+v", topo.Shards)
	}
	topoCheck(t, topo, 0, 299, topoA.Primary.Addr)
	sh, _ := topo.ShardFor(0)
	if !reflect.DeepEqual(*sh, topoA) {
		t.Errorf("shard of slot 0 = %+v, want the newest view's %+v", *sh, topoA)
	}
}

func TestTopologyAccessors(t *testing.T) {
	topo := topoThree(t)
	want := []string{
		"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000", // primaries first
		"10.0.0.11:7000", "10.0.0.12:7000", "10.0.0.13:7000", "10.0.0.23:7000",
	}
	if got := topo.Addrs(); !slices.Equal(got, want) {
		t.Errorf("Addrs = %v, want %v", got, want)
	}
	for _, a := range want {
		if !topo.Has(a) {
			t.Errorf("Has(%s) = false", a)
		}
	}
	for _, a := range []string{"", "10.0.0.1", "10.0.0.1:7001", "10.0.0.4:7000"} {
		if topo.Has(a) {
			t.Errorf("Has(%q) = true", a)
		}
	}
	partial := cluster.Merge(cluster.View{Claims: []cluster.Claim{topoClaim(10, 19, topoA), topoClaim(16383, 16383, topoB)}})
	if partial.Covered() != 11 {
		t.Errorf("Covered = %d, want 11", partial.Covered())
	}
	for _, s := range []int{0, 9, 20, 16382} {
		if sh, ok := partial.ShardFor(s); ok || sh != nil {
			t.Errorf("ShardFor(%d) = %v, %v; want nil, false", s, sh, ok)
		}
	}
}

func TestWithSlot(t *testing.T) {
	base := topoThree(t)
	beforeShards := topoDeepCopy(base.Shards)
	beforeOwners := topoOwners(base)
	beforeEpoch := base.Epoch

	t.Run("existing shard", func(t *testing.T) {
		n := base.WithSlot(100, topoB.Primary.Addr)
		topoCheck(t, n, 100, 100, topoB.Primary.Addr)
		topoCheck(t, n, 99, 99, topoA.Primary.Addr)
		topoCheck(t, n, 101, 101, topoA.Primary.Addr)
		if !reflect.DeepEqual(n.Shards, beforeShards) {
			t.Errorf("Shards changed: %+v", n.Shards)
		}
		if n.Covered() != cluster.SlotCount || n.Epoch != beforeEpoch {
			t.Errorf("Covered %d, Epoch %d", n.Covered(), n.Epoch)
		}
		if d := cluster.Compare(base, n); d.SlotsMoved != 1 || len(d.Added)+len(d.Removed)+len(d.NewPrimaries) != 0 {
			t.Errorf("Compare = %+v", d)
		}
	})

	t.Run("new primary", func(t *testing.T) {
		const addr = "10.0.0.9:7000"
		n := base.WithSlot(12000, addr)
		if len(n.Shards) != 4 {
			t.Fatalf("%d shards, want 4", len(n.Shards))
		}
		if want := (cluster.Shard{Primary: cluster.Node{Addr: addr}}); !reflect.DeepEqual(n.Shards[3], want) {
			t.Errorf("new shard = %+v, want %+v", n.Shards[3], want)
		}
		topoCheck(t, n, 12000, 12000, addr)
		topoCheck(t, n, 11999, 11999, topoC.Primary.Addr)
		if !n.Has(addr) {
			t.Error("Has(new primary) = false")
		}
		d := cluster.Compare(base, n)
		if d.SlotsMoved != 1 || !slices.Equal(d.Added, []string{addr}) ||
			!slices.Equal(d.NewPrimaries, []string{addr}) || d.Removed != nil {
			t.Errorf("Compare = %+v", d)
		}
		// Moving a further slot to the same address reuses the new shard.
		n2 := n.WithSlot(12001, addr)
		if len(n2.Shards) != 4 {
			t.Errorf("%d shards, want 4", len(n2.Shards))
		}
		topoCheck(t, n2, 12000, 12001, addr)
		if len(n.Shards) != 4 || topoOwners(n)[12001] != topoC.Primary.Addr {
			t.Error("second WithSlot changed the first copy")
		}
	})

	t.Run("already there", func(t *testing.T) {
		n := base.WithSlot(0, topoA.Primary.Addr)
		if n == base {
			t.Error("WithSlot returned the receiver, want a copy")
		}
		if d := cluster.Compare(base, n); !d.Empty() {
			t.Errorf("Compare = %v, want empty", d)
		}
		if !reflect.DeepEqual(n.Shards, base.Shards) || !slices.Equal(topoOwners(n), topoOwners(base)) || n.Epoch != base.Epoch {
			t.Error("WithSlot to the current owner changed the topology")
		}
	})

	t.Run("last slot leaves", func(t *testing.T) {
		small := cluster.Merge(cluster.View{Claims: []cluster.Claim{
			topoClaim(0, 16382, topoA), topoClaim(16383, 16383, topoB),
		}})
		n := small.WithSlot(16383, topoA.Primary.Addr)
		if len(n.Shards) != 1 || n.Has(topoB.Primary.Addr) {
			t.Errorf("Shards = %+v, want B dropped", n.Shards)
		}
		topoCheck(t, n, 0, 16383, topoA.Primary.Addr)
		if len(small.Shards) != 2 {
			t.Error("original lost a shard")
		}
	})

	t.Run("uncovered slot", func(t *testing.T) {
		partial := cluster.Merge(cluster.View{Claims: []cluster.Claim{topoClaim(0, 99, topoA)}})
		n := partial.WithSlot(5000, topoA.Primary.Addr)
		if n.Covered() != 101 || partial.Covered() != 100 {
			t.Errorf("Covered = %d (original %d)", n.Covered(), partial.Covered())
		}
	})

	// None of the above touched base.
	if !reflect.DeepEqual(base.Shards, beforeShards) {
		t.Errorf("base shards modified: %+v", base.Shards)
	}
	if !slices.Equal(topoOwners(base), beforeOwners) {
		t.Error("base slot owners modified")
	}
	if base.Epoch != beforeEpoch || base.Covered() != cluster.SlotCount {
		t.Error("base modified")
	}
}

func TestCompare(t *testing.T) {
	base := topoThree(t)

	t.Run("same", func(t *testing.T) {
		d := cluster.Compare(base, topoThree(t))
		if !d.Empty() || d.String() != "no change" {
			t.Errorf("Compare = %+v %q", d, d)
		}
	})

	t.Run("failover", func(t *testing.T) {
		// C's replica 10.0.0.13 is promoted; C becomes its replica.
		promoted := topoShard("10.0.0.13:7000", "10.0.0.3:7000", "10.0.0.23:7000")
		after := cluster.Merge(cluster.View{Epoch: 7, Claims: []cluster.Claim{
			topoClaim(0, 5460, topoA), topoClaim(5461, 10922, topoB), topoClaim(10923, 16383, promoted),
		}})
		d := cluster.Compare(base, after)
		want := cluster.Diff{SlotsMoved: 5461, NewPrimaries: []string{"10.0.0.13:7000"}}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("Compare = %+v, want %+v", d, want)
		}
		if d.Empty() {
			t.Error("Empty() = true")
		}
		if got, want := d.String(), "5461 slots moved; new primaries 10.0.0.13:7000"; got != want {
			t.Errorf("String = %q, want %q", got, want)
		}
	})

	t.Run("scale in and out", func(t *testing.T) {
		// B leaves, its slots go to A; D and E join as a new shard.
		topoD := topoShard("10.0.0.5:7000", "10.0.0.4:7000")
		after := cluster.Merge(cluster.View{Claims: []cluster.Claim{
			topoClaim(0, 10000, topoA), topoClaim(10001, 10922, topoD), topoClaim(10923, 16383, topoC),
		}})
		d := cluster.Compare(base, after)
		want := cluster.Diff{
			SlotsMoved:   10922 - 5461 + 1,
			Added:        []string{"10.0.0.4:7000", "10.0.0.5:7000"},
			Removed:      []string{"10.0.0.12:7000", "10.0.0.2:7000"},
			NewPrimaries: []string{"10.0.0.5:7000"},
		}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("Compare = %+v, want %+v", d, want)
		}
		wantStr := "5462 slots moved; new primaries 10.0.0.5:7000; added 10.0.0.4:7000,10.0.0.5:7000; removed 10.0.0.12:7000,10.0.0.2:7000"
		if d.String() != wantStr {
			t.Errorf("String = %q, want %q", d.String(), wantStr)
		}
	})

	t.Run("replica only", func(t *testing.T) {
		after := cluster.Merge(cluster.View{Claims: []cluster.Claim{
			topoClaim(0, 5460, topoShard(topoA.Primary.Addr)), // replica gone
			topoClaim(5461, 10922, topoB),
			topoClaim(10923, 16383, topoShard(topoC.Primary.Addr, "10.0.0.13:7000", "10.0.0.23:7000", "10.0.0.33:7000")),
		}})
		d := cluster.Compare(base, after)
		want := cluster.Diff{Added: []string{"10.0.0.33:7000"}, Removed: []string{"10.0.0.11:7000"}}
		if !reflect.DeepEqual(d, want) || d.Empty() {
			t.Errorf("Compare = %+v, want %+v", d, want)
		}
		if d.String() != "added 10.0.0.33:7000; removed 10.0.0.11:7000" {
			t.Errorf("String = %q", d.String())
		}
	})

	t.Run("from nil", func(t *testing.T) {
		d := cluster.Compare(nil, base)
		want := cluster.Diff{
			SlotsMoved:   cluster.SlotCount,
			Added:        slices.Sorted(slices.Values(base.Addrs())),
			NewPrimaries: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
		}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("Compare(nil, t) = %+v, want %+v", d, want)
		}
		if d := cluster.Compare(nil, cluster.Merge()); !d.Empty() {
			t.Errorf("Compare(nil, empty) = %+v", d)
		}
	})

	t.Run("to empty", func(t *testing.T) {
		d := cluster.Compare(base, cluster.Merge())
		if d.SlotsMoved != cluster.SlotCount || len(d.Removed) != 7 || d.Added != nil || d.NewPrimaries != nil {
			t.Errorf("Compare(t, empty) = %+v", d)
		}
	})

	t.Run("partial coverage", func(t *testing.T) {
		a := cluster.Merge(cluster.View{Claims: []cluster.Claim{topoClaim(0, 99, topoA)}})
		b := cluster.Merge(cluster.View{Claims: []cluster.Claim{topoClaim(50, 199, topoA)}})
		if d := cluster.Compare(a, b); d.SlotsMoved != 150 || d.String() != "150 slots moved" {
			t.Errorf("Compare = %+v %q", d, d)
		}
	})
}

// WithPromoted makes a replica its shard's primary, the old primary a
// failed replica, and keeps every slot's shard; a node that is no replica
// changes nothing.
func TestTopologyWithPromoted(t *testing.T) {
	t0 := cluster.Merge(cluster.View{From: "a:1", Epoch: 3, Claims: []cluster.Claim{
		{Start: 0, End: 99, Shard: cluster.Shard{Primary: cluster.Node{Addr: "a:1"}, Replicas: []cluster.Node{{Addr: "b:1", Health: cluster.Loading}, {Addr: "c:1"}}}},
		{Start: 100, End: cluster.SlotCount - 1, Shard: cluster.Shard{Primary: cluster.Node{Addr: "d:1"}}},
	}})
	got := t0.WithPromoted("b:1")
	sh, ok := got.ShardFor(50)
	if !ok || sh.Primary.Addr != "b:1" || sh.Primary.Health != cluster.Online {
		t.Fatalf("slot 50's shard after promoting b:1 = %+v, want b:1 online as primary", sh)
	}
	if len(sh.Replicas) != 2 || sh.Replicas[0].Addr != "c:1" || sh.Replicas[1].Addr != "a:1" || sh.Replicas[1].Health != cluster.Failed {
		t.Errorf("replicas after promoting b:1 = %+v, want c:1 and a failed a:1", sh.Replicas)
	}
	if other, _ := got.ShardFor(200); other.Primary.Addr != "d:1" || got.Epoch != 3 || got.Covered() != cluster.SlotCount {
		t.Errorf("promotion changed the rest: slot 200 served by %s, epoch %d, %d slots covered", other.Primary.Addr, got.Epoch, got.Covered())
	}
	if old, _ := t0.ShardFor(50); old.Primary.Addr != "a:1" {
		t.Errorf("the original topology changed: slot 50 served by %s", old.Primary.Addr)
	}
	for _, addr := range []string{"a:1", "d:1", "x:1"} {
		if t0.WithPromoted(addr) != t0 {
			t.Errorf("WithPromoted(%s), not a replica, returned a new topology", addr)
		}
	}
}
