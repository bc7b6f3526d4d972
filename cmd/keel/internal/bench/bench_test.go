package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/lab"
	"go.uber.org/goleak"
)

// The cluster and clients the benchmarks and the smoke test share: started
// on first use (a plain `go test` without -bench and without the smoke test
// starts nothing), closed by TestMain.
var (
	clusterOnce sync.Once
	cluster     *lab.Cluster
	clusterErr  error

	clientsOnce sync.Once
	clients     []Client
	benchKeys   *Keys
	clientsErr  error
)

func sharedCluster(tb testing.TB) *lab.Cluster {
	tb.Helper()
	clusterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cluster, clusterErr = lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, Replicas: 0})
	})
	if clusterErr != nil {
		tb.Fatal(clusterErr)
	}
	return cluster
}

// sharedClients returns one open client of each kind, in ClientNames order,
// and the keys, populated.
func sharedClients(tb testing.TB) ([]Client, *Keys) {
	tb.Helper()
	c := sharedCluster(tb)
	clientsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, name := range ClientNames {
			cl, err := Open(ctx, name, c.Addrs())
			if err != nil {
				clientsErr = err
				return
			}
			clients = append(clients, cl)
		}
		benchKeys = NewKeys(DefaultKeys)
		clientsErr = benchKeys.PopulateAll(ctx, c.Addrs(), Workloads)
	})
	if clientsErr != nil {
		tb.Fatal(clientsErr)
	}
	return clients, benchKeys
}

// TestMain runs the tests and benchmarks, closes what they shared, and
// checks that no goroutine is left behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(withShared{m}) }

type withShared struct{ m *testing.M }

func (w withShared) Run() int {
	code := w.m.Run()
	for _, c := range clients {
		if err := c.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "close %s: %v\n", c.Name(), err)
			code = 1
		}
	}
	if cluster != nil {
		if err := cluster.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close cluster:", err)
			code = 1
		}
	}
	awaitGoroutines()
	return code
}

// goroutineGrace is how long the peers' background goroutines may outlive
// their Close: rueidis leaves a refresh goroutine sleeping up to 1s and
// closes dropped connections 5s later from another, neither cancelled by
// Close (see the peers package's tests). goleak itself retries for well
// under a second.
const goroutineGrace = 7 * time.Second

func awaitGoroutines() {
	for deadline := time.Now().Add(goroutineGrace); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if goleak.Find() == nil {
			return
		}
	}
}

// BenchmarkClients runs every workload for every client at 1, 16, 64 and
// 256 goroutines, splitting b.N among them; one op is one call (see the
// package doc). It reports req/s, the p50 and p99 latency of an op and the
// process's read and write system calls per op besides ns/op (which is
// 1/throughput here) and allocations. For a side by
// side run with the clients interleaved, use Run (keel bench) instead.
func BenchmarkClients(b *testing.B) {
	cls, keys := sharedClients(b)
	for _, w := range Workloads {
		b.Run(string(w), func(b *testing.B) {
			for _, c := range cls {
				b.Run(c.Name(), func(b *testing.B) {
					for _, g := range DefaultGoroutines {
						b.Run("g="+strconv.Itoa(g), func(b *testing.B) { benchOps(b, c, w, g, keys) })
					}
				})
			}
		})
	}
}

