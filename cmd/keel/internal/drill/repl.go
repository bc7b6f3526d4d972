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
// group it starts and closes (see runGroupInLab).
func runReplInLab(ctx context.Context, opts Options, sc Scenario, d Driver, seq int, loadStopped func()) report.Run {
	return runGroupInLab(ctx, opts, sc, d, seq, loadStopped, func(ctx context.Context) (groupLab, error) {
		g, err := lab.StartReplicationGroup(ctx, lab.ReplicationOptions{Replicas: 1, Binary: opts.Cluster.Binary})
		if err != nil {
			return nil, err
		}
		return replLab{g}, nil
	})
}

// replLab is a replication group behind a DNS name, as a groupLab. A step
// stops the group's serving when it begins (the pause or the kill); the
// group serves again when the name points at the new primary and a write
// through the name succeeds (the lab promotes before it repoints, so the
// repointing is that moment).
type replLab struct{ g *lab.ReplicationGroup }

func (r replLab) target() Target {
	return Target{Seeds: []string{r.g.Seed()}, Resolver: r.g.Resolver(), Replication: true}
}

func (r replLab) primary(context.Context) (string, error) { return r.g.Primary().Addr(), nil }

func (r replLab) Close() error { return r.g.Close() }

func (r replLab) do(ctx context.Context, st Step) (groupStep, error) {
	replicas := r.g.Replicas()
	if len(replicas) == 0 {
		return groupStep{}, fmt.Errorf("drill: %s: the group has no replica", st.Action)
	}
	gs := groupStep{unserved: true}
	var err error
	switch st.Action {
	case ActionReplFailover:
		gs.Step, err = r.g.Failover(ctx, replicas[0], replRepointDelay)
	case ActionReplKillPrimary:
		exitedAt := watchExit(r.g.Primary())
		gs.Step, err = r.g.KillPrimary(ctx, replicas[0], replRepointDelay)
		gs.lossUntil = exitedAt()
	default:
		return gs, fmt.Errorf("drill: action %q is not for a replication group", st.Action)
	}
	if err != nil {
		return gs, err
	}
	if err := confirmWritable(ctx, r.g); err != nil {
		return gs, err
	}
	gs.served, gs.servedBy = gs.Done, gs.Detail
	return gs, nil
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
