package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestSoakInReports checks that a soak run's figures reach the text
// summary, the HTML page and the JSON file, and that other runs show none.
func TestSoakInReports(t *testing.T) {
	run := Run{Scenario: "soak", Client: "keel", DurationMS: 60000, Shards: make([]ShardFigures, 3),
		Figures: Figures{Recovered: true, LostWrites: 1, ServerLostWrites: 2, ServerLostIncrs: 1},
		Soak: &Soak{Seed: 7, DurationMS: 60000, Faults: map[string]int{"kill": 2, "restart": 2},
			ForcedWindows: 4, ForcedWindowMS: 18000,
			Goroutines: Series{Samples: 30, First: 40, Last: 41, Max: 64},
			ClientHeap: Series{Samples: 30, First: 1 << 20, Last: 9 << 20, Max: 9 << 20, Grew: true}}}
	rep := Report{Schema: reportSchema, Mode: "lab", Runs: []Run{run}, Scenarios: []ScenarioInfo{{Name: "soak"}}}
	var text, html, js bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"soak keel (seed 7, faults for 60 s): kill ×2, restart ×2",
		"1 outside forced faults, 3 within them (2 SETs, 1 INCRs", "10% of the shards' time",
		"goroutines 40 → 41 (max 64)", "client heap 1.0 → 9.0 MiB (max 9.0) GREW"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, text.String())
		}
	}
	if err := WriteHTML(&html, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "Chaos soak") || !strings.Contains(html.String(), "seed 7") {
		t.Error("the HTML report lacks the soak's figures")
	}
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Runs[0].Soak == nil || back.Runs[0].Soak.ClientHeap != run.Soak.ClientHeap {
		t.Errorf("JSON round trip: %v, %+v", err, back.Runs[0].Soak)
	}
	text.Reset()
	rep.Runs[0].Soak = nil
	if err := WriteText(&text, rep); err != nil || strings.Contains(text.String(), "soak keel") {
		t.Errorf("a run without a soak printed soak lines: %v", err)
	}
	if !strings.Contains(js.String(), `"client_heap_bytes"`) {
		t.Error("JSON lacks client_heap_bytes")
	}
}
