package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// The fleet benchmark (keel bench -fleet) measures what a fleet of clients
// costs a cluster in topology queries, and how fast the fleet recovers from
// a failover. For each client kind in turn, on a fresh lab cluster of three
// primaries with one replica each:
//
//  1. FleetConfig.Clients clients of that kind start, each writing a key of
//     the watched slot range every FleetConfig.WriteEvery;
//  2. steady state: CONFIG RESETSTAT on every node, FleetConfig.Steady of
//     traffic, INFO commandstats on every node;
//  3. incident: the primary of the watched range is killed (SIGKILL); for
//     FleetConfig.Incident nothing replaces it (the cluster's node timeout
//     is longer), then the commands served in that window are read from the
//     surviving nodes;
//  4. failover: CLUSTER FAILOVER FORCE on its replica. The cluster serves
//     again when a SET on the replica, repeated every millisecond on a
//     connection of the benchmark's own, is accepted; each client recovers
//     at its first successful write after that moment;
//  5. after: the commands served in the FleetConfig.Incident following the
//     failover.
//
// The topology commands counted are CLUSTER SHARDS, SLOTS, NODES, INFO and
// ROLE; the benchmark's own commands are none of them.

// TopologyCommands are the commandstats entries counted, by the name
// INFO commandstats gives them.
var TopologyCommands = []string{"cluster|shards", "cluster|slots", "cluster|nodes", "cluster|info", "role"}

// fullQueries are the commands that return the full topology.
var fullQueries = []string{"cluster|shards", "cluster|slots", "cluster|nodes"}

// FleetConfig configures RunFleet. Zero fields take the defaults.
type FleetConfig struct {
	// Kinds are the client kinds to measure, one at a time. Default
	// ClientNames.
	Kinds []string
	// Clients is how many clients of a kind run together. Default 200.
	Clients int
	// Steady is the steady-state window. Default 20s: two of keel's
	// default RefreshInterval.
	Steady time.Duration
	// Incident is how long the killed primary stays unreplaced, and the
	// window measured after the failover. Default 2s.
	Incident time.Duration
	// WriteEvery is the pause between one client's writes. Default
	// DefaultWriteEvery for Clients.
	WriteEvery time.Duration
	// KeelRefreshInterval sets keel's Options.RefreshInterval. Default 0:
	// keel's default.
	KeelRefreshInterval time.Duration
	// CPUProfileDir, when set, receives a CPU profile of the benchmark's
	// process for each window, fleet-<kind>-<window>.pprof. Default "": none.
	CPUProfileDir string
	// Progress receives a line per step; nil for none.
	Progress io.Writer
}

func (c FleetConfig) withDefaults() FleetConfig {
	if len(c.Kinds) == 0 {
		c.Kinds = ClientNames
	}
	if c.Clients <= 0 {
		c.Clients = 200
	}
	if c.Steady <= 0 {
		c.Steady = 20 * time.Second
	}
	if c.Incident <= 0 {
		c.Incident = 2 * time.Second
	}
	if c.WriteEvery <= 0 {
		c.WriteEvery = DefaultWriteEvery(c.Clients)
	}
	return c
}

// fleetWriteBudget is the fleet's default write rate, all clients
// together: what one process of clients and the lab's six redis-servers
// carry on a 2-core machine with latencies in the millisecond. Above it the
// fleet's steady state already queues (200 clients writing every 10 ms were
// served 14,000 of their 20,000 writes a second, p99 51 ms, before any
// fault), and the recovery times measured would be that queue's, not the
// clients' reaction to the failover.
const fleetWriteBudget = 10_000

// DefaultWriteEvery is the default pause between one client's writes: 10 ms,
// or longer so that the fleet's clients together write at most
// fleetWriteBudget times a second (20 ms for 200 clients). Recovery is
// measured as finely: a client retries its write throughout the incident
// (each is bounded by a second, the next follows within the pause), so its
// recovering write is most often in flight when the cluster serves again;
// one that is between two writes then counts the wait against the client.
func DefaultWriteEvery(clients int) time.Duration {
	return max(10*time.Millisecond, time.Duration(clients)*time.Second/fleetWriteBudget)
}

