package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// Progress is what a run reports while it goes, for a live progress line.
type Progress struct {
	Scenario, Client string
	// Phase is "starting", "warm-up", "fault", "recovery", "checking" or "done".
	Phase string
	// Elapsed is how long the workload has run; Max is the longest it can run.
	Elapsed, Max time.Duration
	OK, Errors   int64
	// Run is set when Phase is "done".
	Run *report.Run
}

// runEnv is a run's cluster, however it was obtained.
type runEnv struct {
	target Target
	layout Layout
	slots  []int // per shard: the slot whose serving marks the shard's
}

// runCore is one client's run through one scenario: everything the lab and
// watch modes share.
type runCore struct {
	env      runEnv
	driver   Driver
	scenario string
	work     Workload
	bucket   time.Duration
	seq      int
	progress func(Progress)
	log      *slog.Logger

	run     report.Run
	markers []report.Marker
	load    *load
	client  Client
	before  goroutineSet
	started time.Time

	// auditSince and skipCounters limit the audit when the scenario loses
	// the cluster's data by design (Scenario.LosesData).
	auditSince   time.Duration
	skipCounters bool
	// lossUntil, when not zero, ends the time in which a killed or demoted
	// primary could acknowledge writes that its group then lost (a kill
	// loses what it had not yet replicated; a Sentinel switchover what it
	// took before the switch was announced): the audit counts the
	// acknowledged writes issued before it that went missing as lost by the
	// server, not by the client. See audit.verify.
	lossUntil time.Duration

	// probes are the scenario's subscribers and consumers (Scenario.Probes).
	probes []*probe

	// soak is a chaos soak's state; nil for other scenarios.
	soak *soakRun
}

// open prepares the keys, then opens the client under test.
func (rc *runCore) open(ctx context.Context) error {
	rc.run = report.Run{Scenario: rc.scenario, Client: rc.driver.Name()}
	ks := newKeyspace(rc.env.layout, runPrefix(rc.scenario, rc.driver.Name(), rc.seq))
	if err := rc.populate(ctx, ks); err != nil {
		return fmt.Errorf("drill: writing the keys to read: %w", err)
	}
	rc.before = goroutines()
	c, err := rc.driver.Open(ctx, rc.env.target)
	if err != nil {
		return fmt.Errorf("drill: opening %s: %w", rc.driver.Name(), err)
	}
	rc.client = c
	rc.load = newLoad(ctx, rc.work, ks, c)
	return nil
}

// checker opens the independent client that writes the keys to read before a
// run and verifies the audit after it: keel, reading from primaries.
func (rc *runCore) checker(ctx context.Context) (*keel.Client, error) {
	// Seeded with every node the run began with too: the given seeds may be
	// the very nodes the run killed or replaced.
	t := rc.env.target
	if t.SentinelMaster != "" {
		return keel.New(ctx, keel.Options{Seeds: t.Seeds, Username: t.Username, Password: t.Password,
			TLS: t.TLS, Mode: keel.ModeSentinel, SentinelMaster: t.SentinelMaster})
	}
	if t.Replication {
		// The name leads to the primary of the moment; the group's old
		// primary may be dead or a replica.
		return keel.New(ctx, keel.Options{Seeds: t.Seeds, Username: t.Username, Password: t.Password,
			TLS: t.TLS, Resolver: resolverOf(t), Mode: keel.ModeReplication})
	}
	seeds := slices.Clone(t.Seeds)
	for _, sh := range rc.env.layout.Shards {
		seeds = append(seeds, sh.Primary)
		seeds = append(seeds, sh.Replicas...)
	}
	return keel.New(ctx, keel.Options{Seeds: seeds, Username: t.Username, Password: t.Password,
		TLS: t.TLS, Resolver: resolverOf(t)})
}

func resolverOf(t Target) keel.Resolver {
	if t.Resolver == nil {
		return nil
	}
	return t.Resolver
}

