package drill

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// ClusterShape is the local cluster each run starts.
type ClusterShape struct {
	// Shards is the number of primaries. Default 3.
	Shards int
	// Replicas per primary. 0 means the default, 1; a negative value means
	// none. Failover scenarios need at least 1.
	Replicas int
	// NodeTimeout is cluster-node-timeout. Default 1s.
	NodeTimeout time.Duration
	// Binary is the redis-server executable. Default: redis-server on PATH.
	Binary string
	// TLS makes the cluster speak TLS only (clients, cluster bus and
	// replication), with certificates lab generates; every client gets the
	// same configuration trusting them. Default false.
	TLS bool
}

func (s ClusterShape) withDefaults() ClusterShape {
	if s.Shards <= 0 {
		s.Shards = 3
	}
	if s.Replicas < 0 {
		s.Replicas = 0
	} else if s.Replicas == 0 {
		s.Replicas = 1
	}
	if s.NodeTimeout <= 0 {
		s.NodeTimeout = time.Second
	}
	return s
}

// Options configure [RunSuite].
type Options struct {
	// Scenarios to run, in order. Default [DefaultScenarios].
	Scenarios []Scenario
	// Drivers are the clients under test, run one after another per
	// scenario. Default: keel only.
	Drivers []Driver
	// Workload is the load every run drives. Zero fields take its defaults.
	Workload Workload
	// Cluster is the local cluster's shape. Zero fields take its defaults.
	Cluster ClusterShape
	// Bucket is the timeline's bucket width. Default 100ms.
	Bucket time.Duration
	// Progress, when set, is called about five times a second during each
	// run and once at the end of each.
	Progress func(Progress)
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if len(o.Scenarios) == 0 {
		o.Scenarios = DefaultScenarios()
	}
	if len(o.Drivers) == 0 {
		o.Drivers = []Driver{KeelDriver{}}
	}
	o.Workload = o.Workload.withDefaults()
	o.Cluster = o.Cluster.withDefaults()
	if o.Bucket <= 0 {
		o.Bucket = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// RunSuite runs every scenario against every driver, each run on a fresh local
// cluster so every client meets the same cluster lifecycle, and returns
// the report. It stops every process it started. A run that fails (a step
// that cannot be carried out, a client that cannot connect) is reported
// with its Error; RunSuite itself fails only when ctx ends or nothing can run.
func RunSuite(ctx context.Context, opts Options) (report.Report, error) {
	opts = opts.withDefaults()
	for _, sc := range opts.Scenarios {
		if err := sc.Check(); err != nil {
			return report.Report{}, err
		}
	}
	defer soakProfiling(opts.Scenarios)()
	rep := newReport("lab", opts.Drivers, opts.Workload, opts.Bucket)
	rep.Settings.Shards, rep.Settings.Replicas = opts.Cluster.Shards, opts.Cluster.Replicas
	if !slices.ContainsFunc(opts.Scenarios, Scenario.onCluster) {
		rep.Settings.Shards, rep.Settings.Replicas = 1, 1 // one primary and its replica
	}
	rep.Settings.NodeTimeoutMS = ms(opts.Cluster.NodeTimeout)
	rep.Settings.TLS = opts.Cluster.TLS
	rep.Machine["redis_server"] = redisVersion(opts.Cluster.Binary)
	type job struct {
		sc Scenario
		d  Driver
	}
	var jobs []job
	for _, sc := range opts.Scenarios {
		rep.Scenarios = append(rep.Scenarios, report.ScenarioInfo{Name: sc.Name, Description: sc.Description})
		for _, d := range opts.Drivers {
			jobs = append(jobs, job{sc.withDefaults(), d})
		}
	}
	// Each run gets a fresh cluster. The next one starts while the current
	// run checks its data and closes (after its workload has stopped, so it
	// disturbs no measurement), which hides redis-server's 2 s start.
	var next <-chan startedCluster
	defer func() {
		if next != nil {
			if sc := <-next; sc.c != nil {
				sc.c.Close()
			}
		}
	}()
	for i, j := range jobs {
		prefetch := func() {
			if i+1 < len(jobs) && jobs[i+1].sc.onCluster() {
				next = startClusterAsync(ctx, opts.Cluster, jobs[i+1].sc.Network)
			}
		}
		var run report.Run
		switch {
		case j.sc.Replication:
			run = runReplInLab(ctx, opts, j.sc, j.d, i+1, prefetch)
		case j.sc.Sentinel:
			run = runSentinelInLab(ctx, opts, j.sc, j.d, i+1, prefetch)
		default:
			if next == nil {
				next = startClusterAsync(ctx, opts.Cluster, j.sc.Network)
			}
			started := <-next
			next = nil
			run = runInLab(ctx, opts, j.sc, j.d, i+1, started, prefetch)
		}
		rep.Runs = append(rep.Runs, run)
		if opts.Progress != nil {
			opts.Progress(Progress{Scenario: j.sc.Name, Client: j.d.Name(), Phase: "done", Run: &run})
		}
		if err := ctx.Err(); err != nil {
			rep.Finished = time.Now()
			return rep, err
		}
	}
	rep.Finished = time.Now()
	return rep, nil
}

// startedCluster is a cluster started in the background, or why it failed.
type startedCluster struct {
	c   *lab.Cluster
	err error
}

// startClusterAsync starts a cluster of shape in the background; network
// puts each node in a network namespace of its own (for Network scenarios)
// instead of on its own 127.x address.
func startClusterAsync(ctx context.Context, shape ClusterShape, network bool) <-chan startedCluster {
	out := make(chan startedCluster, 1)
	go func() {
		c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: shape.Shards,
			Replicas: shape.Replicas, NodeTimeout: shape.NodeTimeout,
			DistinctHosts: !network, NetNamespaces: network, Binary: shape.Binary, TLS: shape.TLS})
		out <- startedCluster{c, err}
	}()
	return out
}

