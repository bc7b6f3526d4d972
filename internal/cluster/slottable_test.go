package cluster

import (
	"fmt"
	"testing"
)

// chunkedTopology is n shards splitting the slots evenly.
func chunkedTopology(n int) *Topology {
	v := View{Epoch: 1}
	for i := range n {
		sh := Shard{Primary: Node{Addr: fmt.Sprintf("10.0.0.%d:7000", i+1)}}
		v.Claims = append(v.Claims, Claim{Start: i * SlotCount / n, End: (i+1)*SlotCount/n - 1, Shard: sh})
	}
	return Merge(v)
}

// A MOVED copies the chunk of the slot it moves and shares every other chunk
// with the topology it patches; only a shard losing its last slot rebuilds
// the table.
func TestWithSlotCopiesOneChunk(t *testing.T) {
	base := chunkedTopology(30)
	n := base.WithSlot(300, base.Shards[5].Primary.Addr)
	for c := range chunkCount {
		shared := n.owner[c] == base.owner[c]
		if want := c != 300/slotsPerChunk; shared != want {
			t.Errorf("chunk %d shared = %v, want %v", c, shared, want)
		}
	}
	if &n.Shards[0] != &base.Shards[0] {
		t.Error("a MOVED to a known primary copied the shard list")
	}
	if n.served[0] != base.served[0]-1 || n.served[5] != base.served[5]+1 || n.Covered() != SlotCount {
		t.Errorf("served %d, %d, covered %d; want %d, %d, %d",
			n.served[0], n.served[5], n.Covered(), base.served[0]-1, base.served[5]+1, SlotCount)
	}

	// Appending a new primary must not write into an array base shares.
	withNew := n.WithSlot(301, "10.0.9.9:7000")
	other := n.WithSlot(302, "10.0.9.8:7000")
	if withNew.Shards[len(withNew.Shards)-1].Primary.Addr != "10.0.9.9:7000" {
		t.Errorf("a second topology's new shard overwrote the first's: %+v", withNew.Shards[len(withNew.Shards)-1])
	}
	if got, _ := other.ShardFor(302); got.Primary.Addr != "10.0.9.8:7000" {
		t.Errorf("slot 302 served by %s", got.Primary.Addr)
	}

	allocs := testing.AllocsPerRun(100, func() { base.WithSlot(1000, base.Shards[7].Primary.Addr) })
	if allocs > 3 {
		t.Errorf("WithSlot made %v allocations, want at most 3 (topology, chunk, counts)", allocs)
	}
}
