package drill

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// runProbes runs keel through a short graceful failover of shard 0 with the
// given probes and returns the run, after checking what every run needs.
func runProbes(t *testing.T, probes ...string) []report.Delivery {
	t.Helper()
	sc := Scenario{Name: "probes-short", Warmup: Duration(500 * time.Millisecond),
		Tail: Duration(500 * time.Millisecond), MaxTail: Duration(20 * time.Second),
		Probes: probes, Steps: []Step{{Action: "failover"}}}
	rep, err := RunSuite(context.Background(), Options{Scenarios: []Scenario{sc}, Workload: Workload{Rate: 200}})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Runs[0]
	if r.Error != "" {
		t.Fatalf("run failed: %s", r.Error)
	}
	if r.Figures.GoroutinesLeft != 0 {
		t.Errorf("%d goroutines left after Close", r.Figures.GoroutinesLeft)
	}
	if len(r.Delivery) != len(probes) {
		t.Fatalf("%d delivery figures for probes %v", len(r.Delivery), probes)
	}
	for i, d := range r.Delivery {
		t.Logf("%+v", d)
		if d.Probe != probes[i] || d.Error != "" {
			t.Errorf("probe %d: %+v, want %s without error", i, d, probes[i])
			continue
		}
		// A failover names a new node: the shard is served again, and keel
		// receives after that.
		if d.ServedAgainMS < r.FaultMS || !d.Recovered || d.GapMS < 0 {
			t.Errorf("%s: served again at %v ms (fault at %v ms), gap %v ms, recovered %v",
				d.Probe, d.ServedAgainMS, r.FaultMS, d.GapMS, d.Recovered)
		}
		// One every 5 ms for at least the warm-up: the feeder sent, keel
		// received most of it.
		if d.Sent < 100 || d.Received < d.Sent/2 {
			t.Errorf("%s: received %d of %d sent", d.Probe, d.Received, d.Sent)
		}
	}
	return r.Delivery
}

// TestRunSuitePubSubProbes runs a SUBSCRIBE and an SSUBSCRIBE subscriber
// through a graceful failover on a real cluster: both are fed by the
// independent publisher, analysed, and keel delivers nothing twice.
func TestRunSuitePubSubProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	for _, d := range runProbes(t, ProbeSubscribe, ProbeSSubscribe) {
		if d.Duplicates != 0 || d.Lost != 0 {
			t.Errorf("%s: %d duplicates, %d lost (Pub/Sub counts missed, not lost)", d.Probe, d.Duplicates, d.Lost)
		}
	}
}

// TestRunSuiteConsumerProbes runs a BLPOP and an XREADGROUP consumer
// through a graceful failover: the producer's items are all consumed, none
// twice, and nothing is left behind.
func TestRunSuiteConsumerProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	for _, d := range runProbes(t, ProbeBLPop, ProbeXReadGroup) {
		if d.Duplicates != 0 || d.Lost != 0 || d.Missed != 0 {
			t.Errorf("%s: %d consumed twice, %d lost, %d missed; want none", d.Probe, d.Duplicates, d.Lost, d.Missed)
		}
		if d.Received != d.Sent {
			t.Errorf("%s: consumed %d of %d", d.Probe, d.Received, d.Sent)
		}
	}
}
