package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

func TestSoakRejectsBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{
		{"-faults", "meteor"}, {"-seed", "x"}, {"-seed", "-1"}, {"-replicas", "0"}, {"-duration", "0s"},
		{"-clients", "nope"}, {"extra"},
	} {
		if err := runDrill(context.Background(), &out, &errOut, append([]string{"soak"}, args...)); err == nil {
			t.Errorf("soak %v accepted", args)
		}
	}
}

func TestGrowthVerdict(t *testing.T) {
	rep := report.Report{Runs: []report.Run{{Client: "keel", Soak: &report.Soak{}}, {Client: "rueidis", Soak: &report.Soak{}}}}
	if err := growthVerdict(rep, "keel"); err != nil {
		t.Fatalf("flat soak: %v", err)
	}
	rep.Runs[1].Soak.Goroutines.Grew = true
	if err := growthVerdict(rep, "keel"); err != nil {
		t.Errorf("a peer's growth failed the soak: %v", err)
	}
	rep.Runs[0].Soak.ClientHeap = report.Series{First: 1 << 20, Last: 64 << 20, Grew: true}
	if err := growthVerdict(rep, "keel"); !errors.Is(err, errGrowth) || !strings.Contains(err.Error(), "keel") {
		t.Errorf("keel's heap grew: %v, want errGrowth", err)
	}
	rep.Runs[0] = report.Run{Client: "keel", Error: "wait-stable: timed out"}
	if err := growthVerdict(rep, "keel"); err == nil || errors.Is(err, errGrowth) || !strings.Contains(err.Error(), "wait-stable") {
		t.Errorf("a soak that could not run: %v", err)
	}
}

// TestSoakOneMinute runs `keel drill soak` for one minute against keel, as
// CI does, and checks the soak's targets: no acknowledged write lost
// outside a forced fault, no INCR run twice, goroutines and heap flat, and
// faults of several kinds injected. A failure prints the seed to replay.
func TestSoakOneMinute(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a one-minute soak")
	}
	jsonPath := filepath.Join(t.TempDir(), "soak.json")
	var out, errOut bytes.Buffer
	err := runDrill(context.Background(), &out, &errOut, []string{"soak", "-duration", "1m", "-clients", "keel",
		"-rate", "1000", "-quiet", "-json", jsonPath, "-html", ""})
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	if err != nil {
		t.Fatal(err) // errAudit, errGrowth or a run that failed; the seed is above
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Soak == nil {
		t.Fatalf("%d runs; want one soak run", len(rep.Runs))
	}
	r := rep.Runs[0]
	s, f := r.Soak, r.Figures
	kinds, faults := 0, 0
	for _, n := range s.Faults {
		kinds++
		faults += n
	}
	if kinds < 3 || faults < 5 {
		t.Errorf("%d faults of %d kinds in a minute: %v", faults, kinds, s.Faults)
	}
	if f.LostWrites+f.LostIncrs != 0 || f.DuplicateIncrs != 0 {
		t.Errorf("%d SETs and %d INCRs lost outside forced faults, %d INCRs duplicated", f.LostWrites, f.LostIncrs, f.DuplicateIncrs)
	}
	if s.Goroutines.Samples < 10 || s.ClientHeap.First <= 0 || s.Goroutines.Grew || s.ClientHeap.Grew {
		t.Errorf("resources: goroutines %+v, client heap %+v", s.Goroutines, s.ClientHeap)
	}
	if !f.Recovered || f.GoroutinesLeft != 0 || f.Requests < 50000 {
		t.Errorf("recovered %v, %d goroutines left after Close, %d requests", f.Recovered, f.GoroutinesLeft, f.Requests)
	}
}
