package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// Health is a node's health as the cluster reports it (CLUSTER SHARDS).
type Health uint8

// Health values. CLUSTER SLOTS carries no health, so its nodes are Online.
const (
	Online Health = iota
	Loading
	Failed
)

// Node is one node of a shard, as the topology knows it.
type Node struct {
	Addr   string // host:port to connect to
	ID     string // cluster node id; may be empty (old servers' CLUSTER SLOTS)
	Health Health
}

// Shard is a primary and its replicas.
type Shard struct {
	Primary  Node
	Replicas []Node
}

// Topology is an immutable picture of the cluster: which shard serves each
// slot. It is replaced as a whole, never modified, so routing reads it
// without locks.
type Topology struct {
	Shards []Shard
	// owner[s/slotsPerChunk][s%slotsPerChunk] is 1 + the index in Shards of
	// slot s's shard; 0 when the slot is not served by any shard known. A
	// nil chunk serves nothing. Chunks are shared between topologies and
	// never written once the topology is built, so a MOVED (WithSlot)
	// copies one chunk instead of the whole table.
	owner [chunkCount]*slotChunk
	// served[i] is how many slots Shards[i] serves, so that WithSlot knows
	// without a scan when a shard serves none any more.
	served []int
	// Epoch is the highest cluster current epoch among the views it was
	// built from; 0 when unknown.
	Epoch int64
	// members are the nodes the views listed (View.Members), sorted: with
	// those of Shards, the members of the cluster (see Member).
	members []string
}

// The slot table is split into chunks of slotsPerChunk slots.
const (
	slotsPerChunk = 128
	chunkCount    = SlotCount / slotsPerChunk
)

type slotChunk [slotsPerChunk]uint16

// ownerOf returns 1 + the index in t.Shards of slot's shard, 0 when none.
func (t *Topology) ownerOf(slot int) uint16 {
	c := t.owner[slot/slotsPerChunk]
	if c == nil {
		return 0
	}
	return c[slot%slotsPerChunk]
}

// ShardFor returns the shard serving slot.
func (t *Topology) ShardFor(slot int) (*Shard, bool) {
	i := t.ownerOf(slot)
	if i == 0 {
		return nil, false
	}
	return &t.Shards[i-1], true
}

// Covered reports how many slots have a shard.
func (t *Topology) Covered() int {
	n := 0
	for _, c := range t.served {
		n += c
	}
	return n
}

// Addrs returns every node address in the topology, primaries first.
func (t *Topology) Addrs() []string {
	var out []string
	for _, sh := range t.Shards {
		out = append(out, sh.Primary.Addr)
	}
	for _, sh := range t.Shards {
		for _, r := range sh.Replicas {
			out = append(out, r.Addr)
		}
	}
	return out
}

// Has reports whether addr is a node of the topology.
func (t *Topology) Has(addr string) bool {
	for _, sh := range t.Shards {
		if sh.Primary.Addr == addr {
			return true
		}
		for _, r := range sh.Replicas {
			if r.Addr == addr {
				return true
			}
		}
	}
	return false
}

// Member reports whether addr is a member of the cluster: a node of the
// topology, or one that a view listed although its shard serves no slot.
// Right after a failover, the nodes that have not yet learned that the old
// primary follows the new one list it as a primary without slots, which
// routes nothing but is still on the cluster bus, and receives every
// PUBLISH.
func (t *Topology) Member(addr string) bool {
	if _, ok := slices.BinarySearch(t.members, addr); ok {
		return true
	}
	return t.Has(addr)
}

// Claim is one view's statement that a shard serves slots Start..End.
type Claim struct {
	Start, End int
	Shard      Shard
}

// View is one node's answer to "who serves what", with the cluster current
// epoch it had when it answered.
type View struct {
	From   string // the node that answered
	Epoch  int64
	Claims []Claim
	// Members lists the nodes the answer named, not reported failed,
	// whether or not they serve slots (CLUSTER SHARDS; nil for CLUSTER
	// SLOTS, which names only the nodes of Claims).
	Members []string
}

