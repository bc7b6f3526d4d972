package lab

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds the faults a drill injects into a cluster: crashes
// (Kill, Restart), hangs (Pause, Resume) and manual failovers. Each returns a
// Step saying when it began and when its effect was observed.

// respondTimeout bounds the calls that decide whether a node responds at
// all. A paused node never answers; waiting callTimeout for it on every
// round would make a wait as slow as the hung node.
const respondTimeout = 200 * time.Millisecond

// Kill crashes n with SIGKILL. Began is just before the signal, Done when
// the process has exited. The node stays a member of the cluster (the others
// mark it fail) and [Node.Running] becomes false; [Cluster.Restart] brings
// it back. It is an error if n is not running.
func (c *Cluster) Kill(n *Node) (Step, error) {
	return c.signal(n, "kill", (*Server).Kill)
}

// Pause hangs n with SIGSTOP: its connections stay open but it answers
// nothing, to clients or to the cluster bus, until [Cluster.Resume]. Done is
// right after the signal. It is an error if n is not running.
func (c *Cluster) Pause(n *Node) (Step, error) {
	return c.signal(n, "pause", (*Server).Pause)
}

// Resume continues n after [Cluster.Pause] with SIGCONT. Done is right after
// the signal; the node then catches up with the cluster on its own (a
// primary that was failed over meanwhile becomes a replica).
func (c *Cluster) Resume(n *Node) (Step, error) {
	return c.signal(n, "resume", (*Server).Resume)
}

// signal applies a process action (kill, pause, resume) to running node n;
// Began is just before it, Done just after it returned.
func (c *Cluster) signal(n *Node, action string, act func(*Server) error) (Step, error) {
	srv, err := c.running(n, action)
	if err != nil {
		return Step{}, err
	}
	step := Step{Action: action, Node: n.Addr(), Began: time.Now()}
	if err := act(srv); err != nil {
		return Step{}, err
	}
	step.Done = time.Now()
	return step, nil
}

// Restart kills n if it is running and starts it again on the same address
// in the same dir, so it keeps its node id (nodes.conf). Done is when it is
// back: it reports cluster_state:ok and every other responsive running node
// sees it connected and not failing. A primary that was failed over while it
// was down comes back as a replica; one that was not comes back as primary.
// Without a deadline in ctx it waits up to 30 s.
func (c *Cluster) Restart(ctx context.Context, n *Node) (Step, error) {
	if err := c.member(n); err != nil {
		return Step{}, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	step := Step{Action: "restart", Node: n.Addr(), Began: time.Now()}
	if err := n.stop(); err != nil {
		return Step{}, err
	}
	if err := n.start(ctx); err != nil {
		return Step{}, err
	}
	// Close stops the processes it finds; one started after it ran would
	// outlive the cluster.
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		_ = n.stop()
		return Step{}, fmt.Errorf("lab: restart %s: cluster closed", n)
	}
	if err := poll(ctx, n.name+" to rejoin", func() error { return c.checkRejoined(ctx, n) }); err != nil {
		return Step{}, err
	}
	step.Done = time.Now()
	return step, nil
}

// checkRejoined returns nil when n is ok and every other responsive running
// node sees it as a healthy member.
func (c *Cluster) checkRejoined(ctx context.Context, n *Node) error {
	info, err := n.callString(ctx, "CLUSTER", "INFO")
	if err != nil {
		return err
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return fmt.Errorf("%s: cluster_state is not ok", n)
	}
	for _, m := range c.Nodes() {
		if m == n || !m.Running() {
			continue
		}
		view, err := m.quickView(ctx)
		if err != nil {
			continue // paused or wedged: it cannot have an opinion
		}
		mi, ok := view.byID(n.ID())
		if !ok || !mi.Connected || mi.Failing() {
			return fmt.Errorf("%s does not see %s as healthy yet", m, n)
		}
	}
	return nil
}

// FailoverMode chooses how [Cluster.Failover] promotes a replica.
type FailoverMode int

const (
	// FailoverGraceful is CLUSTER FAILOVER: the primary stops writes, the
	// replica catches up, then takes over. No acknowledged write is lost.
	// It needs the primary to be reachable. The zero value.
	FailoverGraceful FailoverMode = iota
	// FailoverForce is CLUSTER FAILOVER FORCE: the replica takes over
	// without the primary's agreement, after an election among primaries.
	FailoverForce
	// FailoverTakeover is CLUSTER FAILOVER TAKEOVER: the replica takes over
	// without an election, bumping its config epoch on its own.
	FailoverTakeover
)

