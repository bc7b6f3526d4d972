package drill

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// shortKill is a scenario that kills shard 0's primary after a short
// warm-up and waits until the cluster serves the shard again.
func shortKill(name string) Scenario {
	return Scenario{Name: name, Warmup: Duration(500 * time.Millisecond),
		Tail: Duration(time.Second), MaxTail: Duration(20 * time.Second),
		Steps: []Step{{Action: "kill"}, {Action: "wait-served"}}}
}

// TestRunSuiteEndToEnd runs a short kill scenario against keel on a real
// local cluster and checks every figure the report needs is there and
// makes sense.
func TestRunSuiteEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	sc := shortKill("kill-short")
	var mu sync.Mutex // Progress is called from the drill's goroutines
	var phases []string
	rep, err := RunSuite(context.Background(), Options{
		Scenarios: []Scenario{sc},
		Workload:  Workload{Rate: 500},
		Progress: func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(rep.Runs))
	}
	r := rep.Runs[0]
	t.Logf("phases %v; run: %+v", phases, r.Figures)
	if r.Error != "" {
		t.Fatalf("run failed: %s", r.Error)
	}
	f := r.Figures
	if f.Requests < 500 {
		t.Errorf("%d requests in a run of %.0f ms at 500/s", f.Requests, r.DurationMS)
	}
	if !f.Recovered {
		t.Errorf("keel did not recover: downtime %.0f ms", f.DowntimeMS)
	}
	if f.LostWrites+f.LostIncrs+f.DuplicateIncrs != 0 {
		t.Errorf("audit: %d lost writes, %d lost INCRs, %d duplicates", f.LostWrites, f.LostIncrs, f.DuplicateIncrs)
	}
	if f.GoroutinesLeft != 0 {
		t.Errorf("%d goroutines left after Close", f.GoroutinesLeft)
	}
	if r.FaultMS < 400 {
		t.Errorf("fault at %.0f ms, before the 500 ms warm-up ended", r.FaultMS)
	}
	kinds := map[report.MarkerKind]int{}
	for _, m := range r.Markers {
		kinds[m.Kind]++
	}
	if kinds[report.MarkStep] != 1 || kinds[report.MarkServed] < 4 || kinds[report.MarkUnserved] != 1 {
		t.Errorf("markers %v: want the kill, the initial served marks of 3 shards, and shard 0 unserved then served again", kinds)
	}
	if !r.Shards[0].Touched || r.Shards[1].Touched || r.Shards[2].Touched {
		t.Errorf("touched shards: %+v", r.Shards)
	}
	if f.HealthyAvailability != 1 {
		t.Errorf("healthy-shard availability %v, want 1: keel must not fail requests on shards the kill did not touch", f.HealthyAvailability)
	}
	if len(r.Timeline) != 3 || len(r.Timeline[0]) < int(r.DurationMS/100) {
		t.Errorf("timeline: %d shards, %d buckets", len(r.Timeline), len(r.Timeline[0]))
	}
	if phases[0] != "starting" || phases[len(phases)-1] != "done" {
		t.Errorf("progress phases %v", phases)
	}
}

// TestRunSuiteOverTLS runs a short kill scenario against keel on a local
// cluster that speaks TLS only: keel, the watcher and the audit all connect
// over TLS, keel recovers and loses nothing, and the report says the run
// was over TLS.
func TestRunSuiteOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	rep, err := RunSuite(context.Background(), Options{
		Scenarios: []Scenario{shortKill("kill-tls")},
		Workload:  Workload{Rate: 500},
		Cluster:   ClusterShape{TLS: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Settings.TLS || len(rep.Runs) != 1 {
		t.Fatalf("settings %+v, %d runs; want TLS and 1 run", rep.Settings, len(rep.Runs))
	}
	r := rep.Runs[0]
	if r.Error != "" {
		t.Fatalf("run failed: %s", r.Error)
	}
	f := r.Figures
	t.Logf("over TLS: %d requests, %d errors, downtime %.1f ms", f.Requests, f.Errors, f.DowntimeMS)
	// The figures that hold on a loaded machine too: the healthy shards'
	// availability is TestRunSuiteEndToEnd's to check, as it depends on the
	// watcher's probes keeping up.
	if f.Requests < 500 || !f.Recovered {
		t.Errorf("%d requests, recovered %v: want a full run that recovers", f.Requests, f.Recovered)
	}
	if f.LostWrites+f.LostIncrs+f.DuplicateIncrs != 0 {
		t.Errorf("audit: %d lost writes, %d lost INCRs, %d duplicates", f.LostWrites, f.LostIncrs, f.DuplicateIncrs)
	}
}
