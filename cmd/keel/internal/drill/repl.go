package drill

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// Replication-group actions: a step of a [Scenario.Replication] scenario.
const (
	// ActionReplFailover is a managed-style graceful failover
	// ([lab.ReplicationGroup.Failover]): writes paused on the primary, a
	// replica caught up and promoted, the name repointed after
	// [replRepointDelay], the old primary demoted.
	ActionReplFailover = "repl-failover"
	// ActionReplKillPrimary kills the primary (SIGKILL), promotes a replica
	// and repoints the name after [replRepointDelay]
	// ([lab.ReplicationGroup.KillPrimary]).
	ActionReplKillPrimary = "repl-kill-primary"
)

// replRepointDelay is how long the lab waits, after promoting the replica,
// before it repoints the primary endpoint's name, as a managed service's
// DNS update lags its promotion.
const replRepointDelay = 500 * time.Millisecond

// replicationShard is the only "shard" of a replication group: every key,
// marker and figure of a replication run is on it.
const replicationShard = 0

// ReplicationScenarios returns the replication-group scenarios: one primary
// and one replica behind a DNS name (the primary endpoint), failed over
// gracefully or by killing the primary. Every client connects to the name.
// `keel drill -scenarios repl` runs them all; each can be named alone too.
func ReplicationScenarios() []Scenario {
	return []Scenario{
		{Name: "repl-failover", Replication: true,
			Description: "replication group behind a DNS name: managed-style graceful failover (writes paused, replica promoted, the name repointed 500ms later, the old primary demoted, paused writes refused with READONLY)",
			Steps:       []Step{{Action: ActionReplFailover}}},
		{Name: "repl-kill-primary", Replication: true,
			Description: "replication group behind a DNS name: the primary is killed (SIGKILL), its replica promoted, the name repointed 500ms later (writes the primary acknowledged but had not yet replicated are lost by the group, as in the real event)",
			Steps:       []Step{{Action: ActionReplKillPrimary}}},
	}
}

// replicationLayout is the layout a replication group looks like to the
// workload: one shard owning every slot (the keys' hash tags mean nothing
// to a server without cluster support).
func replicationLayout(primary string) Layout {
	return Layout{Shards: []ShardLayout{{Primary: primary, Ranges: [][2]int{{0, 16383}}}}}
}

// runReplInLab runs one driver through one replication scenario on a fresh
// group it starts and closes. loadStopped is called once the workload has
// stopped.
//
// The group's own serving is marked from the steps: served from the start,
// unserved when the step began (the pause or the kill), served again when
// the name pointed at the new primary and a write through the name
// succeeded (the lab promotes before it repoints, so the repointing is that
// moment).
func runReplInLab(ctx context.Context, opts Options, sc Scenario, d Driver, seq int, loadStopped func()) report.Run {
	rc := &runCore{driver: d, scenario: sc.Name, work: opts.Workload, bucket: opts.Bucket,
		seq: seq, progress: opts.Progress, log: opts.Logger}
	rc.run = report.Run{Scenario: sc.Name, Client: d.Name()}
	rc.report("starting", 0)
	defer loadStopped()
	g, err := lab.StartReplicationGroup(ctx, lab.ReplicationOptions{Replicas: 1, Binary: opts.Cluster.Binary})
	if err != nil {
		rc.setError(fmt.Errorf("starting the replication group: %w", err))
		return rc.run
	}
	defer g.Close()
	rc.env.target = Target{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Replication: true}
	rc.env.layout = replicationLayout(g.Primary().Addr())
	rc.env.slots = rc.env.layout.FirstSlots()
	if err := rc.open(ctx); err != nil {
		rc.setError(err)
		return rc.run
	}
	stopLoad := rc.start(ctx)
	rc.markers = append(rc.markers, report.Marker{At: 0, Kind: report.MarkServed, Shard: replicationShard, Label: "served by " + g.Primary().Addr()})

	setPhase, stopTicker := rc.reportPhases(sc)
	var servedAt time.Duration
	err = replSteps(ctx, sc, g, rc, setPhase, &servedAt)
	if err != nil {
		rc.setError(err)
	}
	setPhase("recovery")
	rc.replTail(ctx, sc)
	stopLoad()
	stopTicker()
	run := rc.finish(context.WithoutCancel(ctx), nil)
	run.Figures.ReadOnlyAfterServed = readOnlyAfter(rc.load.rec.Samples(), servedAt)
	return run
}

