package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// stepper carries out a scenario's steps on a lab cluster and marks each on
// the run's timeline.
type stepper struct {
	c         *lab.Cluster
	shards    []int // per shard index: the slot that identifies it (its first slot when the run began)
	served    func(ctx context.Context, timeout time.Duration) error
	mark      func(report.Marker)
	start     time.Time
	last      *lab.Node // the node of the latest step that named one
	lastShard int       // and the shard it belonged to then

	moved *movedSlots // the latest migrate step's slots, for migrate-back
	soak  *soakRun    // a chaos soak's state; nil for other scenarios
}

// do carries out one step.
func (s *stepper) do(ctx context.Context, st Step) error {
	if st.Action == "wait-served" {
		return s.served(ctx, time.Duration(st.Timeout))
	}
	if st.Action == "wait-stable" {
		return s.waitStable(ctx, time.Duration(st.Timeout))
	}
	if st.Action == "migrate-back" {
		return s.migrateBack(ctx)
	}
	if st.Action == "wait-failed-over" {
		return s.waitFailedOver(ctx, time.Duration(st.Timeout))
	}
	if st.Action == "rolling-restart" {
		return s.rollingRestart(ctx)
	}
	if strings.HasPrefix(st.Action, "restart-all") {
		return s.record(-1, func() (lab.Step, error) {
			return s.c.RestartAll(ctx, st.Action == "restart-all-new")
		})
	}
	n, shard, err := s.target(ctx, st.Target)
	if err != nil {
		return err
	}
	s.last, s.lastShard = n, shard
	switch st.Action {
	case "kill":
		return s.record(shard, func() (lab.Step, error) { return s.c.Kill(n) })
	case "pause":
		return s.record(shard, func() (lab.Step, error) { return s.c.Pause(n) })
	case "resume":
		return s.record(shard, func() (lab.Step, error) { return s.c.Resume(n) })
	case "restart":
		return s.record(shard, func() (lab.Step, error) { return s.c.Restart(ctx, n) })
	case "replace":
		return s.record(shard, func() (lab.Step, error) {
			step, _, err := s.c.ReplaceNode(ctx, n)
			return step, err
		})
	case "migrate":
		return s.migrate(ctx, n, shard, st.Slots)
	case "partition":
		return s.record(shard, func() (lab.Step, error) { return s.c.Partition(n) })
	case "heal":
		return s.record(shard, func() (lab.Step, error) { return s.c.Heal(n) })
	case "latency":
		return s.record(shard, func() (lab.Step, error) { return s.c.AddLatency(n, time.Duration(st.Delay)) })
	case "clear-latency":
		return s.record(shard, func() (lab.Step, error) { return s.c.ClearLatency(n) })
	case "failover", "failover-force", "failover-takeover":
		mode := map[string]lab.FailoverMode{"failover": lab.FailoverGraceful,
			"failover-force": lab.FailoverForce, "failover-takeover": lab.FailoverTakeover}[st.Action]
		replica, err := s.replicaFor(ctx, n)
		if err != nil {
			return err
		}
		return s.record(shard, func() (lab.Step, error) { return s.c.Failover(ctx, replica, mode) })
	}
	return fmt.Errorf("drill: unknown action %q", st.Action)
}

// target finds the node a step names, and the shard it belongs to.
func (s *stepper) target(ctx context.Context, t string) (*lab.Node, int, error) {
	role, shard, err := parseTarget(t)
	if err != nil {
		return nil, 0, err
	}
	if role == "last" {
		if s.last == nil {
			return nil, 0, fmt.Errorf("drill: target \"last\" but no earlier step named a node")
		}
		return s.last, s.lastShard, nil
	}
	if shard >= len(s.shards) {
		return nil, 0, fmt.Errorf("drill: target %q: the cluster has %d shards", t, len(s.shards))
	}
	primary, err := s.c.PrimaryFor(ctx, s.shards[shard])
	if err != nil {
		return nil, 0, err
	}
	if role == "primary" {
		return primary, shard, nil
	}
	replica, err := s.replicaFor(ctx, primary)
	return replica, shard, err
}