func newReport(mode string, drivers []Driver, w Workload, bucket time.Duration) report.Report {
	rep := report.Report{Schema: "keel-drill/1", Mode: mode, Started: time.Now(),
		Machine: map[string]string{
			"os": runtime.GOOS + "/" + runtime.GOARCH, "cpus": fmt.Sprint(runtime.NumCPU()),
			"go": runtime.Version(),
		},
		Settings: report.Settings{Rate: w.Rate, RequestTimeout: ms(w.Timeout), BucketMS: ms(bucket), Mix: w.Mix()},
	}
	if h, err := os.Hostname(); err == nil {
		rep.Machine["host"] = h
	}
	for _, d := range drivers {
		rep.Clients = append(rep.Clients, report.ClientInfo{Name: d.Name(), Describe: d.Describe()})
	}
	return rep
}

// labDNSName is the name the lab's DNS server gives the cluster.
const labDNSName = "keel-drill.docker.internal"

// runInLab runs one driver through one scenario on the cluster started for
// it, and closes the cluster. loadStopped is called once the workload has
// stopped.
func runInLab(ctx context.Context, opts Options, sc Scenario, d Driver, seq int, started startedCluster, loadStopped func()) report.Run {
	rc := &runCore{driver: d, scenario: sc.Name, work: opts.Workload, bucket: opts.Bucket,
		seq: seq, progress: opts.Progress, log: opts.Logger}
	rc.run = report.Run{Scenario: sc.Name, Client: d.Name()}
	rc.report("starting", 0)
	c, err := started.c, started.err
	if err != nil {
		rc.setError(fmt.Errorf("starting the cluster: %w", err))
		return rc.run
	}
	defer c.Close()
	// Every client finds the cluster through a DNS name, so that a restart
	// on new addresses can be followed. The name ends in .docker.internal
	// on purpose: go-redis rewrites loopback node addresses to the seed's
	// host unless that host looks local (a workaround of its for Docker),
	// which on this all-loopback lab would send every go-redis request to
	// whichever node the name resolves to. Production nodes have routable
	// addresses, where go-redis never rewrites; this name keeps it so here.
	dns, err := c.ServeDNS(labDNSName)
	if err != nil {
		rc.setError(err)
		return rc.run
	}
	// Over TLS, every client verifies the nodes as "localhost", a name every
	// node's certificate carries, whatever 127.x address it has.
	rc.env.target = Target{Seeds: []string{c.Seed()}, Resolver: dns.Resolver(), TLS: c.TLSConfig()}
	if rc.env.layout, err = Discover(ctx, rc.env.target); err != nil {
		rc.setError(err)
		return rc.run
	}
	rc.env.slots = rc.env.layout.FirstSlots()
	if err := rc.open(ctx); err != nil {
		rc.setError(err)
		return rc.run
	}
	w, err := c.Watch(ctx, lab.WatchOptions{Slots: rc.env.slots, ProbeTimeout: watchProbeTimeout(sc)})
	if err != nil {
		rc.client.Close()
		rc.setError(err)
		return rc.run
	}
	stopLoad := rc.start(ctx)
	rc.startProbes(ctx, sc.Probes, w)
	rc.startSoak(sc)

	setPhase, stopTicker := rc.reportPhases(sc)

	st := &stepper{c: c, shards: rc.env.slots, start: rc.started, soak: rc.soak,
		mark: func(m report.Marker) { rc.markers = append(rc.markers, m) },
		served: func(ctx context.Context, timeout time.Duration) error {
			return waitServed(ctx, w, rc.env.slots, timeout)
		}}
	err = scenarioSteps(ctx, sc, st, setPhase)
	if err != nil {
		rc.setError(err)
	}
	if sc.LosesData {
		rc.auditSince, rc.skipCounters = rc.elapsed(), true
	}
	setPhase("recovery")
	rc.tail(ctx, sc, w)
	rc.stopSoak()
	rc.stopProbes(ctx)
	stopLoad()
	stopTicker()
	w.Close()
	loadStopped()
	return rc.finish(context.WithoutCancel(ctx), w.Events())
}

