package drill

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// TestRunWatch drives keel against a cluster the drill did not start while
// its "operator" kills a primary, and checks the report: the cluster's own
// unserved/served marks found by probing, the workload's figures and the
// audit.
func TestRunWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	primary, err := c.PrimaryFor(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		rep report.Report
		err error
	}
	done := make(chan result, 1)
	var ok atomic.Int64 // successes so far, from the progress reports
	go func() {
		rep, err := RunWatch(ctx, WatchOptions{Target: Target{Seeds: c.Addrs()[:1]}, Workload: Workload{Rate: 500},
			Progress: func(p Progress) { ok.Store(p.OK) }})
		done <- result{rep, err}
	}()
	waitOK := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for ok.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d successes within 30s, want %d", ok.Load(), n)
			}
			time.Sleep(20 * time.Millisecond) // poll the progress reports
		}
	}
	waitOK(1)
	kill, err := c.Kill(primary)
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, lab.WatchOptions{Slots: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, _, err := w.WaitServed(ctx, 0, kill.Began); err != nil {
		t.Fatal(err)
	}
	// Let the client show it recovered (a second of load), then stop the
	// watch as Ctrl-C would.
	waitOK(ok.Load() + 500)
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.rep.Mode != "watch" || len(r.rep.Runs) != 1 {
		t.Fatalf("mode %q, %d runs", r.rep.Mode, len(r.rep.Runs))
	}
	run := r.rep.Runs[0]
	t.Logf("figures %+v", run.Figures)
	if run.Error != "" {
		t.Fatal(run.Error)
	}
	kinds := map[report.MarkerKind]int{}
	for _, m := range run.Markers {
		if m.Shard == 0 {
			kinds[m.Kind]++
		}
	}
	if kinds[report.MarkUnserved] != 1 || kinds[report.MarkServed] != 2 {
		t.Errorf("shard 0 markers %v: want served, unserved, served again", kinds)
	}
	f := run.Figures
	if f.Requests == 0 || !f.Recovered || f.GoroutinesLeft != 0 {
		t.Errorf("requests %d, recovered %v, goroutines left %d", f.Requests, f.Recovered, f.GoroutinesLeft)
	}
	if f.LostWrites+f.DuplicateIncrs != 0 {
		t.Errorf("audit: %d lost writes, %d duplicated INCRs", f.LostWrites, f.DuplicateIncrs)
	}
}
