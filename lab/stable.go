package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// stableTimeout bounds WaitStable when its context has no deadline.
const stableTimeout = 30 * time.Second

// WaitStable waits until the cluster has settled: every running node reports
// cluster_state:ok and knows every other running node as healthy, all of them
// agree on which primary serves every slot, every slot is served by a running
// primary, no slot is being migrated, and every running replica's link to its
// primary is up. Without a deadline in ctx it waits up to 30 s.
func (c *Cluster) WaitStable(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, stableTimeout)
		defer cancel()
	}
	return c.pollAll(ctx, "the cluster to be stable", func() error { return c.checkStable(ctx) })
}

// checkStable returns nil when the cluster is stable, or what is not yet.
func (c *Cluster) checkStable(ctx context.Context) error {
	var running []*Node
	for _, n := range c.Nodes() {
		if n.Running() {
			running = append(running, n)
		}
	}
	if len(running) == 0 {
		return errors.New("no node is running")
	}
	isRunning := make(map[string]bool, len(running))
	for _, n := range running {
		isRunning[n.ID()] = true
	}

	// The first node's view is the reference the others are compared with;
	// the others are checked in parallel.
	ref, err := checkNodeStable(ctx, running[0], running, nil)
	if err != nil {
		return err
	}
	for slot, id := range ref {
		if !isRunning[id] {
			return fmt.Errorf("%s: slot %d is served by no running primary", running[0], slot)
		}
	}
	rest := running[1:]
	return inParallel(len(rest), func(i int) error {
		_, err := checkNodeStable(ctx, rest[i], running, ref)
		return err
	})
}

// checkNodeStable checks one node's part of checkStable: its state, its
// view of the running nodes, no migration, its replication link, and, when
// ref is not nil, that it agrees with ref on every slot's owner. It returns
// the node's slot owners.
func checkNodeStable(ctx context.Context, n *Node, running []*Node, ref *[16384]string) (*[16384]string, error) {
	info, err := n.callString(ctx, "CLUSTER", "INFO")
	if err != nil {
		return nil, err
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return nil, fmt.Errorf("%s: cluster_state is not ok", n)
	}
	view, err := n.clusterNodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range running {
		mi, ok := view.byID(m.ID())
		if !ok {
			return nil, fmt.Errorf("%s does not know %s", n, m)
		}
		if mi.Failing() || mi.Has("handshake") || mi.Has("noaddr") {
			return nil, fmt.Errorf("%s sees %s as %s", n, m, strings.Join(mi.Flags, ","))
		}
	}
	self, ok := view.Self()
	if !ok {
		return nil, fmt.Errorf("%s: no myself line in CLUSTER NODES", n)
	}
	if len(self.Migrating)+len(self.Importing) > 0 {
		return nil, fmt.Errorf("%s: slot migration in progress", n)
	}
	owners := view.Owners()
	if ref != nil && owners != *ref {
		for slot := range owners {
			if owners[slot] != ref[slot] {
				return nil, fmt.Errorf("%s and %s disagree on who serves slot %d", running[0], n, slot)
			}
		}
	}
	if !self.IsPrimary() {
		repl, err := n.callString(ctx, "INFO", "replication")
		if err != nil {
			return nil, err
		}
		if !strings.Contains(repl, "master_link_status:up") {
			return nil, fmt.Errorf("%s: replication link to its primary is not up", n)
		}
	}
	return &owners, nil
}
