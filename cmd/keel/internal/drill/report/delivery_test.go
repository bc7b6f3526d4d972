package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// deliveryReport has one run with a subscriber and a consumer, one run whose
// client lacked the capability, and one run without probes.
func deliveryReport() Report {
	return Report{Runs: []Run{
		{Scenario: "pubsub-forced-failover", Client: "keel", Figures: Figures{Recovered: true}, Delivery: []Delivery{
			{Probe: "ssubscribe", ServedAgainMS: 3000, GapMS: 12.4, Recovered: true, Sent: 900, Received: 880, Missed: 20},
			{Probe: "blpop", ServedAgainMS: 3000, GapMS: 4000, Recovered: false, Sent: 900, Received: 899, Lost: 1, Duplicates: 2, Errors: 3},
		}},
		{Scenario: "pubsub-forced-failover", Client: "old", Figures: Figures{Recovered: true},
			Delivery: []Delivery{{Probe: "subscribe", Error: "the client does not support Pub/Sub", ServedAgainMS: -1, GapMS: -1}}},
		{Scenario: "graceful-failover", Client: "keel", Figures: Figures{Recovered: true}},
	}}
}

func TestWriteTextDelivery(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, deliveryReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"subscribers and consumers", "ssubscribe", "  12 ", "4000+", "880/900",
		"error: the client does not support Pub/Sub", "missed (Pub/Sub)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	// The Pub/Sub row has no lost figure, the consumer's no missed one.
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if strings.Contains(line, "ssubscribe") && (len(f) < 8 || f[len(f)-4] != "—") {
			t.Errorf("ssubscribe row %q: lost should be —", line)
		}
		if strings.Contains(line, " blpop ") && (len(f) < 7 || f[2] != "—") {
			t.Errorf("blpop row %q: missed should be —", line)
		}
	}

	b.Reset()
	plain := deliveryReport()
	plain.Runs = plain.Runs[2:]
	if err := WriteText(&b, plain); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "subscribers and consumers") {
		t.Error("a report without probes shows the delivery table")
	}
}

func TestWriteHTMLDelivery(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, deliveryReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Subscribers and consumers", "<td>ssubscribe</td>", "≥4000, nothing received after",
		"error: the client does not support Pub/Sub"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}

func TestWriteJSONDelivery(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, deliveryReport()); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Runs[0].Delivery; len(got) != 2 || got[1].Duplicates != 2 || got[0].GapMS != 12.4 {
		t.Errorf("delivery round trip: %+v", got)
	}
	// A run without probes has no "delivery" key: reports of the default
	// suite are unchanged.
	var raw struct {
		Runs []map[string]json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Runs[2]["delivery"]; ok {
		t.Error("a run without probes has a delivery key")
	}
}