// Rates are topology commands served per client per second, by
// TopologyCommands name, over one window.
type Rates map[string]float64

// Full is the rate of full-topology queries: CLUSTER SHARDS, SLOTS and NODES.
func (r Rates) Full() float64 {
	var n float64
	for _, c := range fullQueries {
		n += r[c]
	}
	return n
}

// FleetResult is one client kind's measurements.
type FleetResult struct {
	Kind    string
	Clients int
	// Steady, Incident and After are the windows' rates (see FleetConfig).
	Steady, Incident, After Rates
	// RecoveryP50 and RecoveryMax are the clients' recovery times after the
	// cluster served the failed range again; Unrecovered counts the clients
	// with no successful write within recoveryLimit of it.
	RecoveryP50, RecoveryMax time.Duration
	Unrecovered              int
	// Costs are the windows' CPU costs, in order: steady, incident, after.
	Costs []PhaseCost
	// WriteEvery is the pause between one client's writes; SteadyWrites
	// the successful writes per second of the whole fleet in the steady
	// window, and SteadyWriteP99 their 99th percentile latency: a fleet
	// that falls short of Clients/WriteEvery, or whose writes queue, is
	// more than the machine carries.
	WriteEvery     time.Duration
	SteadyWrites   float64
	SteadyWriteP99 time.Duration
}

