package drill

import (
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

const msec = time.Millisecond

// sends returns n acknowledged sends, seq 1..n, one every 5 ms from 0.
func sends(n int) []Sent {
	out := make([]Sent, n)
	for i := range out {
		out[i] = Sent{Seq: int64(i + 1), At: time.Duration(i) * 5 * msec, Acked: true}
	}
	return out
}

// receipts returns a receipt per seq in seqs, each 1 ms after its send.
func receipts(seqs ...int64) []Receipt {
	out := make([]Receipt, len(seqs))
	for i, s := range seqs {
		out[i] = Receipt{Seq: s, At: time.Duration(s-1)*5*msec + msec}
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestAnalyzeDeliveryPubSubGapAndMissed(t *testing.T) {
	// 100 messages; the subscriber joins at seq 3, loses 41..60 while
	// resubscribing, and the cluster served again at 250 ms (seq 51's send).
	got := append(seqRange(3, 40), seqRange(61, 100)...)
	d := AnalyzeDelivery(DeliveryInput{Probe: ProbeSSubscribe, Sent: sends(100), Received: receipts(got...),
		ServedAgain: 250 * msec, End: time.Second, Errors: 2})
	// First receipt at or after 250 ms: seq 61, sent at 300 ms, received at 301 ms.
	if d.GapMS != 51 || !d.Recovered {
		t.Errorf("gap %v ms recovered %v, want 51 ms and recovered", d.GapMS, d.Recovered)
	}
	// Seqs 1 and 2 went before the subscription: not missed.
	if d.Missed != 20 || d.Lost != 0 || d.Duplicates != 0 {
		t.Errorf("missed %d lost %d dup %d, want 20, 0, 0", d.Missed, d.Lost, d.Duplicates)
	}
	if d.Sent != 100 || d.Received != 78 || d.Errors != 2 || d.ServedAgainMS != 250 || d.Probe != ProbeSSubscribe {
		t.Errorf("figures %+v", d)
	}
}

func TestAnalyzeDeliveryNotRecovered(t *testing.T) {
	d := AnalyzeDelivery(DeliveryInput{Probe: ProbeSubscribe, Sent: sends(100), Received: receipts(seqRange(1, 40)...),
		ServedAgain: 250 * msec, End: 900 * msec})
	if d.Recovered || d.GapMS != 650 {
		t.Errorf("gap %v ms recovered %v, want a lower bound of 650 ms, not recovered", d.GapMS, d.Recovered)
	}
	if d.Missed != 60 {
		t.Errorf("missed %d, want 60", d.Missed)
	}
}

func TestAnalyzeDeliveryNoServedAgain(t *testing.T) {
	d := AnalyzeDelivery(DeliveryInput{Probe: ProbeSubscribe, Sent: sends(10), Received: receipts(seqRange(1, 10)...),
		ServedAgain: -1, End: time.Second})
	if d.GapMS != -1 || d.ServedAgainMS != -1 || !d.Recovered || d.Missed != 0 {
		t.Errorf("figures %+v, want no gap", d)
	}
}

func TestAnalyzeDeliveryConsumerLostAndDuplicates(t *testing.T) {
	sent := sends(50)
	sent[9].Acked = false // seq 10: the producer got no acknowledgement
	// Seq 10 never consumed (not acknowledged, so not lost); 20 and 21
	// consumed twice (a pop the new primary had not seen); 30..32 never
	// consumed and gone; 49 and 50 still in the list.
	var got []int64
	for s := int64(1); s <= 48; s++ {
		if s != 10 && (s < 30 || s > 32) {
			got = append(got, s)
		}
	}
	got = append(got, 20, 21)
	for _, probe := range []string{ProbeBLPop, ProbeXReadGroup} {
		d := AnalyzeDelivery(DeliveryInput{Probe: probe, Sent: sent, Received: receipts(got...),
			Left: []int64{49, 50}, ServedAgain: 100 * msec, End: time.Second})
		if d.Lost != 3 || d.Duplicates != 2 || d.Missed != 0 {
			t.Errorf("%s: lost %d dup %d missed %d, want 3, 2, 0", probe, d.Lost, d.Duplicates, d.Missed)
		}
		if d.Sent != 49 || d.Received != 44 {
			t.Errorf("%s: sent %d received %d, want 49 and 44", probe, d.Sent, d.Received)
		}
		// Seq 21 is sent at 100 ms and received at 101 ms.
		if d.GapMS != 1 || !d.Recovered {
			t.Errorf("%s: gap %v, want 1 ms", probe, d.GapMS)
		}
	}
}

func TestAnalyzeDeliveryReceiptsOutOfOrder(t *testing.T) {
	// The gap is to the earliest receipt at or after served-again, in
	// whatever order receipts were recorded.
	rs := []Receipt{{Seq: 9, At: 400 * msec}, {Seq: 8, At: 300 * msec}, {Seq: 1, At: 10 * msec}}
	d := AnalyzeDelivery(DeliveryInput{Probe: ProbeSubscribe, Sent: sends(9), Received: rs, ServedAgain: 280 * msec, End: time.Second})
	if d.GapMS != 20 {
		t.Errorf("gap %v ms, want 20", d.GapMS)
	}
}

func TestServedAgain(t *testing.T) {
	served := func(at time.Duration, shard int, node string) report.Marker {
		return report.Marker{At: at, Kind: report.MarkServed, Shard: shard, Label: "served by " + node}
	}
	unserved := func(at time.Duration, shard int) report.Marker {
		return report.Marker{At: at, Kind: report.MarkUnserved, Shard: shard, Label: "unserved"}
	}
	step := func(at time.Duration, shard int) report.Marker {
		return report.Marker{At: at, Kind: report.MarkStep, Shard: shard, Label: "kill"}
	}
	for _, tc := range []struct {
		name    string
		markers []report.Marker
		want    time.Duration
	}{
		{"no step", []report.Marker{served(0, 0, "a"), unserved(50*msec, 0), served(60*msec, 0, "a")}, -1},
		{"failover", []report.Marker{served(0, 0, "a"), step(100*msec, 0), unserved(110*msec, 0), served(900*msec, 0, "b")}, 900 * msec},
		{"blip before the step and after the failover", []report.Marker{
			served(0, 0, "a"), unserved(50*msec, 0), served(60*msec, 0, "a"), step(100*msec, 0),
			served(300*msec, 0, "b"), unserved(2000*msec, 0), served(2001*msec, 0, "b")}, 300 * msec},
		{"same node after a restart", []report.Marker{served(0, 0, "a"), step(100*msec, 0), unserved(110*msec, 0),
			served(700*msec, 0, "a"), unserved(800*msec, 0), served(810*msec, 0, "a")}, 700 * msec},
		{"another shard's step and markers", []report.Marker{served(0, 0, "a"), served(0, 1, "c"), step(100*msec, 1),
			served(300*msec, 1, "d")}, -1},
		{"cluster-wide step, markers out of order", []report.Marker{served(500*msec, 0, "b"), step(100*msec, -1), served(0, 0, "a")}, 500 * msec},
	} {
		if got := servedAgain(tc.markers, 0); got != tc.want {
			t.Errorf("%s: served again at %v, want %v", tc.name, got, tc.want)
		}
	}
}
