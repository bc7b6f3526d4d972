package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

func TestDriverIDs(t *testing.T) {
	ids := driverIDs()
	for _, want := range []string{"keel", "go-redis", "go-redis-tuned", "rueidis"} {
		if !slices.Contains(ids, want) {
			t.Errorf("no client %q in %v", want, ids)
		}
	}
	if _, err := selectDrivers("keel,nope"); err == nil {
		t.Error("an unknown client was accepted")
	}
	ds, err := selectDrivers(" rueidis , keel")
	if err != nil || len(ds) != 2 || ds[0].Name() != "rueidis" {
		t.Errorf("selectDrivers: %v, %v", ds, err)
	}
}

func TestSelectScenarios(t *testing.T) {
	all, err := selectScenarios("", "")
	if err != nil || len(all) != len(drill.DefaultScenarios()) {
		t.Fatalf("default suite: %d scenarios, %v", len(all), err)
	}
	if _, err := selectScenarios("forced-failover,nope", ""); err == nil {
		t.Error("an unknown scenario was accepted")
	}
	file := filepath.Join(t.TempDir(), "mine.json")
	if err := os.WriteFile(file, []byte(`[{"name": "mine", "steps": [{"action": "kill", "target": "replica:1"}]}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	own, err := selectScenarios("", file)
	if err != nil || len(own) != 1 || own[0].Name != "mine" {
		t.Errorf("scenario file alone: %v, %v", own, err)
	}
	mixed, err := selectScenarios("mine,graceful-failover", file)
	if err != nil || len(mixed) != 2 {
		t.Errorf("scenario file with -scenarios: %v, %v", mixed, err)
	}
	delivery, err := selectScenarios("delivery,forced-failover", "")
	if err != nil || len(delivery) != len(drill.DeliveryScenarios())+1 || len(delivery[0].Probes) == 0 {
		t.Errorf("-scenarios delivery,forced-failover: %d scenarios, %v", len(delivery), err)
	}
	one, err := selectScenarios("consumer-slot-migration", "")
	if err != nil || len(one) != 1 || len(one[0].Probes) != 2 {
		t.Errorf("one probe scenario by name: %v, %v", one, err)
	}
	repl, err := selectScenarios("repl", "")
	if err != nil || len(repl) != len(drill.ReplicationScenarios()) || !repl[0].Replication {
		t.Errorf("-scenarios repl: %v, %v", repl, err)
	}
	kill, err := selectScenarios("repl-kill-primary", "")
	if err != nil || len(kill) != 1 || !kill[0].Replication {
		t.Errorf("one replication scenario by name: %v, %v", kill, err)
	}
	sen, err := selectScenarios("sentinel,sentinel-kill-primary", "")
	if err != nil || len(sen) != len(drill.SentinelScenarios())+1 || !sen[0].Sentinel || sen[len(sen)-1].Name != "sentinel-kill-primary" {
		t.Errorf("-scenarios sentinel,sentinel-kill-primary: %v, %v", sen, err)
	}
	for _, sc := range all {
		if len(sc.Probes) > 0 || sc.Replication || sc.Sentinel {
			t.Errorf("the default suite has the probe, replication or Sentinel scenario %q", sc.Name)
		}
	}
}

func TestAuditVerdict(t *testing.T) {
	rep := report.Report{Runs: []report.Run{{Scenario: "s", Client: "keel"}}}
	if noted, err := auditVerdict(rep, "keel"); err != nil || noted != "" {
		t.Fatalf("clean report: %v, %q", err, noted)
	}
	rep.Runs = append(rep.Runs, report.Run{Scenario: "s", Client: "go-redis (tuned)", Figures: report.Figures{DuplicateIncrs: 2}})
	const line = "s/go-redis (tuned): 0 lost writes, 0 lost INCRs, 2 duplicated INCRs"
	// By default only keel's losses fail the run; a peer's are reported.
	noted, err := auditVerdict(rep, "keel")
	if err != nil || noted != line {
		t.Errorf("default: %v, %q; want no error and the peer's loss reported", err, noted)
	}
	for _, failOn := range []string{"all", "keel,go-redis-tuned"} {
		noted, err = auditVerdict(rep, failOn)
		if !errors.Is(err, errAudit) || !strings.Contains(err.Error(), line) || noted != "" {
			t.Errorf("-fail-on-loss %s: %v, %q", failOn, err, noted)
		}
	}
	// Items a consumer took twice fail the run like duplicated INCRs;
	// Pub/Sub duplicates and lost items are reported in the table only.
	twice := report.Report{Runs: []report.Run{{Scenario: "c", Client: "keel", Delivery: []report.Delivery{
		{Probe: "ssubscribe", Duplicates: 5}, {Probe: "blpop", Lost: 3}}}}}
	if _, err := auditVerdict(twice, "keel"); err != nil {
		t.Errorf("Pub/Sub duplicates and lost items: %v, want no failure", err)
	}
	twice.Runs[0].Delivery[1].Duplicates = 2
	if _, err := auditVerdict(twice, "keel"); !errors.Is(err, errAudit) || !strings.Contains(err.Error(), "2 items consumed twice") {
		t.Errorf("keel consumed items twice: %v, want errAudit", err)
	}
	rep.Runs[0].Figures.LostWrites = 1
	if _, err := auditVerdict(rep, "none"); err != nil {
		t.Errorf("-fail-on-loss none: %v", err)
	}
	if _, err := auditVerdict(rep, "keel"); !errors.Is(err, errAudit) {
		t.Errorf("keel's own loss: %v, want errAudit", err)
	}
}

func TestDrillRejectsBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{
		{"-clients", "nope"}, {"-scenarios", "nope"}, {"-scenario-file", "/does/not/exist.json"}, {"-rate", "x"},
	} {
		if err := runDrill(context.Background(), &out, &errOut, args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if err := runDrill(context.Background(), &out, &errOut, []string{"watch"}); err == nil {
		t.Error("watch without -seeds accepted")
	}
}

// TestDrillEndToEnd runs "keel drill" with a short scenario of its own for
// every client and checks the summary table and both report files.
func TestDrillEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts clusters")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "short.json")
	scenario := `[{"name": "short-failover", "warmup": "500ms", "tail": "1s", "steps": [{"action": "failover"}]}]`
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	var out, errOut bytes.Buffer
	err := runDrill(context.Background(), &out, &errOut, []string{"-scenario-file", file, "-rate", "500",
		"-json", jsonPath, "-html", htmlPath})
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(errOut.String(), "done in"); n != len(driverIDs()) {
		t.Errorf("%d progress lines end a run, want one per client (%d)", n, len(driverIDs()))
	}
	var rep report.Report
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != "keel-drill/1" || len(rep.Runs) != len(driverIDs()) {
		t.Fatalf("report: schema %q, %d runs", rep.Schema, len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if r.Error != "" || r.Figures.Requests == 0 {
			t.Errorf("%s: error %q, %d requests", r.Client, r.Error, r.Figures.Requests)
		}
		if !strings.Contains(out.String(), r.Client) {
			t.Errorf("summary table lacks %s", r.Client)
		}
	}
	html, err := os.ReadFile(htmlPath)
	if err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("HTML report: %v, has chart: %v", err, bytes.Contains(html, []byte("<svg")))
	}
}
