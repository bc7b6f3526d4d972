package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// replaceTimeout bounds ReplaceNode and RestartAll when their context has no
// deadline.
const replaceTimeout = 60 * time.Second

// failoverRetry is how long to wait for a CLUSTER FAILOVER to take effect
// before sending it again. A manual failover that cannot complete gives up
// after 5 s (CLUSTER_MF_TIMEOUT) and an election after at least 2 s.
const failoverRetry = 10 * time.Second

// ReplaceNode does what a managed service does during maintenance: a new
// redis-server on a new address joins the cluster, becomes a replica in old's
// shard, syncs, and takes over if old was the primary (a graceful CLUSTER
// FAILOVER, or CLUSTER FAILOVER TAKEOVER when old is not running: what was
// not synced is lost). Then old is shut down, forgotten by every running node
// (CLUSTER FORGET, well within its 60 s ban) and leaves the members. A node
// that serves no slots and follows no primary (say a primary failed over
// while it was down) is replaced in the shard with the fewest replicas.
//
// It returns the new node. The Step has Action "replace", Node old's address
// and Detail the new node's; it is Done when no running node's CLUSTER NODES
// mentions old and [Cluster.WaitStable] succeeds. ctx bounds the replacement
// (default 60 s when it has no deadline). On error the Step has no Done time
// and the new node, if it had joined, stays a member.
func (c *Cluster) ReplaceNode(ctx context.Context, old *Node) (Step, *Node, error) {
	step := Step{Action: "replace", Node: old.Addr(), Began: time.Now()}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, replaceTimeout)
		defer cancel()
	}
	if !slices.Contains(c.Nodes(), old) {
		return step, nil, fmt.Errorf("lab: ReplaceNode: %s is not a member of the cluster", old)
	}
	primary, oldSlots, err := c.shardPrimary(ctx, old)
	if err != nil {
		return step, nil, err
	}

	n, err := c.join(ctx, primary, old)
	if err != nil {
		return step, nil, err
	}
	step.Detail = n.Addr()
	if err := c.attach(ctx, n, primary); err != nil {
		return step, n, err
	}
	switch {
	case primary == old && old.Running():
		// Graceful: old stops writes, n catches up, then they swap.
		if err = c.waitKnowsPrimaries(ctx, n, old); err == nil {
			err = c.promote(ctx, n)
		}
	case primary == old:
		err = c.takeOver(ctx, n, oldSlots)
	}
	if err != nil {
		return step, n, err
	}
	if err := c.waitHandedOver(ctx, old); err != nil {
		return step, n, err
	}

	if err := old.stop(); err != nil {
		return step, n, err
	}
	if err := c.forget(ctx, old); err != nil {
		return step, n, err
	}
	c.retire(old)
	if err := c.WaitStable(ctx); err != nil {
		return step, n, err
	}
	step.Done = time.Now()
	return step, n, nil
}

// shardPrimary returns the primary of the shard a replacement for old joins
// (old itself if it serves slots, or the primary it follows) and the slots
// old serves.
func (c *Cluster) shardPrimary(ctx context.Context, old *Node) (*Node, []SlotRange, error) {
	var view View
	var err error
	if old.Running() {
		view, err = old.clusterNodes(ctx) // old knows its own role best
	} else {
		var t Topology
		t, err = c.Topology(ctx)
		view = t.View
	}
	if err != nil {
		return nil, nil, err
	}
	info, ok := view.byID(old.ID())
	switch {
	case !ok:
		return nil, nil, fmt.Errorf("lab: ReplaceNode: the cluster does not know %s", old)
	case info.PrimaryID != "":
		if p := c.NodeByID(info.PrimaryID); p != nil {
			return p, nil, nil
		}
		return nil, nil, fmt.Errorf("lab: ReplaceNode: %s follows %s, which is not a member", old, info.PrimaryID)
	case len(info.Slots) > 0:
		return old, info.Slots, nil
	}
	// Where Redis's replica migration would send a spare replica.
	var best *Shard
	for _, sh := range c.topologyOf(view).Shards {
		if sh.Primary != nil && sh.Primary != old && (best == nil || len(sh.Replicas) < len(best.Replicas)) {
			best = &sh
		}
	}
	if best == nil {
		return nil, nil, errors.New("lab: ReplaceNode: no shard for the new node")
	}
	return best.Primary, nil, nil
}

// join starts a new node and makes it a member of the cluster, introduced by
// primary if it runs, else by any running member but old.
func (c *Cluster) join(ctx context.Context, primary, old *Node) (*Node, error) {
	via := primary
	if !via.Running() {
		via = nil
		for _, m := range c.Nodes() {
			if m != old && m.Running() {
				via = m
				break
			}
		}
	}
	if via == nil {
		return nil, errors.New("lab: ReplaceNode: no running member to introduce the new node")
	}
	n, err := c.startNewNode(ctx, c.nextName())
	if err != nil {
		return nil, err
	}
	if err := c.meet(ctx, via, n); err != nil {
		_ = n.stop()
		return nil, err
	}
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.nodes = append(c.nodes, n)
	}
	c.mu.Unlock()
	if closed {
		_ = n.stop() // Close has already run and would not stop it
		return nil, errors.New("lab: the cluster is closed")
	}
	c.membershipChanged()
	return n, nil
}

