package drill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// Soak is a chaos soak's plan: random faults on random shards for Duration,
// under the scenario's audited workload. Each fault is a short sequence of
// steps that ends with the cluster settled again at full size (a killed
// node is restarted, a paused one resumed, migrated slots moved back), then
// a random gap; the next fault is drawn after it. The same Seed draws the
// same faults in the same order, so a run can be replayed.
type Soak struct {
	// Duration is how long faults are injected: no fault starts after it.
	// The run then waits for the cluster and the client to settle, as any
	// scenario's tail does. Required.
	Duration Duration `json:"duration"`
	// Seed seeds the fault generator. 0 is a seed like any other.
	Seed uint64 `json:"seed"`
	// Faults are the kinds of fault drawn, each equally likely: see
	// [SoakFaults]. Default: every kind available (partition only on a
	// Network scenario's cluster).
	Faults []string `json:"faults,omitempty"`
	// MaxGap bounds the random pause after each fault, drawn uniformly in
	// [0, MaxGap]. Default 2s.
	MaxGap Duration `json:"max_gap,omitempty"`
	// SampleEvery is how often the drill process's goroutines and the
	// client's heap are sampled (report.Soak). Default 2s.
	SampleEvery Duration `json:"sample_every,omitempty"`
}

func (p Soak) withDefaults(network bool) Soak {
	if p.MaxGap == 0 {
		p.MaxGap = Duration(2 * time.Second)
	}
	if p.SampleEvery == 0 {
		p.SampleEvery = Duration(2 * time.Second)
	}
	if len(p.Faults) == 0 {
		for _, f := range soakFaults(network) {
			p.Faults = append(p.Faults, f.name)
		}
	}
	return p
}

// SoakScenario returns the scenario `keel drill soak` runs: plan's faults,
// named "soak"; network runs it on a cluster whose nodes have network
// namespaces of their own (see Scenario.Network), where partitions can be
// drawn too.
func SoakScenario(plan Soak, network bool) Scenario {
	plan = plan.withDefaults(network)
	return Scenario{Name: "soak", Soak: &plan, Network: network, MaxTail: Duration(60 * time.Second),
		Description: fmt.Sprintf("random faults (%s) on random shards for %v, seed %d",
			strings.Join(plan.Faults, ", "), time.Duration(plan.Duration), plan.Seed)}
}

// soakFault is one kind of fault: the steps that inject it on a shard and
// bring the cluster back to its full size, settled.
type soakFault struct {
	name, describe string
	// network says it needs a Network scenario's cluster.
	network bool
	steps   func(r *rand.Rand, target string) []Step
}

// SoakFaults lists the kinds of fault a soak can draw, with what each does,
// as "name: description" lines.
func SoakFaults() []string {
	var out []string
	for _, f := range soakFaults(true) {
		out = append(out, f.name+": "+f.describe)
	}
	return out
}

