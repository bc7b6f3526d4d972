package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
)

// Config says what Run measures. Zero fields take the defaults below.
type Config struct {
	// Seeds are addresses of the cluster's nodes. Required.
	Seeds []string
	// Workloads, Goroutines and Clients span the matrix. Default: every
	// workload, 1, 16, 64 and 256 goroutines, every client.
	Workloads  []Workload
	Goroutines []int
	Clients    []string
	// Duration is one client's measured window in one round of a cell.
	// Default 2s.
	Duration time.Duration
	// Warmup runs the load unmeasured before each window. Default 50ms;
	// negative for none.
	Warmup time.Duration
	// Rounds is how many times each cell runs every client, interleaved
	// (see Run). Default 2.
	Rounds int
	// Keys is the number of read keys (and of write keys). Default 10000,
	// at least 100 (one PIPE100 batch).
	Keys int
	// MemoryClients is how many clients of each library the memory
	// measurement (see Memory) opens together. Default
	// DefaultMemoryClients; negative for no memory measurement.
	MemoryClients int
	// NoLimit skips measuring the servers' limit for each workload with
	// redis-benchmark (see Limit). Default false: measured, Rounds times
	// per workload, just before the workload's cells.
	NoLimit bool
	// Progress, when set, gets a line per cell as the run goes.
	Progress io.Writer
}

// Defaults for Config's zero fields.
const (
	DefaultDuration = 2 * time.Second
	DefaultWarmup   = 50 * time.Millisecond
	DefaultRounds   = 2
	DefaultKeys     = 10000
)

// DefaultGoroutines are the goroutine counts of a default run.
var DefaultGoroutines = []int{1, 16, 64, 256}

func (c Config) withDefaults() (Config, error) {
	if len(c.Workloads) == 0 {
		c.Workloads = Workloads
	}
	if len(c.Goroutines) == 0 {
		c.Goroutines = DefaultGoroutines
	}
	if len(c.Clients) == 0 {
		c.Clients = ClientNames
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = DefaultWarmup
	case c.Warmup < 0:
		c.Warmup = 0
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds
	}
	if c.Keys == 0 {
		c.Keys = DefaultKeys
	}
	if c.MemoryClients == 0 {
		c.MemoryClients = DefaultMemoryClients
	}
	switch {
	case c.Duration < 0 || c.Rounds < 0:
		return c, errors.New("bench: duration and rounds must not be negative")
	case c.Keys < Pipe100.batchSize():
		return c, fmt.Errorf("bench: %d keys, want at least %d", c.Keys, Pipe100.batchSize())
	}
	for _, g := range c.Goroutines {
		if g < 1 {
			return c, fmt.Errorf("bench: %d goroutines", g)
		}
	}
	return c, nil
}

// EstimatedTime is how long Run takes for c, warm-ups included, not counting
// starting the clients and populating the keys.
func (c Config) EstimatedTime() time.Duration {
	c, err := c.withDefaults()
	if err != nil {
		return 0
	}
	cells := len(c.Workloads) * len(c.Goroutines) * len(c.Clients)
	total := time.Duration(cells*c.Rounds)*(c.Duration+c.Warmup) + time.Duration(cells)*cellWarmup(c.Warmup, c.Duration)
	if !c.NoLimit {
		// A redis-benchmark run (its SET and GET tests) or a raw load
		// takes about a window, per round.
		total += time.Duration(len(c.Workloads)*c.Rounds) * c.Duration
	}
	return total
}

// cellWarmup is how long each client runs a cell unmeasured before its
// rounds (see warmCell): a quarter of a window, and at least the warm-up.
func cellWarmup(warmup, window time.Duration) time.Duration { return max(warmup, window/4) }

// warmCell runs every client on the cell unmeasured, in the first round's
// order. Otherwise the first window of a cell pays for the change of cell
// alone: the servers' and the process's memory growing for larger values or
// more goroutines. Measured without it, over the large-value cells of two
// full runs, the first round's first client did 10–50% fewer requests/s than
// in its other rounds, and that client is always the same one.
func (r *runner) warmCell(ctx context.Context, clients []Client, w Workload, g int, keys *Keys, cfg Config) {
	for _, c := range clients {
		r.run(ctx, c, w, g, keys, cellWarmup(cfg.Warmup, cfg.Duration), 0)
	}
}

