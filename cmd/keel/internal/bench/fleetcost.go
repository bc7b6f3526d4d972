package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/keel-go/keel/lab"
)

// PhaseCost is what one window of the fleet benchmark cost the machine: the
// CPU time of the benchmark's process (every client, and the benchmark's own
// writers), the CPU time of the cluster's nodes that were up, and the
// goroutines running at its end.
type PhaseCost struct {
	Name       string
	Wall       time.Duration
	ProcessCPU time.Duration
	ServerCPU  time.Duration
	Goroutines int
	// SchedP50 and SchedP99 are how long goroutines of the process waited
	// to run once ready, over the window (runtime/metrics
	// /sched/latencies:seconds): a process short of CPU waits long.
	SchedP50, SchedP99 time.Duration
	// RunQueueWait is how long the process's threads waited for a CPU of
	// the machine while ready to run (Linux only): other processes'
	// share of a busy machine.
	RunQueueWait time.Duration
	// Keel sums the keel clients' Stats counters over the window (zero
	// for other kinds): what their work was.
	Keel KeelWork
}

// KeelWork is work the keel clients of a fleet did in a window, from the
// difference of their summed keel.Stats.
type KeelWork struct {
	Requests, Retries, Refreshes, Dials, DialFailures int64
}

func keelWork(clients []Client) KeelWork {
	var w KeelWork
	for _, c := range clients {
		if k, ok := c.(keelClient); ok {
			s := k.c.Stats()
			w.Requests += s.Requests
			w.Retries += s.Retries
			w.Refreshes += s.Refreshes
			w.Dials += s.Dials
			w.DialFailures += s.DialFailures
		}
	}
	return w
}

func (w KeelWork) minus(o KeelWork) KeelWork {
	return KeelWork{w.Requests - o.Requests, w.Retries - o.Retries, w.Refreshes - o.Refreshes, w.Dials - o.Dials, w.DialFailures - o.DialFailures}
}

func (w KeelWork) String() string {
	return fmt.Sprintf("keel requests %d, retries %d, refreshes %d, dials %d (%d failed)", w.Requests, w.Retries, w.Refreshes, w.Dials, w.DialFailures)
}

// String is one line: the window's wall time, CPU times and goroutines.
func (p PhaseCost) String() string {
	return fmt.Sprintf("%s: %v wall, process CPU %v (%.0f%% of a core), servers' CPU %v, %d goroutines, scheduling latency p50 %v p99 %v, threads waited %v for a CPU; %v",
		p.Name, p.Wall.Round(time.Millisecond), p.ProcessCPU.Round(time.Millisecond),
		100*p.ProcessCPU.Seconds()/max(p.Wall.Seconds(), 1e-9), p.ServerCPU.Round(time.Millisecond), p.Goroutines,
		p.SchedP50, p.SchedP99, p.RunQueueWait.Round(time.Millisecond), p.Keel)
}

// costMeter measures one phase: the process's and the nodes' CPU time, and
// a CPU profile of the process when the fleet configuration asks for one.
type costMeter struct {
	name      string
	nodes     []string
	began     time.Time
	cpu       time.Duration
	serverCPU time.Duration
	sched     *metrics.Float64Histogram
	waited    time.Duration
	clients   []Client
	work      KeelWork
	profile   *os.File
}

// startCost begins measuring phase name on nodes, with clients the fleet; with profileDir set it
// writes the phase's CPU profile to profileDir/fleet-<kind>-<name>.pprof.
func startCost(ctx context.Context, kind, name, profileDir string, nodes []string, clients []Client) (*costMeter, error) {
	m := &costMeter{name: name, nodes: nodes, clients: clients}
	var err error
	if m.serverCPU, err = serversCPU(ctx, nodes); err != nil {
		return nil, err
	}
	if profileDir != "" {
		file := strings.NewReplacer(" ", "-", "/", "-").Replace("fleet-" + kind + "-" + name + ".pprof")
		if m.profile, err = os.Create(filepath.Join(profileDir, file)); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(m.profile); err != nil {
			_ = m.profile.Close()
			return nil, err
		}
	}
	m.began, m.cpu, m.sched, m.waited, m.work = time.Now(), processCPU(), schedLatencies(), runQueueWait(), keelWork(clients)
	return m, nil
}

// stop ends the phase and returns its cost.
func (m *costMeter) stop(ctx context.Context) (PhaseCost, error) {
	p := PhaseCost{Name: m.name, Wall: time.Since(m.began), ProcessCPU: processCPU() - m.cpu, Goroutines: runtime.NumGoroutine()}
	p.SchedP50, p.SchedP99 = quantiles(m.sched, schedLatencies())
	p.RunQueueWait = runQueueWait() - m.waited
	p.Keel = keelWork(m.clients).minus(m.work)
	if m.profile != nil {
		pprof.StopCPUProfile()
		if err := m.profile.Close(); err != nil {
			return p, err
		}
	}
	after, err := serversCPU(ctx, m.nodes)
	p.ServerCPU = after - m.serverCPU
	return p, err
}

// serversCPU sums used_cpu_sys and used_cpu_user of INFO cpu over nodes.
func serversCPU(ctx context.Context, nodes []string) (time.Duration, error) {
	var total time.Duration
	for _, addr := range nodes {
		rc, err := lab.Target{}.Dial(ctx, addr, statsTimeout)
		if err != nil {
			return 0, err
		}
		v, err := rc.Do(statsTimeout, "INFO", "cpu")
		_ = rc.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: INFO cpu: %w", addr, err)
		}
		text, _ := v.(string)
		total += parseServerCPU(text)
	}
	return total, nil
}

// parseServerCPU reads used_cpu_sys and used_cpu_user (seconds) of INFO cpu.
func parseServerCPU(text string) time.Duration {
	var total time.Duration
	for line := range strings.Lines(text) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "used_cpu_sys" && name != "used_cpu_user") {
			continue
		}
		if s, err := strconv.ParseFloat(value, 64); err == nil {
			total += time.Duration(s * float64(time.Second))
		}
	}
	return total
}

const schedMetric = "/sched/latencies:seconds"

// schedLatencies reads the process's scheduling latency histogram so far.
func schedLatencies() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: schedMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// quantiles returns the median and 99th percentile of what the histogram
// counted between before and after (the upper bound of the bucket each
// falls in).
func quantiles(before, after *metrics.Float64Histogram) (p50, p99 time.Duration) {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return 0, 0
	}
	counts := make([]uint64, len(after.Counts))
	var total uint64
	for i := range counts {
		counts[i] = after.Counts[i] - before.Counts[i]
		total += counts[i]
	}
	at := func(q float64) time.Duration {
		want, seen := uint64(q*float64(total)), uint64(0)
		for i, n := range counts {
			if seen += n; seen > want {
				return time.Duration(min(after.Buckets[i+1], 3600) * float64(time.Second))
			}
		}
		return 0
	}
	if total == 0 {
		return 0, 0
	}
	return at(0.5).Round(time.Microsecond), at(0.99).Round(time.Microsecond)
}
