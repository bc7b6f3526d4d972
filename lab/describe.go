package lab

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SlotRange is a range of hash slots, both ends included.
type SlotRange struct{ Start, End int }

func (r SlotRange) String() string {
	if r.Start == r.End {
		return strconv.Itoa(r.Start)
	}
	return strconv.Itoa(r.Start) + "-" + strconv.Itoa(r.End)
}

// Contains reports whether slot is in the range.
func (r SlotRange) Contains(slot int) bool { return slot >= r.Start && slot <= r.End }

// NodeInfo is one line of CLUSTER NODES: how one node sees another (or itself).
type NodeInfo struct {
	ID          string
	Addr        string // host:port for clients; empty when unknown (noaddr)
	Flags       []string
	PrimaryID   string // for a replica, its primary's id; otherwise empty
	ConfigEpoch int64
	Connected   bool        // link-state connected
	Slots       []SlotRange // slots it serves (not counting migrations)
	Migrating   []int       // slots being moved away from it
	Importing   []int       // slots being moved to it

	migratingTo map[int]string // per Migrating slot, the id of the node it goes to
}

// Has reports whether the node carries flag, such as "master", "slave",
// "myself", "fail", "fail?", "handshake", "noaddr".
func (i NodeInfo) Has(flag string) bool { return slices.Contains(i.Flags, flag) }

// IsPrimary reports whether the node is a primary in this view.
func (i NodeInfo) IsPrimary() bool { return i.Has("master") }

// Failing reports whether the viewer believes the node is down (fail or fail?).
func (i NodeInfo) Failing() bool { return i.Has("fail") || i.Has("fail?") }

// View is one node's CLUSTER NODES: its picture of the whole cluster.
type View []NodeInfo

func (v View) byID(id string) (NodeInfo, bool) {
	for _, i := range v {
		if i.ID == id {
			return i, true
		}
	}
	return NodeInfo{}, false
}

// Self returns the line of the node that produced the view.
func (v View) Self() (NodeInfo, bool) {
	for _, i := range v {
		if i.Has("myself") {
			return i, true
		}
	}
	return NodeInfo{}, false
}

// Owners returns, for every slot, the id of the primary serving it ("" for
// none).
func (v View) Owners() [16384]string {
	var owners [16384]string
	for _, i := range v {
		if !i.IsPrimary() {
			continue
		}
		for _, r := range i.Slots {
			for s := r.Start; s <= r.End; s++ {
				owners[s] = i.ID
			}
		}
	}
	return owners
}

// ParseClusterNodes parses the text of CLUSTER NODES.
func ParseClusterNodes(text string) (View, error) {
	var view View
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		info, err := parseNodeLine(line)
		if err != nil {
			return nil, err
		}
		view = append(view, info)
	}
	return view, nil
}

// parseNodeLine parses "<id> <ip:port@cport[,hostname]> <flags> <primary>
// <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...".
func parseNodeLine(line string) (NodeInfo, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return NodeInfo{}, fmt.Errorf("lab: malformed CLUSTER NODES line %q", line)
	}
	epoch, err := strconv.ParseInt(f[6], 10, 64)
	if err != nil {
		return NodeInfo{}, fmt.Errorf("lab: bad config epoch in %q", line)
	}
	info := NodeInfo{ID: f[0], Flags: strings.Split(f[2], ","), ConfigEpoch: epoch, Connected: f[7] == "connected"}
	addr, _, _ := strings.Cut(f[1], "@")
	if !strings.HasPrefix(addr, ":") {
		info.Addr = addr
	}
	if f[3] != "-" {
		info.PrimaryID = f[3]
	}
	for _, s := range f[8:] {
		if strings.HasPrefix(s, "[") {
			// "[slot->-target]" migrating, "[slot-<-source]" importing.
			num, dir, _ := strings.Cut(strings.Trim(s, "[]"), "-")
			slot, err := strconv.Atoi(num)
			if err != nil {
				return NodeInfo{}, fmt.Errorf("lab: bad migration %q", s)
			}
			if to, ok := strings.CutPrefix(dir, ">-"); ok {
				info.Migrating = append(info.Migrating, slot)
				if info.migratingTo == nil {
					info.migratingTo = map[int]string{}
				}
				info.migratingTo[slot] = to
			} else {
				info.Importing = append(info.Importing, slot)
			}
			continue
		}
		lo, hi, isRange := strings.Cut(s, "-")
		start, err1 := strconv.Atoi(lo)
		end := start
		var err2 error
		if isRange {
			end, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || start < 0 || end > 16383 || start > end {
			return NodeInfo{}, fmt.Errorf("lab: bad slot range %q", s)
		}
		info.Slots = append(info.Slots, SlotRange{start, end})
	}
	return info, nil
}