// attach makes n a replica of primary and waits until it has synced (when
// primary runs) and every running node knows it as primary's replica, which
// a failover needs: primaries only vote for a replica they know as such.
func (c *Cluster) attach(ctx context.Context, n, primary *Node) error {
	if err := c.replicate(ctx, n, primary); err != nil {
		return err
	}
	if primary.Running() {
		err := poll(ctx, n.name+" to sync with "+primary.name, func() error {
			repl, err := n.callString(ctx, "INFO", "replication")
			if err != nil {
				return err
			}
			if !strings.Contains(repl, "master_link_status:up") {
				return errors.New("replication link is not up")
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return poll(ctx, "every node to know "+n.name+" as a replica of "+primary.name, func() error {
		return c.eachView(ctx, func(m *Node, view View) error {
			if info, ok := view.byID(n.ID()); !ok || info.PrimaryID != primary.ID() {
				return fmt.Errorf("%s does not know %s as a replica of %s yet", m, n, primary)
			}
			return nil
		})
	})
}

// waitKnowsPrimaries waits until n knows the slots of every primary that
// ref knows, with a cluster bus link to each. A failover's election asks for
// the primaries' votes, and counts them, by what n itself knows of the
// cluster, and a new node learns of the others through gossip: before it
// knows them all, its request reaches too few of them, and the election is
// tried again only 4 s later (twice its 2 s timeout), the old primary's
// writes paused all the while.
func (c *Cluster) waitKnowsPrimaries(ctx context.Context, n, ref *Node) error {
	return poll(ctx, n.name+" to know every primary", func() error {
		view, err := n.clusterNodes(ctx)
		if err != nil {
			return err
		}
		refView, err := ref.clusterNodes(ctx)
		if err != nil {
			return err
		}
		for _, want := range refView {
			if !want.IsPrimary() || len(want.Slots) == 0 || want.Failing() || want.ID == n.ID() {
				continue
			}
			got, ok := view.byID(want.ID)
			switch {
			case !ok || !slices.Equal(got.Slots, want.Slots):
				return fmt.Errorf("%s does not know the slots of %s yet", n, want.Addr)
			case !got.Connected:
				return fmt.Errorf("%s has no cluster bus link to %s yet", n, want.Addr)
			}
		}
		return nil
	})
}

// takeOver makes n, a replica of a primary that is down, the primary of the
// shard without the down primary's consent, and gives it that primary's
// slots.
func (c *Cluster) takeOver(ctx context.Context, n *Node, slots []SlotRange) error {
	if err := c.promote(ctx, n, "TAKEOVER"); err != nil {
		return err
	}
	// n never heard the dead primary announce its slots, so TAKEOVER gave it
	// none of them. It claims them itself; the config epoch TAKEOVER gave it,
	// the highest in the cluster, makes the other nodes accept the claim.
	view, err := n.clusterNodes(ctx)
	if err != nil {
		return err
	}
	owners := view.Owners()
	args := []string{"CLUSTER", "ADDSLOTSRANGE"}
	for _, r := range slots {
		for s := r.Start; s <= r.End; s++ {
			if owners[s] == "" { // else n knew the owner and TAKEOVER moved it
				args = append(args, strconv.Itoa(s), strconv.Itoa(s))
			}
		}
	}
	if len(args) == 2 {
		return nil
	}
	_, err = n.call(ctx, args...)
	return err
}

// promote makes replica n a primary with CLUSTER FAILOVER [mode], sending
// it again when it has not taken effect after failoverRetry.
func (c *Cluster) promote(ctx context.Context, n *Node, mode ...string) error {
	for {
		if _, err := n.call(ctx, append([]string{"CLUSTER", "FAILOVER"}, mode...)...); err != nil {
			return err
		}
		wait, cancel := context.WithTimeout(ctx, failoverRetry)
		err := poll(wait, n.name+" to become primary", func() error {
			view, err := n.clusterNodes(wait)
			if err != nil {
				return err
			}
			if self, ok := view.Self(); !ok || !self.IsPrimary() {
				return errors.New("not a primary yet")
			}
			return nil
		})
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
}

// waitHandedOver waits until old, if it runs, serves no slots and no other
// running node follows it. Then old redirects its clients to the new
// primary instead of dropping them when it stops, and CLUSTER FORGET, which
// refuses to forget a node's own primary, works on every node.
func (c *Cluster) waitHandedOver(ctx context.Context, old *Node) error {
	return poll(ctx, old.name+" to hand over", func() error {
		return c.eachView(ctx, func(m *Node, view View) error {
			self, ok := view.Self()
			switch {
			case !ok:
				return fmt.Errorf("%s: no myself line in CLUSTER NODES", m)
			case m == old && len(self.Slots) > 0:
				return fmt.Errorf("%s still serves slots", m)
			case self.PrimaryID == old.ID():
				return fmt.Errorf("%s still follows %s", m, old)
			}
			return nil
		})
	})
}

// forget sends CLUSTER FORGET for old to every running member but old, and
// waits until none of them mentions old. Once one node forgets old, gossip
// from a node that has not would bring it back after 60 s, so this must not
// linger.
func (c *Cluster) forget(ctx context.Context, old *Node) error {
	for _, m := range c.Nodes() {
		if m == old || !m.Running() {
			continue
		}
		_, err := m.call(ctx, "CLUSTER", "FORGET", old.ID())
		if err != nil && !strings.Contains(err.Error(), "Unknown node") {
			return err
		}
	}
	return poll(ctx, "every node to forget "+old.name, func() error {
		for _, m := range c.Nodes() {
			if m == old || !m.Running() {
				continue
			}
			text, err := m.callString(ctx, "CLUSTER", "NODES")
			if err != nil {
				return err
			}
			if strings.Contains(text, old.ID()) {
				return fmt.Errorf("%s still knows %s", m, old)
			}
		}
		return nil
	})
}