// String returns the mode's Step.Action: "failover", "failover-force" or
// "failover-takeover".
func (m FailoverMode) String() string {
	switch m {
	case FailoverGraceful:
		return "failover"
	case FailoverForce:
		return "failover-force"
	case FailoverTakeover:
		return "failover-takeover"
	}
	return "FailoverMode(" + strconv.Itoa(int(m)) + ")"
}

// command returns the CLUSTER FAILOVER command for the mode.
func (m FailoverMode) command() ([]string, error) {
	switch m {
	case FailoverGraceful:
		return []string{"CLUSTER", "FAILOVER"}, nil
	case FailoverForce:
		return []string{"CLUSTER", "FAILOVER", "FORCE"}, nil
	case FailoverTakeover:
		return []string{"CLUSTER", "FAILOVER", "TAKEOVER"}, nil
	}
	return nil, fmt.Errorf("lab: unknown %v", m)
}

// Failover sends CLUSTER FAILOVER in the given mode to replica. Began is just
// before the command, Done when every running node that responds (a paused
// one does not) sees replica as a primary. Detail is the old primary's
// address. It is an error if replica is not a replica. Without a deadline
// in ctx it waits up to 30 s.
func (c *Cluster) Failover(ctx context.Context, replica *Node, mode FailoverMode) (Step, error) {
	cmd, err := mode.command()
	if err != nil {
		return Step{}, err
	}
	if err := c.member(replica); err != nil {
		return Step{}, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	view, err := replica.clusterNodes(ctx)
	if err != nil {
		return Step{}, err
	}
	self, ok := view.Self()
	if !ok || self.IsPrimary() {
		return Step{}, fmt.Errorf("lab: %v: %s is not a replica", mode, replica)
	}
	step := Step{Action: mode.String(), Node: replica.Addr(), Began: time.Now()}
	if old, ok := view.byID(self.PrimaryID); ok {
		step.Detail = "old primary " + old.Addr
	}
	if _, err := replica.call(ctx, cmd...); err != nil {
		return Step{}, err
	}
	err = poll(ctx, replica.name+" to be primary everywhere", func() error { return c.checkPromoted(ctx, replica) })
	if err != nil {
		return Step{}, err
	}
	step.Done = time.Now()
	return step, nil
}

// checkPromoted returns nil when replica sees itself as primary and so does
// every other responsive running node.
func (c *Cluster) checkPromoted(ctx context.Context, replica *Node) error {
	for _, m := range c.Nodes() {
		if !m.Running() {
			continue
		}
		view, err := m.quickView(ctx)
		if err != nil && m == replica {
			return err
		}
		if err != nil {
			continue // paused or wedged: it cannot have an opinion
		}
		if ri, ok := view.byID(replica.ID()); !ok || !ri.IsPrimary() {
			return fmt.Errorf("%s does not see %s as primary yet", m, replica)
		}
	}
	return nil
}

// ReplicasOf returns the replicas of primary, per [Cluster.Topology],
// including replicas that are down. It is an error if primary does not serve
// slots as a primary in that view.
func (c *Cluster) ReplicasOf(ctx context.Context, primary *Node) ([]*Node, error) {
	t, err := c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	for _, sh := range t.Shards {
		if sh.Primary == primary {
			return sh.Replicas, nil
		}
	}
	return nil, fmt.Errorf("lab: %s is not a primary serving slots", primary)
}

// quickView is clusterNodes with respondTimeout, for checks that skip nodes
// that do not respond.
func (n *Node) quickView(ctx context.Context) (View, error) {
	ctx, cancel := context.WithTimeout(ctx, respondTimeout)
	defer cancel()
	return n.clusterNodes(ctx)
}

// member returns an error unless n is a node of c.
func (c *Cluster) member(n *Node) error {
	if n == nil || n.c != c {
		return fmt.Errorf("lab: %v is not a node of this cluster", n)
	}
	return nil
}

// running returns n's process, or an error naming action if n has none.
func (c *Cluster) running(n *Node, action string) (*Server, error) {
	if err := c.member(n); err != nil {
		return nil, err
	}
	srv := n.Server()
	if srv == nil || !n.Running() {
		return nil, fmt.Errorf("lab: %s %s: not running", action, n)
	}
	return srv, nil
}

// withDefaultTimeout gives ctx the stableTimeout deadline if it has none.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, stableTimeout)
}