// RunFleet runs the fleet benchmark for every kind of cfg.Kinds.
func RunFleet(ctx context.Context, cfg FleetConfig) ([]FleetResult, error) {
	cfg = cfg.withDefaults()
	// go-redis logs every failed dial, package-wide: thousands of lines
	// while the primary is down.
	redis.SetLogger(&logging.VoidLogger{})
	var out []FleetResult
	for _, kind := range cfg.Kinds {
		r, err := runFleetKind(ctx, cfg, kind)
		if err != nil {
			return out, fmt.Errorf("fleet %s: %w", kind, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (c FleetConfig) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "fleet: "+format+"\n", args...)
	}
}

// fleetSlot is the slot whose shard fails; every client writes keys of it.
const fleetSlot = 0

func runFleetKind(ctx context.Context, cfg FleetConfig, kind string) (FleetResult, error) {
	res := FleetResult{Kind: kind, Clients: cfg.Clients, WriteEvery: cfg.WriteEvery}
	cfg.progress("%s: starting a 3×1 cluster", kind)
	// The node timeout outlasts the incident window: only the forced
	// failover ends it.
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, Replicas: 1, NodeTimeout: cfg.Incident + 5*time.Second})
	if err != nil {
		return res, err
	}
	defer c.Close()
	primary, replica, err := failingShard(ctx, c)
	if err != nil {
		return res, err
	}

	cfg.progress("%s: starting %d clients", kind, cfg.Clients)
	fleet, err := startFleet(ctx, cfg, kind, c.Addrs())
	if err != nil {
		return res, err
	}
	defer fleet.close()

	live := slices.DeleteFunc(c.Addrs(), func(a string) bool { return a == primary.Addr() })
	measure := func(window string, nodes []string, run func() error) (Rates, error) {
		if err := resetStats(ctx, nodes); err != nil {
			return nil, err
		}
		meter, err := startCost(ctx, kind, window, cfg.CPUProfileDir, nodes, fleet.clients)
		if err != nil {
			return nil, err
		}
		began := time.Now()
		runErr := run()
		cost, err := meter.stop(ctx)
		if runErr != nil {
			return nil, runErr
		}
		if err != nil {
			return nil, err
		}
		res.Costs = append(res.Costs, cost)
		cfg.progress("%s: %s", kind, cost)
		counts, err := countTopology(ctx, nodes)
		if err != nil {
			return nil, err
		}
		r := ratesOf(counts, cfg.Clients, time.Since(began))
		cfg.progress("%s: %s: %s", kind, window, r)
		return r, nil
	}
	sleep := func(d time.Duration) func() error {
		return func() error {
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	// Let every client settle (go-redis loads its slot map lazily).
	if err := sleep(2 * time.Second)(); err != nil {
		return res, err
	}
	steadyFrom := time.Now()
	if res.Steady, err = measure("steady", c.Addrs(), sleep(cfg.Steady)); err != nil {
		return res, err
	}
	var took []time.Duration
	took, res.SteadyWrites = fleet.writesBetween(steadyFrom, time.Now())
	if len(took) > 0 {
		slices.Sort(took)
		res.SteadyWriteP99 = took[len(took)*99/100]
	}
	offered := float64(cfg.Clients) / cfg.WriteEvery.Seconds()
	cfg.progress("%s: steady: %.0f writes/s of %.0f offered, p99 %v", kind, res.SteadyWrites, offered, res.SteadyWriteP99.Round(time.Microsecond))
	if res.SteadyWrites < 0.9*offered {
		cfg.progress("%s: WARNING: the machine does not carry the fleet's writes: recovery times include its queueing (try a longer -fleet-write-every)", kind)
	}
	// The killed node answers nothing, so its counters are neither reset
	// nor read: the incident counts the survivors'.
	res.Incident, err = measure("incident", live, func() error {
		if _, err := c.Kill(primary); err != nil {
			return err
		}
		return sleep(cfg.Incident)()
	})
	if err != nil {
		return res, err
	}
	var served, failover time.Time
	res.After, err = measure("after failover", live, func() error {
		failover = time.Now()
		if served, err = forceFailover(ctx, replica.Addr()); err != nil {
			return err
		}
		return sleep(cfg.Incident)()
	})
	if err != nil {
		return res, err
	}
	times, unrecovered := fleet.recoveries(ctx, served, recoveryLimit)
	res.Unrecovered = unrecovered
	if len(times) > 0 {
		slices.Sort(times)
		res.RecoveryP50, res.RecoveryMax = times[len(times)/2], times[len(times)-1]
	}
	cfg.progress("%s: recovery p50 %v, max %v, %d unrecovered", kind, res.RecoveryP50, res.RecoveryMax, unrecovered)
	if learned := fleet.learned(failover, served); len(learned) > 0 {
		slices.Sort(learned)
		cfg.progress("%s: %d clients installed the new topology: p50 %v, max %v after the cluster served (the failover was sent %v before)",
			kind, len(learned), learned[len(learned)/2], learned[len(learned)-1], served.Sub(failover).Round(time.Microsecond))
	}
	return res, nil
}

// failingShard returns the primary of fleetSlot and its replica, once the
// new cluster's nodes all know the replica.
func failingShard(ctx context.Context, c *lab.Cluster) (primary, replica *lab.Node, err error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err = c.WaitStable(ctx); err == nil {
			if primary, err = c.PrimaryFor(ctx, fleetSlot); err == nil {
				var replicas []*lab.Node
				if replicas, err = c.ReplicasOf(ctx, primary); err == nil && len(replicas) > 0 {
					return primary, replicas[0], nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("no replica of slot %d's primary after 30s: %v", fleetSlot, err)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// recoveryLimit is how long after the failover a client may take to write
// again before it counts as unrecovered: long enough for go-redis's
// periodic reload (every 60 s by default), its only way to learn that a
// dead primary was replaced.
const recoveryLimit = 65 * time.Second

// forceFailover sends CLUSTER FAILOVER FORCE to the replica at addr and
// returns when it first accepted a write of fleetSlot: when the cluster
// served the range again, by its own account.
func forceFailover(ctx context.Context, addr string) (time.Time, error) {
	rc, err := lab.Target{}.Dial(ctx, addr, statsTimeout)
	if err != nil {
		return time.Time{}, err
	}
	defer rc.Close()
	if _, err := rc.Do(statsTimeout, "CLUSTER", "FAILOVER", "FORCE"); err != nil && !strings.Contains(err.Error(), "to a replica") {
		// "You should send CLUSTER FAILOVER to a replica": on a machine too
		// busy for the cluster bus, the election began on its own.
		return time.Time{}, err
	}
	key := lab.KeyInSlot(fleetSlot, "fleet:served")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, err := rc.Do(time.Second, "SET", key, "1", "PX", "60000")
		at := time.Now()
		if err == nil {
			return at, nil
		}
		var re lab.ReplyError
		if !errors.As(err, &re) {
			return time.Time{}, err
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
	return time.Time{}, fmt.Errorf("%s did not accept writes within 30s of CLUSTER FAILOVER FORCE", addr)
}

// fleet is the running clients and their writers.
type fleet struct {
	clients []Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	oks     [][]time.Time     // per client: when each successful write ended
	took    [][]time.Duration // per client: how long each successful write took
	seen    chan struct{}     // closed and replaced at every successful write
	changes [][]time.Time     // per keel client: when it installed a new topology
}

func startFleet(ctx context.Context, cfg FleetConfig, kind string, seeds []string) (*fleet, error) {
	f := &fleet{oks: make([][]time.Time, cfg.Clients), seen: make(chan struct{}),
		took: make([][]time.Duration, cfg.Clients), changes: make([][]time.Time, cfg.Clients)}
	for i := range cfg.Clients {
		cl, err := openFleetClient(ctx, kind, seeds, cfg.KeelRefreshInterval, func(at time.Time) {
			f.mu.Lock()
			f.changes[i] = append(f.changes[i], at)
			f.mu.Unlock()
		})
		if err != nil {
			f.close()
			return nil, err
		}
		f.clients = append(f.clients, cl)
	}
	wctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	for i, cl := range f.clients {
		f.wg.Add(1)
		go f.write(wctx, i, cl, cfg.WriteEvery)
	}
	return f, nil
}

// openFleetClient opens one client of kind; keel with refresh as its
// RefreshInterval when it is set, and changed called when it installs a new
// topology; the others as Open does.
func openFleetClient(ctx context.Context, kind string, seeds []string, refresh time.Duration, changed func(time.Time)) (Client, error) {
	if kind != Keel {
		return Open(ctx, kind, seeds)
	}
	onEvent := func(ev keel.Event) {
		if ev.Kind == keel.EventTopologyChanged {
			changed(ev.Time)
		}
	}
	c, err := keel.New(ctx, keel.Options{Seeds: slices.Clone(seeds), RefreshInterval: refresh, OnEvent: onEvent})
	if err != nil {
		return nil, fmt.Errorf("keel: %w", err)
	}
	return keelClient{c}, nil
}

// write is client i's writer: a SET of a key in fleetSlot every every,
// each bounded by a second, recording when each succeeded.
func (f *fleet) write(ctx context.Context, i int, cl Client, every time.Duration) {
	defer f.wg.Done()
	key := lab.KeyInSlot(fleetSlot, "fleet:"+strconv.Itoa(i))
	t := time.NewTicker(every)
	defer t.Stop()
	for ctx.Err() == nil {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		began := time.Now()
		err := cl.Set(wctx, key, "v")
		ended := time.Now()
		cancel()
		if err == nil {
			f.mu.Lock()
			f.oks[i] = append(f.oks[i], ended)
			f.took[i] = append(f.took[i], ended.Sub(began))
			close(f.seen)
			f.seen = make(chan struct{})
			f.mu.Unlock()
		}
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// recoveries waits, up to limit, until every client wrote successfully
// after served, and returns each recovered client's delay and how many did
// not recover.
func (f *fleet) recoveries(ctx context.Context, served time.Time, limit time.Duration) ([]time.Duration, int) {
	deadline := time.After(limit)
	for {
		f.mu.Lock()
		var times []time.Duration
		for _, oks := range f.oks {
			if j, _ := slices.BinarySearchFunc(oks, served, time.Time.Compare); j < len(oks) {
				times = append(times, oks[j].Sub(served))
			}
		}
		seen := f.seen
		f.mu.Unlock()
		if len(times) == len(f.oks) {
			return times, 0
		}
		select {
		case <-seen:
		case <-deadline:
			return times, len(f.oks) - len(times)
		case <-ctx.Done():
			return times, len(f.oks) - len(times)
		}
	}
}

// writesBetween returns how long each successful write that ended between
// from and to took, and how many ended per second.
func (f *fleet) writesBetween(from, to time.Time) ([]time.Duration, float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var took []time.Duration
	for i, oks := range f.oks {
		j, _ := slices.BinarySearchFunc(oks, from, time.Time.Compare)
		k, _ := slices.BinarySearchFunc(oks, to, time.Time.Compare)
		took = append(took, f.took[i][j:k]...)
	}
	return took, float64(len(took)) / to.Sub(from).Seconds()
}

// learned returns, for each keel client that installed a new topology at or
// after since, the delay from served to the first such change (negative when
// it came before served): the part of recovery spent learning the failover.
func (f *fleet) learned(since, served time.Time) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, ch := range f.changes {
		if j, _ := slices.BinarySearchFunc(ch, since, time.Time.Compare); j < len(ch) {
			out = append(out, ch[j].Sub(served))
		}
	}
	return out
}

func (f *fleet) close() {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	var wg sync.WaitGroup
	for _, cl := range f.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = cl.Close()
		}()
	}
	wg.Wait()
}

// statsTimeout bounds the benchmark's own calls: a cluster flooded with
// topology queries may be slow to answer them.
const statsTimeout = 10 * time.Second

// resetStats sends CONFIG RESETSTAT to every node.
func resetStats(ctx context.Context, nodes []string) error {
	for _, addr := range nodes {
		rc, err := lab.Target{}.Dial(ctx, addr, statsTimeout)
		if err != nil {
			return err
		}
		_, err = rc.Do(statsTimeout, "CONFIG", "RESETSTAT")
		_ = rc.Close()
		if err != nil {
			return fmt.Errorf("%s: CONFIG RESETSTAT: %w", addr, err)
		}
	}
	return nil
}

// countTopology sums the calls of TopologyCommands over the nodes' INFO
// commandstats.
func countTopology(ctx context.Context, nodes []string) (map[string]int64, error) {
	total := map[string]int64{}
	for _, addr := range nodes {
		rc, err := lab.Target{}.Dial(ctx, addr, statsTimeout)
		if err != nil {
			return nil, err
		}
		v, err := rc.Do(statsTimeout, "INFO", "commandstats")
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: INFO commandstats: %w", addr, err)
		}
		text, _ := v.(string)
		for cmd, n := range parseCommandStats(text) {
			total[cmd] += n
		}
	}
	return total, nil
}

// parseCommandStats reads the calls of TopologyCommands from INFO
// commandstats: lines "cmdstat_cluster|shards:calls=12,usec=…".
func parseCommandStats(text string) map[string]int64 {
	out := map[string]int64{}
	for line := range strings.Lines(text) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isStat := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isStat || !slices.Contains(TopologyCommands, name) {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		if n, err := strconv.ParseInt(calls, 10, 64); err == nil {
			out[name] = n
		}
	}
	return out
}

func ratesOf(counts map[string]int64, clients int, window time.Duration) Rates {
	r := Rates{}
	for _, cmd := range TopologyCommands {
		r[cmd] = float64(counts[cmd]) / float64(clients) / window.Seconds()
	}
	return r
}

// String lists the non-zero rates and the full-query total.
func (r Rates) String() string {
	var parts []string
	for _, cmd := range TopologyCommands {
		if r[cmd] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.3f", cmd, r[cmd]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return fmt.Sprintf("full %.3f/client/s (%s)", r.Full(), strings.Join(parts, ", "))
}

// WriteFleetText writes the results as a table.
func WriteFleetText(w io.Writer, results []FleetResult) error {
	_, err := fmt.Fprintf(w, "%-9s %7s  %-22s %-22s %-22s %9s %9s %s\n",
		"client", "clients", "steady full/role /c/s", "incident full/role", "after full/role", "rec p50", "rec max", "unrecovered")
	for _, r := range results {
		if err != nil {
			break
		}
		cell := func(x Rates) string { return fmt.Sprintf("%.3f / %.3f", x.Full(), x["role"]) }
		_, err = fmt.Fprintf(w, "%-9s %7d  %-22s %-22s %-22s %9s %9s %d\n", r.Kind, r.Clients,
			cell(r.Steady), cell(r.Incident), cell(r.After),
			r.RecoveryP50.Round(time.Millisecond), r.RecoveryMax.Round(time.Millisecond), r.Unrecovered)
	}
	return err
}