// clusterNodes asks the node for its view.
func (n *Node) clusterNodes(ctx context.Context) (View, error) {
	text, err := n.callString(ctx, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	return ParseClusterNodes(text)
}

// eachView runs check on the view of every running member, stopping at the
// first error, so waits can poll "every node agrees that…".
func (c *Cluster) eachView(ctx context.Context, check func(m *Node, view View) error) error {
	for _, m := range c.Nodes() {
		if !m.Running() {
			continue
		}
		view, err := m.clusterNodes(ctx)
		if err != nil {
			return err
		}
		if err := check(m, view); err != nil {
			return err
		}
	}
	return nil
}

// View returns the node's own picture of the cluster (CLUSTER NODES).
func (n *Node) View(ctx context.Context) (View, error) { return n.clusterNodes(ctx) }

// Shard is a primary, its replicas and its slots.
type Shard struct {
	Primary  *Node
	Replicas []*Node
	Slots    []SlotRange
}

// Topology is the cluster as one node sees it, in terms of lab's nodes.
type Topology struct {
	Shards []Shard // one per primary that serves slots, in slot order
	View   View    // the raw view it was built from
}

// Topology asks the running nodes, one after another, until one answers, and
// returns its view of shards. Call WaitStable first for a view all agree on.
func (c *Cluster) Topology(ctx context.Context) (Topology, error) {
	var lastErr error
	for _, n := range c.Nodes() {
		if !n.Running() {
			continue
		}
		view, err := n.clusterNodes(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		return c.topologyOf(view), nil
	}
	return Topology{}, fmt.Errorf("lab: no node answered: %w", lastErr)
}

func (c *Cluster) topologyOf(view View) Topology {
	t := Topology{View: view}
	for _, p := range view {
		if !p.IsPrimary() || len(p.Slots) == 0 {
			continue
		}
		sh := Shard{Primary: c.NodeByID(p.ID), Slots: p.Slots}
		for _, r := range view {
			if r.PrimaryID == p.ID {
				if n := c.NodeByID(r.ID); n != nil {
					sh.Replicas = append(sh.Replicas, n)
				}
			}
		}
		t.Shards = append(t.Shards, sh)
	}
	slices.SortFunc(t.Shards, func(a, b Shard) int { return a.Slots[0].Start - b.Slots[0].Start })
	return t
}

// ShardFor returns the shard serving slot, if any.
func (t Topology) ShardFor(slot int) (Shard, bool) {
	for _, sh := range t.Shards {
		for _, r := range sh.Slots {
			if r.Contains(slot) {
				return sh, true
			}
		}
	}
	return Shard{}, false
}

// PrimaryFor returns the node serving slot as primary, per Topology.
func (c *Cluster) PrimaryFor(ctx context.Context, slot int) (*Node, error) {
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	sh, ok := t.ShardFor(slot)
	if !ok || sh.Primary == nil {
		return nil, fmt.Errorf("lab: no primary serves slot %d", slot)
	}
	return sh.Primary, nil
}

// Primaries returns the nodes serving slots as primaries, in slot order.
func (c *Cluster) Primaries(ctx context.Context) ([]*Node, error) {
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Node
	for _, sh := range t.Shards {
		out = append(out, sh.Primary)
	}
	return out, nil
}

// Info returns the node's INFO text for section ("" for the default set).
func (n *Node) Info(ctx context.Context, section string) (string, error) {
	args := []string{"INFO"}
	if section != "" {
		args = append(args, section)
	}
	return n.callString(ctx, args...)
}
