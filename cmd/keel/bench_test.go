package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/bench"
	"go.uber.org/goleak"
)

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-workloads", "HGET"}, {"-clients", "redigo"}, {"-goroutines", "0"},
		{"-rounds", "0"}, {"-duration", "0s"}, {"-keys", "10"}, {"-memory-clients", "-1"}, {"extra"},
	} {
		var errOut bytes.Buffer
		if err := runBench(context.Background(), &bytes.Buffer{}, &errOut, args); err == nil {
			t.Errorf("bench accepted %q", args)
		}
	}
}

// TestBenchEndToEnd runs a tiny matrix through the command and checks the
// table and the JSON file.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	// rueidis's goroutines may outlive its Close by a few seconds; wait for
	// them here so that TestMain's leak check sees only real leaks.
	before := goleak.IgnoreCurrent()
	defer func() {
		for deadline := time.Now().Add(7 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if goleak.Find(before) == nil {
				return
			}
		}
	}()

	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	var out, errOut bytes.Buffer
	err := runBench(context.Background(), &out, &errOut, []string{
		"-workloads", "get,pipe100", "-goroutines", "2", "-duration", "50ms", "-warmup", "10ms",
		"-rounds", "1", "-keys", "500", "-memory-clients", "2", "-json", jsonPath,
	})
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"machine: ", "redis 7", "keel÷rueidis", "PIPE100", "of limit", "limit ", "B/client idle"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if n := strings.Count(errOut.String(), "limit "); n != 2 {
		t.Errorf("%d limit lines in the progress, want 2", n)
	}
	if n := strings.Count(errOut.String(), " req/s p99 "); n != 2*len(bench.ClientNames) {
		t.Errorf("%d client results in the progress lines, want %d", n, 2*len(bench.ClientNames))
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2*len(bench.ClientNames) || len(rep.Limits) != 2 || len(rep.Memory) != len(bench.ClientNames) {
		t.Fatalf("JSON has %d rows, %d limits, %d memory results; want %d, 2, %d",
			len(rep.Rows), len(rep.Limits), len(rep.Memory), 2*len(bench.ClientNames), len(bench.ClientNames))
	}
	for _, r := range rep.Rows {
		if r.Ops == 0 || r.Errors > 0 {
			t.Errorf("%s %s: %d ops, %d errors (%s)", r.Workload, r.Client, r.Ops, r.Errors, r.FirstError)
		}
	}
}