// Merge builds a topology from several nodes' views. Where views disagree
// about a slot, the claim of the view with the highest current epoch wins,
// the way the cluster itself resolves conflicts: a node that has seen a later
// epoch has seen the later failover. A view that says nothing about a slot
// never takes it from one that does, so an uncovered answer cannot erase a
// covered one.
func Merge(views ...View) *Topology {
	ordered := slices.Clone(views)
	slices.SortStableFunc(ordered, func(a, b View) int {
		switch {
		case a.Epoch > b.Epoch:
			return -1
		case a.Epoch < b.Epoch:
			return 1
		}
		return 0
	})
	t := &Topology{}
	owners := new([SlotCount]uint16)
	index := map[string]int{} // primary address → 1 + index in t.Shards
	for _, v := range ordered {
		t.Epoch = max(t.Epoch, v.Epoch)
		t.members = append(t.members, v.Members...)
		for _, c := range v.Claims {
			i, ok := index[c.Shard.Primary.Addr]
			if !ok {
				t.Shards = append(t.Shards, c.Shard)
				i = len(t.Shards)
				index[c.Shard.Primary.Addr] = i
			}
			for s := max(c.Start, 0); s <= min(c.End, SlotCount-1); s++ {
				if owners[s] == 0 {
					owners[s] = uint16(i)
				}
			}
		}
	}
	t.setOwners(owners)
	slices.Sort(t.members)
	t.members = slices.Compact(t.members)
	return t
}

// setOwners makes owners (which t then owns and never writes again) t's
// slot table, dropping the shards that serve no slot and renumbering the
// rest.
func (t *Topology) setOwners(owners *[SlotCount]uint16) {
	served := make([]int, len(t.Shards)+1)
	for _, o := range owners {
		served[o]++
	}
	renum := make([]uint16, len(t.Shards)+1)
	var kept []Shard
	t.served = nil
	for i, sh := range t.Shards {
		if served[i+1] > 0 {
			kept = append(kept, sh)
			t.served = append(t.served, served[i+1])
			renum[i+1] = uint16(len(kept))
		}
	}
	if len(kept) < len(t.Shards) {
		for s, o := range owners {
			owners[s] = renum[o]
		}
	}
	t.Shards = kept
	for c := range t.owner {
		t.owner[c] = (*slotChunk)(owners[c*slotsPerChunk : (c+1)*slotsPerChunk])
	}
}

// table returns a copy of t's whole slot table.
func (t *Topology) table() *[SlotCount]uint16 {
	owners := new([SlotCount]uint16)
	for c, chunk := range t.owner {
		if chunk != nil {
			copy(owners[c*slotsPerChunk:], chunk[:])
		}
	}
	return owners
}

// WithSlot returns a copy of t in which slot is served by the shard whose
// primary is addr (a new shard when none is), as a MOVED reply says. The copy
// shares all of t's slot table but the chunk that holds slot, so a MOVED
// storm (a migration under load) costs a small copy per MOVED; only when a
// shard loses its last slot is the table rebuilt.
func (t *Topology) WithSlot(slot int, addr string) *Topology {
	n := &Topology{Shards: t.Shards, owner: t.owner, served: slices.Clone(t.served), Epoch: t.Epoch, members: t.members}
	i := slices.IndexFunc(n.Shards, func(sh Shard) bool { return sh.Primary.Addr == addr })
	if i < 0 {
		// Clip: never append into an array another topology shares.
		n.Shards = append(slices.Clip(n.Shards), Shard{Primary: Node{Addr: addr}})
		n.served = append(n.served, 0)
		i = len(n.Shards) - 1
	}
	old := t.ownerOf(slot)
	if old == uint16(i+1) {
		return n
	}
	chunk := new(slotChunk)
	if c := t.owner[slot/slotsPerChunk]; c != nil {
		*chunk = *c
	}
	chunk[slot%slotsPerChunk] = uint16(i + 1)
	n.owner[slot/slotsPerChunk] = chunk
	n.served[i]++
	if old != 0 {
		n.served[old-1]--
		if n.served[old-1] == 0 {
			n.setOwners(n.table())
		}
	}
	return n
}