// reportPhases reports the run's progress five times a second, in the phase
// last set (at first "warm-up"), until stop.
func (rc *runCore) reportPhases(sc Scenario) (setPhase func(string), stop func()) {
	var phase atomic.Value
	phase.Store("warm-up")
	maxRun := time.Duration(sc.Warmup) + time.Duration(sc.MaxTail)
	if sc.Soak != nil {
		maxRun += time.Duration(sc.Soak.Duration)
	}
	for _, st := range sc.Steps {
		maxRun += time.Duration(st.After)
	}
	stop = ticker(200*time.Millisecond, func() { rc.report(phase.Load().(string), maxRun) })
	return func(p string) { phase.Store(p) }, stop
}

// scenarioSteps waits out the warm-up, then carries out each step after its delay.
func scenarioSteps(ctx context.Context, sc Scenario, st *stepper, phase func(string)) error {
	if err := sleep(ctx, time.Duration(sc.Warmup)); err != nil {
		return err
	}
	phase("fault")
	if sc.Soak != nil {
		return st.soak.steps(ctx, st)
	}
	for _, step := range sc.Steps {
		if err := sleep(ctx, time.Duration(step.After)); err != nil {
			return err
		}
		if err := st.do(ctx, step); err != nil {
			return err
		}
	}
	return nil
}

// tail keeps the workload running after the last step until every shard is
// served and the client has gone Tail without an error since, or MaxTail
// has passed.
func (rc *runCore) tail(ctx context.Context, sc Scenario, w *lab.Watcher) {
	stepsDone := rc.elapsed()
	for ctx.Err() == nil {
		now := rc.elapsed()
		if now-stepsDone >= time.Duration(sc.MaxTail) {
			return
		}
		quiet := max(stepsDone, rc.load.lastError(), lastServed(w.Events(), rc.env.slots, rc.started))
		if allServed(w.Events(), rc.env.slots) && now-quiet >= time.Duration(sc.Tail) && rc.probesCaughtUp(w) {
			return
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

// probesCaughtUp reports whether every running probe received something
// since the cluster served their shard (shard 0) again after the steps (see
// servedAgain); true while it has not.
func (rc *runCore) probesCaughtUp(w *lab.Watcher) bool {
	if len(rc.probes) == 0 {
		return true
	}
	markers := append(slices.Clone(rc.markers), watchMarkers(w.Events(), rc.env.slots, rc.started)...)
	served := servedAgain(markers, 0)
	for _, p := range rc.probes {
		if p.err == nil && served >= 0 && p.lastReceipt() < served {
			return false
		}
	}
	return true
}

// lastServed is the offset of the latest served event of a watched slot.
func lastServed(events []lab.WatchEvent, slots []int, start time.Time) time.Duration {
	var last time.Duration
	for _, m := range watchMarkers(events, slots, start) {
		if m.Kind == report.MarkServed {
			last = max(last, m.At)
		}
	}
	return last
}

// allServed reports whether the latest event of every watched slot is "served".
func allServed(events []lab.WatchEvent, slots []int) bool {
	state := make(map[int]string, len(slots))
	for _, e := range events {
		if e.Kind == "served" || e.Kind == "unserved" {
			state[e.Slot] = e.Kind
		}
	}
	for _, s := range slots {
		if state[s] != "served" {
			return false
		}
	}
	return true
}

func waitServed(ctx context.Context, w *lab.Watcher, slots []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !allServed(w.Events(), slots) {
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: the cluster did not serve every shard within %v", timeout)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ticker calls f every d until the returned stop is called; stop waits for
// the goroutine to end.
func ticker(d time.Duration, f func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(quit); <-done }
}

// redisVersion asks the redis-server binary for its version: the "v=…"
// field of `redis-server --version`.
func redisVersion(binary string) string {
	if binary == "" {
		var err error
		if binary, err = lab.FindRedisServer(); err != nil {
			return "unknown"
		}
	}
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return strings.TrimSpace(string(out))
}