func (rc *runCore) populate(ctx context.Context, ks *keyspace) error {
	c, err := rc.checker(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var kv []any
	for _, keys := range ks.reads {
		for _, k := range keys {
			kv = append(kv, k, readValue(k))
		}
	}
	return c.MSet(ctx, kv...)
}

// start begins the workload; it runs until stop.
func (rc *runCore) start(ctx context.Context) (stop func()) {
	loadCtx, cancel := context.WithCancel(ctx)
	rc.started = time.Now()
	rc.load.start = rc.started
	rc.run.Started = rc.started
	done := make(chan struct{})
	go func() { defer close(done); rc.load.run(loadCtx) }()
	return func() { cancel(); <-done }
}

func (rc *runCore) elapsed() time.Duration { return time.Since(rc.started) }

func (rc *runCore) report(phase string, maxRun time.Duration) {
	if rc.progress == nil {
		return
	}
	ok, bad := int64(0), int64(0)
	var elapsed time.Duration
	if rc.load != nil && !rc.started.IsZero() {
		ok, bad = rc.load.rec.Counts()
		elapsed = rc.elapsed()
	}
	rc.progress(Progress{Scenario: rc.scenario, Client: rc.driver.Name(), Phase: phase,
		Elapsed: elapsed, Max: maxRun, OK: ok, Errors: bad})
}

// finish stops everything the run started and computes its figures. events
// are the cluster's own served/unserved observations.
func (rc *runCore) finish(ctx context.Context, events []lab.WatchEvent) report.Run {
	rc.report("checking", 0)
	duration := rc.elapsed()
	if !rc.load.drain(rc.work.withDefaults().Timeout + 2*time.Second) {
		rc.log.Warn("requests still in flight after their deadline", "client", rc.driver.Name())
	}
	closeStart := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- rc.client.Close() }()
	select {
	case err := <-closed:
		if err != nil && !errors.Is(err, keel.ErrClosed) {
			rc.log.Warn("close failed", "client", rc.driver.Name(), "err", err)
		}
	case <-time.After(30 * time.Second):
		rc.setError(fmt.Errorf("close did not return within 30s"))
	}
	closeTook := time.Since(closeStart)
	left := leftSince(rc.before, 2*time.Second)

	rc.markers = append(rc.markers, watchMarkers(events, rc.env.slots, rc.started)...)
	fig, shards, timeline := Analyze(RunInput{Shards: len(rc.env.slots), Duration: duration,
		Bucket: rc.bucket, Samples: rc.load.rec.Samples(), Markers: rc.markers})
	fig.CloseMS = ms(closeTook)
	fig.GoroutinesLeft = left
	if a, err := rc.verify(ctx); err != nil {
		rc.setError(fmt.Errorf("verifying the data: %w", err))
	} else {
		fig.LostWrites, fig.LostIncrs, fig.DuplicateIncrs = a.LostWrites, a.LostIncrs, a.DuplicateIncrs
		fig.ServerLostWrites, fig.ServerLostIncrs = a.ServerLostWrites, a.ServerLostIncrs
		rc.run.Soak = rc.soakFigures(duration)
	}
	rc.run.DurationMS = ms(duration)
	rc.run.Figures, rc.run.Shards, rc.run.Timeline = fig, shards, timeline
	rc.run.Markers = MarkersJSON(rc.markers)
	if len(rc.probes) > 0 {
		rc.run.Delivery = rc.probeFigures(ctx, duration)
	}
	for _, m := range rc.markers {
		if m.Kind == report.MarkStep {
			rc.run.FaultMS = ms(m.At)
			break
		}
	}
	return rc.run
}

func (rc *runCore) setError(err error) {
	if rc.run.Error == "" {
		rc.run.Error = err.Error()
	}
}

// verify checks the audit with an independent client, then deletes the run's keys.
func (rc *runCore) verify(ctx context.Context) (auditResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := rc.checker(ctx)
	if err != nil {
		return auditResult{}, err
	}
	defer c.Close()
	var forced windows // losses within a forced fault are the server's: judged so in a soak only
	if rc.soak != nil {
		forced = forcedWindows(rc.markers)
	}
	a, err := rc.load.audit.verify(ctx, c, rc.auditSince, rc.lossUntil, !rc.skipCounters, forced, rc.load.ks.shardOf())
	if err != nil {
		return a, err
	}
	keys := rc.load.audit.keys()
	for _, r := range rc.load.ks.reads {
		keys = append(keys, r...)
	}
	for i := 0; i < len(keys); i += 500 {
		if _, err := c.Del(ctx, keys[i:min(i+500, len(keys))]...); err != nil {
			rc.log.Warn("clean-up failed", "err", err)
			break
		}
	}
	return a, nil
}

// watchMarkers turns the cluster's own observations into markers: served
// and unserved per shard, by the slot that identifies each shard.
func watchMarkers(events []lab.WatchEvent, slots []int, start time.Time) []report.Marker {
	shardOf := make(map[int]int, len(slots))
	for i, s := range slots {
		shardOf[s] = i
	}
	var out []report.Marker
	for _, e := range events {
		shard, ok := shardOf[e.Slot]
		if !ok || (e.Kind != "served" && e.Kind != "unserved") {
			continue
		}
		m := report.Marker{At: max(0, e.At.Sub(start)), Kind: report.MarkerKind(e.Kind), Shard: shard, Label: e.Kind}
		if e.Node != "" {
			m.Label += " by " + e.Node
		}
		out = append(out, m)
	}
	return out
}