// Run opens every client on the cluster at cfg.Seeds, writes the read keys,
// runs the matrix and returns the report. ctx cancels the run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(cfg.Seeds) == 0 {
		return nil, errors.New("bench: no seed addresses")
	}
	began := time.Now()
	rep := &Report{
		Machine:  DescribeMachine(ctx, cfg.Seeds[0]),
		Duration: cfg.Duration,
		Warmup:   cfg.Warmup,
		Rounds:   cfg.Rounds,
		Keys:     cfg.Keys,
		Started:  began.UTC(),
	}

	clients := make([]Client, 0, len(cfg.Clients))
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for _, name := range cfg.Clients {
		c, err := Open(ctx, name, cfg.Seeds)
		if err != nil {
			return nil, err
		}
		clients = append(clients, c)
	}
	keys := NewKeys(cfg.Keys)
	if err := keys.PopulateAll(ctx, cfg.Seeds, cfg.Workloads); err != nil {
		return nil, err
	}

	if cfg.MemoryClients > 0 {
		rep.Memory = measureMemories(ctx, cfg, keys)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	var lim *limiter
	var limErr error
	if !cfg.NoLimit {
		lim, limErr = newLimiter(cfg.Seeds[0], cfg.Duration)
	}

	r := runner{servers: cfg.Seeds}
	for _, w := range cfg.Workloads {
		var wLimit Limit
		switch {
		case lim != nil:
			wLimit = lim.measure(ctx, w, cfg.Rounds, keys)
			rep.Limits = append(rep.Limits, wLimit)
		case limErr != nil:
			wLimit = Limit{Workload: w, Error: limErr.Error()}
			rep.Limits = append(rep.Limits, wLimit)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cfg.Progress != nil && (lim != nil || limErr != nil) {
			fmt.Fprintln(cfg.Progress, limitLine(wLimit))
		}
		for _, g := range cfg.Goroutines {
			cell := make([]*cellResult, len(clients))
			for i := range cell {
				cell[i] = &cellResult{}
			}
			r.warmCell(ctx, clients, w, g, keys, cfg)
			for round := range cfg.Rounds {
				// Each round starts with the next client (A B C, B C A,
				// C A B…), so none always follows the same one or runs
				// first after a change of cell.
				for j := range clients {
					i := (round + j) % len(clients)
					c := clients[i]
					res := r.run(ctx, c, w, g, keys, cfg.Warmup, cfg.Duration)
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					cell[i].add(res)
				}
			}
			rows := make([]Row, len(clients))
			for i, c := range clients {
				rows[i] = cell[i].row(w, g, c.Name())
			}
			fillRatios(rows)
			fillOfLimit(rows, wLimit)
			rep.Rows = append(rep.Rows, rows...)
			if cfg.Progress != nil {
				fmt.Fprintln(cfg.Progress, progressLine(rows))
			}
		}
	}
	fillHeapUnderLoad(rep.Memory, rep.Rows)
	rep.Machine.LoadEnd = loadAverage()
	rep.Took = time.Since(began)
	return rep, nil
}

// measureMemories measures the memory of every client of cfg, rueidis
// last: its goroutines outlive its Close by seconds (see bench_test.go),
// holding memory that would count in the next client's baseline.
func measureMemories(ctx context.Context, cfg Config, keys *Keys) []Memory {
	names := slices.Clone(cfg.Clients)
	if i := slices.Index(names, Rueidis); i >= 0 {
		names = append(slices.Delete(names, i, i+1), Rueidis)
	}
	probe := keys.read[:min(len(keys.read), memoryProbes)]
	out := make([]Memory, 0, len(names))
	for _, name := range names {
		out = append(out, measureMemory(ctx, name, cfg.Seeds, cfg.MemoryClients, probe))
		if cfg.Progress != nil {
			m := out[len(out)-1]
			fmt.Fprintf(cfg.Progress, "memory   %s: %s B/client idle, %s B/client used, %.1f conns/client %s\n",
				m.Client, FormatBytes(m.IdleBytesPerClient), FormatBytes(m.UsedBytesPerClient), m.ConnsPerClient, m.Error)
		}
	}
	return out
}

// memoryProbes is how many keys each client reads in the memory
// measurement: random slots, so all three primaries of a lab cluster are
// reached but with a chance of about 3·(2/3)^48, 10⁻⁸.
const memoryProbes = 48

// runResult is one client's measured window in one round.
type runResult struct {
	ops, errs      int64
	firstErr       error
	elapsed        time.Duration
	mallocs, bytes uint64
	reads, writes  uint64           // system calls; both 0 when unknown
	cpu            time.Duration    // the process's user and system CPU time; 0 when unknown
	serverCPU      time.Duration    // the servers' CPU time; valid when serverKnown
	serverKnown    bool             // every server answered at both edges of the window
	heap           int64            // HeapInuse at the window's end less before the load
	hist           *drill.Histogram // merged over the goroutines; the runner's
}

// cellResult accumulates one client's rounds of a cell.
type cellResult struct {
	rates          []float64
	hist           drill.Histogram
	ops, errs      int64
	mallocs, bytes uint64
	reads, writes  uint64
	cpu            time.Duration
	serverCPU      time.Duration
	serverOps      int64 // calls of the rounds whose serverCPU is known
	heap           int64 // the largest of the rounds'
	firstErr       error
}

func (c *cellResult) add(r runResult) {
	c.rates = append(c.rates, float64(r.ops)/r.elapsed.Seconds())
	c.hist.Merge(r.hist)
	c.ops += r.ops
	c.errs += r.errs
	c.mallocs += r.mallocs
	c.bytes += r.bytes
	c.reads += r.reads
	c.writes += r.writes
	c.cpu += r.cpu
	if r.serverKnown {
		c.serverCPU += r.serverCPU
		c.serverOps += r.ops + r.errs
	}
	c.heap = max(c.heap, r.heap)
	if c.firstErr == nil {
		c.firstErr = r.firstErr
	}
}

func (c *cellResult) row(w Workload, g int, client string) Row {
	row := Row{
		Workload:   w,
		Goroutines: g,
		Client:     client,
		ReqPerSec:  median(c.rates),
		Rounds:     c.rates,
		P50:        c.hist.Quantile(0.50),
		P99:        c.hist.Quantile(0.99),
		Ops:        c.ops,
		Errors:     c.errs,
		HeapInUse:  c.heap,
	}
	if n := c.ops + c.errs; n > 0 {
		row.AllocsPerOp = float64(c.mallocs) / float64(n)
		row.BytesPerOp = float64(c.bytes) / float64(n)
		row.ReadsPerOp = float64(c.reads) / float64(n)
		row.WritesPerOp = float64(c.writes) / float64(n)
		row.CPUPerOp = c.cpu / time.Duration(n)
	}
	if c.serverOps > 0 {
		row.ServerCPUPerOp = c.serverCPU / time.Duration(c.serverOps)
	}
	if c.firstErr != nil {
		row.FirstError = c.firstErr.Error()
	}
	return row
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Phases of a run, which every goroutine reads before each operation.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// runner runs windows, keeping one histogram per goroutine between them so
// that a run allocates little outside its window and nothing inside.
type runner struct {
	servers []string // whose CPU time each window is charged with; none: not measured
	hists   []*drill.Histogram
	merged  drill.Histogram
}

// serversCPU reads the servers' CPU time at an edge of a window of length
// d; a warm-up (d = 0) has no figures to keep. A server that does not answer
// leaves the window without a figure rather than charged with part of the
// servers.
func (r *runner) serversCPU(ctx context.Context, d time.Duration) (time.Duration, bool) {
	if d == 0 || len(r.servers) == 0 {
		return 0, false
	}
	t, err := serversCPU(ctx, r.servers)
	return t, err == nil
}

// run measures c doing w from g goroutines: warm-up, then the window. Only
// operations begun inside the window count; memory statistics are read at
// its edges.
func (r *runner) run(ctx context.Context, c Client, w Workload, g int, keys *Keys, warmup, d time.Duration) runResult {
	for len(r.hists) < g {
		r.hists = append(r.hists, new(drill.Histogram))
	}
	type tally struct {
		ops, errs int64
		firstErr  error
	}
	tallies := make([]tally, g)
	workers := make([]*worker, g)
	for i := range workers {
		workers[i] = newWorker(c, w, keys, i+1)
		r.hists[i].Reset()
	}
	// Garbage left by the previous run (another client's, perhaps) is
	// collected now, not inside this window.
	runtime.GC()
	var idle runtime.MemStats
	runtime.ReadMemStats(&idle)

	var phase atomic.Int32
	var wg sync.WaitGroup
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk, h, t := workers[i], r.hists[i], &tallies[i]
			for {
				// ctx is not polled here (its Err takes a lock): a
				// cancelled ctx ends the sleeps below, which stop the run.
				p := phase.Load()
				if p == phaseStop {
					return
				}
				start := time.Now()
				counted, err := wk.op(ctx)
				if p != phaseMeasure {
					continue
				}
				if err != nil {
					t.errs++
					if t.firstErr == nil {
						t.firstErr = err
					}
					continue
				}
				if counted {
					h.Record(time.Since(start))
					t.ops++
				}
			}
		}()
	}

	sleep(ctx, warmup)
	// The servers are asked outside the process's figures, which their
	// dials and INFO would otherwise add to.
	srv0, srvOK0 := r.serversCPU(ctx, d)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	r0, w0, ok0 := syscalls()
	cpu0 := processCPU()
	phase.Store(phaseMeasure)
	t0 := time.Now()
	sleep(ctx, d)
	phase.Store(phaseStop)
	elapsed := time.Since(t0)
	cpu1 := processCPU()
	r1, w1, ok1 := syscalls()
	runtime.ReadMemStats(&m1)
	srv1, srvOK1 := r.serversCPU(ctx, d)
	wg.Wait()

	res := runResult{
		elapsed: elapsed,
		mallocs: m1.Mallocs - m0.Mallocs,
		bytes:   m1.TotalAlloc - m0.TotalAlloc,
		cpu:     cpu1 - cpu0,
		heap:    int64(m1.HeapInuse) - int64(idle.HeapInuse),
		hist:    &r.merged,
	}
	if srvOK0 && srvOK1 {
		res.serverCPU, res.serverKnown = srv1-srv0, true
	}
	if ok0 && ok1 {
		res.reads, res.writes = r1-r0, w1-w0
	}
	r.merged.Reset()
	for i, t := range tallies {
		res.ops += t.ops
		res.errs += t.errs
		if res.firstErr == nil {
			res.firstErr = t.firstErr
		}
		r.merged.Merge(r.hists[i])
	}
	return res
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