// benchOps runs exactly b.N operations of w on c, from g goroutines.
func benchOps(b *testing.B, c Client, w Workload, g int, keys *Keys) {
	// Cancellable, as keel bench's and a server's request contexts are: a
	// client may do more for a context that can end.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	workers := make([]*worker, g)
	hists := make([]drill.Histogram, g)
	errs := make([]error, g)
	for i := range workers {
		workers[i] = newWorker(c, w, keys, i+1)
	}
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	r0, w0, sysOK := syscalls()
	cpu0 := processCPU()
	start := time.Now()
	for i := range g {
		n := b.N / g
		if i < b.N%g {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk, h := workers[i], &hists[i]
			for range n {
				t := time.Now()
				counted, err := wk.op(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				if counted {
					h.Record(time.Since(t))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	r1, w1, _ := syscalls()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	var all drill.Histogram
	for i := range hists {
		all.Merge(&hists[i])
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all.Quantile(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(all.Quantile(0.99).Nanoseconds()), "p99-ns")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	if sysOK {
		b.ReportMetric(float64(r1-r0)/float64(b.N), "read-syscalls/op")
		b.ReportMetric(float64(w1-w0)/float64(b.N), "write-syscalls/op")
	}
}

// TestBenchSmoke runs every workload on every client briefly through Run
// and checks that each did some work without an error, that every workload
// has a limit from redis-benchmark and every row its share of it, and that
// every client's memory was measured.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := sharedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Config{
		Seeds:         c.Addrs(),
		Goroutines:    []int{4},
		Duration:      100 * time.Millisecond,
		Warmup:        20 * time.Millisecond,
		Rounds:        1,
		Keys:          1000,
		MemoryClients: 5,
		Progress:      &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(Workloads) * len(ClientNames); len(rep.Rows) != want {
		t.Fatalf("%d rows, want %d", len(rep.Rows), want)
	}
	for _, r := range rep.Rows {
		if r.Ops == 0 || r.Errors > 0 || r.ReqPerSec <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s %s g=%d: %d ops, %d errors (first %q), %.0f req/s, p50 %v p99 %v",
				r.Workload, r.Client, r.Goroutines, r.Ops, r.Errors, r.FirstError, r.ReqPerSec, r.P50, r.P99)
		}
		if r.ServerCPUPerOp <= 0 {
			t.Errorf("%s %s g=%d: the servers' CPU per call is unmeasured", r.Workload, r.Client, r.Goroutines)
		}
		if r.AllocsPerOp <= 0 || r.BytesPerOp <= 0 {
			t.Errorf("%s %s: %.1f allocs/op, %.0f B/op; every client allocates something", r.Workload, r.Client, r.AllocsPerOp, r.BytesPerOp)
		}
		if (r.Client == Keel) != (r.VsRueidis > 0 && r.VsGoRedis > 0) {
			t.Errorf("%s %s: ratios %v, %v; want them on keel's rows only", r.Workload, r.Client, r.VsRueidis, r.VsGoRedis)
		}
	}
	if rep.Machine.Redis == "unknown" || rep.Machine.Primaries != 3 {
		t.Errorf("machine: redis %q, %d primaries; want a version and 3", rep.Machine.Redis, rep.Machine.Primaries)
	}
	// A line per cell, per workload's limit, per client's memory.
	if n, want := strings.Count(progress.String(), "\n"), 2*len(Workloads)+len(ClientNames); n != want {
		t.Errorf("%d progress lines, want %d:\n%s", n, want, progress.String())
	}
	if len(rep.Limits) != len(Workloads) {
		t.Fatalf("%d limits, want %d", len(rep.Limits), len(Workloads))
	}
	for _, l := range rep.Limits {
		if l.Error != "" || l.ReqPerSec <= 0 || len(l.Rounds) != 1 || l.Method == "" {
			t.Errorf("limit %+v", l)
		}
	}
	for _, r := range rep.Rows {
		if r.OfLimit <= 0 {
			t.Errorf("%s %s: no share of the limit", r.Workload, r.Client)
		}
	}
	if len(rep.Memory) != len(ClientNames) {
		t.Fatalf("%d memory results, want %d", len(rep.Memory), len(ClientNames))
	}
	for _, m := range rep.Memory {
		// Every client keeps at least one connection and some kilobytes;
		// under load (4 goroutines here) the heap grows.
		if m.Error != "" || m.Clients != 5 || m.IdleBytesPerClient < 1000 || m.UsedBytesPerClient < 1000 ||
			m.ConnsPerClient < 1 || m.BytesPerConn <= 0 || m.LoadCell != "GET g=4" {
			t.Errorf("memory %+v", m)
		}
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
}