// replicaFor returns n itself when it is a replica (a "replica:N" or "last"
// target), or a replica of n.
func (s *stepper) replicaFor(ctx context.Context, n *lab.Node) (*lab.Node, error) {
	top, err := s.c.Topology(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(top.Shards, func(sh lab.Shard) bool { return sh.Primary == n }) {
		return n, nil
	}
	replicas, err := s.c.ReplicasOf(ctx, n)
	if err != nil {
		return nil, err
	}
	if len(replicas) == 0 {
		return nil, fmt.Errorf("drill: %v has no replica to fail over to (run with replicas ≥ 1)", n)
	}
	return replicas[0], nil
}

// migrate moves the first count slots of the shard's node to the next shard's primary.
func (s *stepper) migrate(ctx context.Context, from *lab.Node, shard, count int) error {
	if len(s.shards) < 2 {
		return fmt.Errorf("drill: migrate needs two shards")
	}
	to, err := s.c.PrimaryFor(ctx, s.shards[(shard+1)%len(s.shards)])
	if err != nil {
		return err
	}
	top, err := s.c.Topology(ctx)
	if err != nil {
		return err
	}
	var slots []int
	for _, sh := range top.Shards {
		if sh.Primary != from {
			continue
		}
		for _, r := range sh.Slots {
			for x := r.Start; x <= r.End && len(slots) < count; x++ {
				slots = append(slots, x)
			}
		}
	}
	if len(slots) == 0 {
		return fmt.Errorf("drill: %v owns no slots to migrate", from)
	}
	s.moved = &movedSlots{slots: slots, from: from, to: to, shard: shard}
	return s.record(shard, func() (lab.Step, error) {
		return s.c.MigrateSlots(ctx, slots, from, to, lab.MigrateOptions{})
	})
}

// rollingRestart restarts every node in turn, the way an engine upgrade
// does: per shard, the replicas first; then the primary is failed over to a
// replica in sync and restarted.
func (s *stepper) rollingRestart(ctx context.Context) error {
	for shard, slot := range s.shards {
		primary, err := s.c.PrimaryFor(ctx, slot)
		if err != nil {
			return err
		}
		replicas, err := s.c.ReplicasOf(ctx, primary)
		if err != nil {
			return err
		}
		for _, r := range replicas {
			if err := s.record(shard, func() (lab.Step, error) { return s.c.Restart(ctx, r) }); err != nil {
				return err
			}
			if err := waitLinkUp(ctx, r); err != nil {
				return err
			}
		}
		if len(replicas) == 0 {
			if err := s.record(shard, func() (lab.Step, error) { return s.c.Restart(ctx, primary) }); err != nil {
				return err
			}
			continue
		}
		if err := s.record(shard, func() (lab.Step, error) { return s.c.Failover(ctx, replicas[0], lab.FailoverGraceful) }); err != nil {
			return err
		}
		if err := s.record(shard, func() (lab.Step, error) { return s.c.Restart(ctx, primary) }); err != nil {
			return err
		}
		if err := waitLinkUp(ctx, primary); err != nil {
			return err
		}
	}
	return nil
}

// waitLinkUp waits until replica n has finished syncing with its primary,
// so that failing over to it loses nothing.
func waitLinkUp(ctx context.Context, n *lab.Node) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := n.Info(ctx, "replication")
		if err == nil && strings.Contains(info, "master_link_status:up") && !strings.Contains(info, "master_sync_in_progress:1") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: %v did not finish syncing with its primary in 30s", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// record runs one lab action and puts its begin and done marks on the timeline.
func (s *stepper) record(shard int, act func() (lab.Step, error)) error {
	step, err := act()
	label := step.Action
	if step.Node != "" {
		label += " " + step.Node
	}
	if step.Detail != "" {
		label += " (" + step.Detail + ")"
	}
	if !step.Began.IsZero() {
		s.mark(report.Marker{At: step.Began.Sub(s.start), Kind: report.MarkStep, Shard: shard, Label: label})
	}
	if !step.Done.IsZero() {
		s.mark(report.Marker{At: step.Done.Sub(s.start), Kind: report.MarkStepDone, Shard: shard, Label: label})
	}
	if err != nil {
		return fmt.Errorf("drill: %s: %w", label, err)
	}
	return nil
}