// WithPromoted returns a copy of t in which the replica at addr is its
// shard's primary, with the old primary among its replicas, marked Failed:
// the failover a replica's ROLE master reports. It returns t when addr is
// no replica in t.
func (t *Topology) WithPromoted(addr string) *Topology {
	for i, sh := range t.Shards {
		j := slices.IndexFunc(sh.Replicas, func(r Node) bool { return r.Addr == addr })
		if j < 0 {
			continue
		}
		old := sh.Primary
		old.Health = Failed
		promoted := sh.Replicas[j]
		promoted.Health = Online
		replicas := append(slices.Delete(slices.Clone(sh.Replicas), j, j+1), old)
		n := *t // the slot table is shared: no slot changes shard
		n.Shards = slices.Clone(t.Shards)
		n.Shards[i] = Shard{Primary: promoted, Replicas: replicas}
		return &n
	}
	return t
}

// Diff describes how b differs from a, for events and logs: slots that
// changed shard and nodes that appeared or left.
type Diff struct {
	SlotsMoved int
	Added      []string
	Removed    []string
	// NewPrimaries lists addresses that are primaries in b but were not in a.
	NewPrimaries []string
}

// Empty reports whether the topologies route identically.
func (d Diff) Empty() bool {
	return d.SlotsMoved == 0 && len(d.Added) == 0 && len(d.Removed) == 0 && len(d.NewPrimaries) == 0
}

func (d Diff) String() string {
	var parts []string
	if d.SlotsMoved > 0 {
		parts = append(parts, fmt.Sprintf("%d slots moved", d.SlotsMoved))
	}
	if len(d.NewPrimaries) > 0 {
		parts = append(parts, "new primaries "+strings.Join(d.NewPrimaries, ","))
	}
	if len(d.Added) > 0 {
		parts = append(parts, "added "+strings.Join(d.Added, ","))
	}
	if len(d.Removed) > 0 {
		parts = append(parts, "removed "+strings.Join(d.Removed, ","))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, "; ")
}

// Compare returns the difference from a to b. A nil a is an empty topology.
func Compare(a, b *Topology) Diff {
	if a == nil {
		a = &Topology{}
	}
	var d Diff
	// A slot moved when its primary's address differs: compare shard
	// indices, a's mapped to b's by primary address, rather than 16384 pairs
	// of strings.
	inB := make(map[string]uint16, len(b.Shards))
	for j, sh := range b.Shards {
		inB[sh.Primary.Addr] = uint16(j + 1)
	}
	toB := make([]uint16, len(a.Shards)+1) // toB[0] = 0: uncovered in both
	for i, sh := range a.Shards {
		j, ok := inB[sh.Primary.Addr]
		if !ok {
			j = noShard
		}
		toB[i+1] = j
	}
	for s := range SlotCount {
		if toB[a.ownerOf(s)] != b.ownerOf(s) {
			d.SlotsMoved++
		}
	}
	before, after := nodeSet(a), nodeSet(b)
	for addr := range after {
		if !before[addr] {
			d.Added = append(d.Added, addr)
		}
	}
	for addr := range before {
		if !after[addr] {
			d.Removed = append(d.Removed, addr)
		}
	}
	oldPrimaries := map[string]bool{}
	for _, sh := range a.Shards {
		oldPrimaries[sh.Primary.Addr] = true
	}
	for _, sh := range b.Shards {
		if !oldPrimaries[sh.Primary.Addr] {
			d.NewPrimaries = append(d.NewPrimaries, sh.Primary.Addr)
		}
	}
	slices.Sort(d.Added)
	slices.Sort(d.Removed)
	slices.Sort(d.NewPrimaries)
	return d
}

// noShard is a shard index no topology uses.
const noShard = ^uint16(0)

func nodeSet(t *Topology) map[string]bool {
	m := map[string]bool{}
	for _, a := range t.Addrs() {
		m[a] = true
	}
	return m
}
