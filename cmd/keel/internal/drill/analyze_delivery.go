package drill

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// DeliveryInput is what one probe recorded.
type DeliveryInput struct {
	// Probe is the probe's kind (ProbeSubscribe, ...).
	Probe string
	// Sent and Received are the feeder's sends and the client's receipts,
	// in any order.
	Sent     []Sent
	Received []Receipt
	// Left are the items still stored and never delivered at the end (in
	// the list; in the stream after the group's last-delivered ID): not
	// consumed, but not lost either.
	Left []int64
	// ServedAgain is when the cluster served the probe's shard again after
	// the first step (see servedAgain); negative for never.
	ServedAgain time.Duration
	// End is when the run ended.
	End time.Duration
	// Errors counts the errors the client returned to the probe's loop.
	Errors int
}

// AnalyzeDelivery computes a probe's figures, as report.Delivery documents
// them:
//
//   - the gap runs from ServedAgain to the first receipt at or after it;
//     with none, to End, and the probe did not recover;
//   - Missed (Pub/Sub) counts acknowledged sends with a sequence number
//     above the first one received that were never received: what was
//     published before the subscription was set up is not missed;
//   - Lost (lists, streams) counts acknowledged sends never received and
//     not in Left;
//   - Duplicates counts receipts of a sequence number already received.
func AnalyzeDelivery(in DeliveryInput) report.Delivery {
	d := report.Delivery{Probe: in.Probe, Errors: in.Errors, ServedAgainMS: -1, GapMS: -1, Recovered: true}
	received := make(map[int64]int, len(in.Received))
	first := int64(-1)
	for _, r := range in.Received {
		received[r.Seq]++
		if received[r.Seq] > 1 {
			d.Duplicates++
		}
		if first < 0 || r.Seq < first {
			first = r.Seq
		}
	}
	d.Received = len(received)
	left := make(map[int64]bool, len(in.Left))
	for _, s := range in.Left {
		left[s] = true
	}
	for _, s := range in.Sent {
		if !s.Acked {
			continue
		}
		d.Sent++
		if received[s.Seq] > 0 {
			continue
		}
		switch {
		case stores(in.Probe):
			if !left[s.Seq] {
				d.Lost++
			}
		case first >= 0 && s.Seq > first:
			d.Missed++
		}
	}
	if in.ServedAgain >= 0 {
		d.ServedAgainMS = ms(in.ServedAgain)
		next := time.Duration(-1)
		for _, r := range in.Received {
			if r.At >= in.ServedAgain && (next < 0 || r.At < next) {
				next = r.At
			}
		}
		if next < 0 {
			d.Recovered = false
			next = max(in.End, in.ServedAgain)
		}
		d.GapMS = ms(next - in.ServedAgain)
	}
	return d
}

// servedAgain returns when the cluster served shard again after the first
// step: the first served marker after it that names a node other than the
// one serving the shard when the step began (a failover, a migration); or,
// when the node never changed (a restart), the first served marker that
// follows an unserved one after the step. It returns -1 when there is no
// step or no such marker. A served marker that only ends a blip (a probe
// that timed out on a busy machine, the same node serving again) is not
// the shard being served again.
func servedAgain(markers []report.Marker, shard int) time.Duration {
	sorted := slices.Clone(markers)
	slices.SortStableFunc(sorted, func(x, y report.Marker) int { return cmp.Compare(x.At, y.At) })
	stepped, unserved := false, false
	var before string // the node serving the shard before the step
	fallback := time.Duration(-1)
	for _, m := range sorted {
		if m.Kind == report.MarkStep && (m.Shard == shard || m.Shard == -1) {
			stepped = true
			continue
		}
		if m.Shard != shard {
			continue
		}
		switch {
		case m.Kind == report.MarkUnserved:
			unserved = unserved || stepped
		case m.Kind != report.MarkServed:
		case !stepped:
			before = servedNode(m)
		case servedNode(m) != before:
			return m.At
		case unserved && fallback < 0:
			fallback = m.At
		}
	}
	return fallback
}

// servedNode is the node a served marker names (see watchMarkers).
func servedNode(m report.Marker) string {
	node, _ := strings.CutPrefix(m.Label, "served by ")
	return node
}