// soakFaults are the kinds of fault the drill can inject, on a cluster
// with network namespaces or not.
func soakFaults(network bool) []soakFault {
	settle := Step{Action: "wait-stable", Timeout: Duration(60 * time.Second)}
	// A failed primary must have been replaced before it comes back: one
	// restarted first would serve its slots again, empty (the lab's nodes
	// persist nothing).
	failedOver := Step{Action: "wait-failed-over", Timeout: Duration(30 * time.Second)}
	served := Step{Action: "wait-served", Timeout: Duration(30 * time.Second)}
	between := func(r *rand.Rand, lo, hi time.Duration) Duration {
		return Duration(lo + time.Duration(r.Int64N(int64(hi-lo))))
	}
	// fault, wait until the cluster copes, a while later undo, settle.
	undone := func(fault, undo string, waitServed bool) func(*rand.Rand, string) []Step {
		return func(r *rand.Rand, target string) []Step {
			steps := []Step{{Action: fault, Target: target}}
			if waitServed {
				steps = append(steps, failedOver, served)
			}
			return append(steps, Step{After: between(r, 0, 3*time.Second), Action: undo, Target: "last"}, settle)
		}
	}
	once := func(action string) func(*rand.Rand, string) []Step {
		return func(_ *rand.Rand, target string) []Step { return []Step{{Action: action, Target: target}, settle} }
	}
	all := []soakFault{
		{name: "kill", describe: "SIGKILL a primary; once its replica took over, restart it (it rejoins as a replica)",
			steps: undone("kill", "restart", true)},
		{name: "kill-replica", describe: "SIGKILL a replica, then restart it",
			steps: func(r *rand.Rand, target string) []Step {
				return undone("kill", "restart", false)(r, strings.Replace(target, "primary", "replica", 1))
			}},
		{name: "pause", describe: "SIGSTOP a primary; once its replica took over, SIGCONT it (it rejoins as a replica)",
			steps: undone("pause", "resume", true)},
		{name: "stall", describe: "SIGSTOP a primary for 100-600 ms, less than the node timeout: busy, not failed over",
			steps: func(r *rand.Rand, target string) []Step {
				return []Step{{Action: "pause", Target: target},
					{After: between(r, 100*time.Millisecond, 600*time.Millisecond), Action: "resume", Target: "last"}, settle}
			}},
		{name: "failover", describe: "CLUSTER FAILOVER (graceful) on a primary's replica", steps: once("failover")},
		{name: "failover-force", describe: "CLUSTER FAILOVER FORCE on a primary's replica", steps: once("failover-force")},
		{name: "failover-takeover", describe: "CLUSTER FAILOVER TAKEOVER on a primary's replica", steps: once("failover-takeover")},
		{name: "replace", describe: "a new node takes the place of a primary or of a replica",
			steps: func(r *rand.Rand, target string) []Step {
				if r.IntN(2) == 0 {
					target = strings.Replace(target, "primary", "replica", 1)
				}
				return once("replace")(r, target)
			}},
		{name: "migrate", describe: "1-500 slots move from a shard to the next, then back",
			steps: func(r *rand.Rand, target string) []Step {
				return []Step{{Action: "migrate", Target: target, Slots: 1 + r.IntN(500)}, settle,
					{After: between(r, 0, 3*time.Second), Action: "migrate-back"}, settle}
			}},
		// A partitioned primary (packets dropped, no RST) is failed over,
		// then the partition heals: only where nodes have network
		// namespaces (a Network scenario; `keel drill soak -network`).
		{name: "partition", describe: "(with -network) a primary's packets are dropped until its replica took over, then the partition heals",
			network: true, steps: undone("partition", "heal", true)},
	}
	return slices.DeleteFunc(all, func(f soakFault) bool { return f.network && !network })
}

// checkSoak reports the first thing wrong with a soak scenario.
func (s Scenario) checkSoak() error {
	p := s.Soak
	switch {
	case len(s.Steps) > 0 || !s.onCluster() || len(s.Probes) > 0:
		return fmt.Errorf("drill: soak scenario %q: a soak draws its own steps on a cluster and takes no steps or probes", s.Name)
	case p.Duration <= 0:
		return fmt.Errorf("drill: soak scenario %q: the duration must be positive", s.Name)
	case p.MaxGap < 0 || p.SampleEvery < 0:
		return fmt.Errorf("drill: soak scenario %q: negative value", s.Name)
	}
	known := soakFaults(s.Network)
	for _, f := range p.Faults {
		if !slices.ContainsFunc(known, func(k soakFault) bool { return k.name == f }) {
			var names []string
			for _, k := range known {
				names = append(names, k.name)
			}
			return fmt.Errorf("drill: soak scenario %q: unknown fault %q (have: %s)", s.Name, f, strings.Join(names, ", "))
		}
	}
	return nil
}

// soakGenerator draws a soak's faults.
type soakGenerator struct {
	r      *rand.Rand
	faults []soakFault
	shards int
	maxGap time.Duration
}

func newSoakGenerator(p Soak, shards int, network bool) *soakGenerator {
	p = p.withDefaults(network)
	g := &soakGenerator{r: rand.New(rand.NewPCG(p.Seed, 0x6b65656c)), shards: shards, maxGap: time.Duration(p.MaxGap)}
	for _, f := range soakFaults(network) {
		if slices.Contains(p.Faults, f.name) {
			g.faults = append(g.faults, f)
		}
	}
	return g
}