// replSteps waits out the warm-up, then carries out each step after its
// delay, marking it and the group's serving on the timeline; servedAt is set
// to when the group served writes again after the last step.
func replSteps(ctx context.Context, sc Scenario, g *lab.ReplicationGroup, rc *runCore, phase func(string), servedAt *time.Duration) error {
	if err := sleep(ctx, time.Duration(sc.Warmup)); err != nil {
		return err
	}
	phase("fault")
	for _, st := range sc.Steps {
		if err := sleep(ctx, time.Duration(st.After)); err != nil {
			return err
		}
		replicas := g.Replicas()
		if len(replicas) == 0 {
			return fmt.Errorf("drill: %s: the group has no replica", st.Action)
		}
		var step lab.Step
		var err error
		switch st.Action {
		case ActionReplFailover:
			step, err = g.Failover(ctx, replicas[0], replRepointDelay)
		case ActionReplKillPrimary:
			step, err = g.KillPrimary(ctx, replicas[0], replRepointDelay)
		default:
			return fmt.Errorf("drill: action %q is not for a replication group", st.Action)
		}
		label := step.Action + " " + step.Node + " (" + step.Detail + ")"
		if !step.Began.IsZero() {
			at := step.Began.Sub(rc.started)
			rc.markers = append(rc.markers,
				report.Marker{At: at, Kind: report.MarkStep, Shard: replicationShard, Label: label},
				report.Marker{At: at, Kind: report.MarkUnserved, Shard: replicationShard, Label: "unserved"})
		}
		if !step.Done.IsZero() {
			rc.markers = append(rc.markers, report.Marker{At: step.Done.Sub(rc.started), Kind: report.MarkStepDone, Shard: replicationShard, Label: label})
		}
		if err != nil {
			return fmt.Errorf("drill: %s: %w", label, err)
		}
		if err := confirmWritable(ctx, g); err != nil {
			return err
		}
		*servedAt = step.Done.Sub(rc.started)
		rc.markers = append(rc.markers, report.Marker{At: *servedAt, Kind: report.MarkServed, Shard: replicationShard, Label: "served by " + step.Detail})
	}
	return nil
}

// confirmWritable checks that the name points at the new primary and that
// it takes a write through the name, on a fresh standalone client so that
// no state of the client under test is involved.
func confirmWritable(ctx context.Context, g *lab.ReplicationGroup) error {
	host, _, _ := net.SplitHostPort(g.Seed())
	addrs, err := g.Resolver().LookupHost(ctx, host)
	if err != nil {
		return fmt.Errorf("drill: resolving %s: %w", host, err)
	}
	if want := hostOf(g.Primary().Addr()); len(addrs) != 1 || addrs[0] != want {
		return fmt.Errorf("drill: %s resolves to %v, not the new primary %s", host, addrs, want)
	}
	c, err := keel.New(ctx, keel.Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Mode: keel.ModeStandalone})
	if err != nil {
		return fmt.Errorf("drill: confirming the new primary: %w", err)
	}
	defer c.Close()
	if err := c.Set(ctx, "drill:served-probe", "1"); err != nil {
		return fmt.Errorf("drill: the new primary refused a write through %s: %w", host, err)
	}
	return nil
}

func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return host
}

// replTail keeps the workload running after the last step until the client
// has gone Tail without an error, or MaxTail has passed.
func (rc *runCore) replTail(ctx context.Context, sc Scenario) {
	stepsDone := rc.elapsed()
	for ctx.Err() == nil {
		now := rc.elapsed()
		if now-stepsDone >= time.Duration(sc.MaxTail) || now-max(stepsDone, rc.load.lastError()) >= time.Duration(sc.Tail) {
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

// readOnlyAfter counts the READONLY errors of requests started at or after
// served: once the name points at the new primary, a client that still
// writes to the old one surfaces them.
func readOnlyAfter(samples []Sample, served time.Duration) int {
	if served <= 0 {
		return 0
	}
	n := 0
	for _, s := range samples {
		if s.Class == ClassReadOnly && s.Start >= served {
			n++
		}
	}
	return n
}