// next draws the next fault and a shard for it, and returns its steps, the
// first of them after a random gap.
func (g *soakGenerator) next() (kind string, steps []Step) {
	f := g.faults[g.r.IntN(len(g.faults))]
	steps = f.steps(g.r, fmt.Sprintf("primary:%d", g.r.IntN(g.shards)))
	if g.maxGap > 0 {
		steps[0].After += Duration(g.r.Int64N(int64(g.maxGap) + 1))
	}
	return f.name, steps
}

// soakRun is a chaos soak's state during its run.
type soakRun struct {
	plan    Soak
	network bool // the cluster's nodes have network namespaces
	sampler *resourceSampler
	// failed are the errors of the steps that failed and that the soak
	// went on past, once the cluster had settled again.
	failed []string
}

// undoActions are the steps that bring a faulted node or moved slots back.
var undoActions = map[string]bool{"restart": true, "resume": true, "heal": true, "migrate-back": true}

// steps injects the soak's faults until its duration has passed: no fault
// starts after it; the one under way finishes, so the cluster is left at
// full size and settled. A step that fails is recorded; the fault's undo
// steps (restart, resume, heal, migrate-back) still run, any slot migration
// the failure left open is finished, and the soak goes on once the cluster
// has settled again. It fails if the cluster does not.
func (sr *soakRun) steps(ctx context.Context, st *stepper) error {
	g := newSoakGenerator(sr.plan, len(st.shards), sr.network)
	end := time.Now().Add(time.Duration(sr.plan.Duration))
	for time.Now().Before(end) {
		_, steps := g.next()
		var failed error
		failedAt := -1
		for i, step := range steps {
			// After a failure, only the undo steps run, and only if the
			// fault itself (the first step) was injected: "last" would
			// otherwise name another fault's node.
			if failed != nil && (failedAt == 0 || !undoActions[step.Action]) {
				continue
			}
			if err := sleep(ctx, time.Duration(step.After)); err != nil {
				return err
			}
			if err := st.do(ctx, step); err != nil {
				if ctx.Err() != nil {
					return err
				}
				if failed == nil {
					failed, failedAt = err, i
					sr.failed = append(sr.failed, fmt.Sprintf("%s %s: %v", step.Action, step.Target, err))
				}
			}
		}
		if failed != nil {
			if err := st.recover(ctx, 2*time.Minute); err != nil {
				return fmt.Errorf("%w, after %w", err, failed)
			}
		}
	}
	return nil
}

// startSoak starts a soak's resource sampler, its first sample at the end
// of the warm-up; it does nothing for other scenarios.
func (rc *runCore) startSoak(sc Scenario) {
	if sc.Soak == nil {
		return
	}
	p := sc.Soak.withDefaults(sc.Network)
	rc.soak = &soakRun{plan: p, network: sc.Network,
		sampler: startResourceSampler(time.Duration(sc.Warmup), time.Duration(p.SampleEvery), rc.load.inflight.Load)}
}

// stopSoak takes the sampler's last sample and stops it.
func (rc *runCore) stopSoak() {
	if rc.soak != nil {
		rc.soak.sampler.stop()
	}
}

// soakFigures is a soak's own report (nil for other scenarios): the
// faults injected, the forced faults' windows, the resources.
func (rc *runCore) soakFigures(duration time.Duration) *report.Soak {
	if rc.soak == nil {
		return nil
	}
	ws := forcedWindows(rc.markers)
	out := &report.Soak{Seed: rc.soak.plan.Seed, DurationMS: ms(time.Duration(rc.soak.plan.Duration)),
		Faults: map[string]int{}, ForcedWindows: len(ws), FailedSteps: rc.soak.failed}
	for shard := range rc.env.slots {
		out.ForcedWindowMS += ms(ws.covered(shard, duration))
	}
	for _, m := range rc.markers {
		if m.Kind == report.MarkStep {
			action, _, _ := strings.Cut(m.Label, " ")
			out.Faults[action]++
		}
	}
	rc.soak.sampler.figures(out)
	return out
}
