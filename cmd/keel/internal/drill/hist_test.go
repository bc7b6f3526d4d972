package drill

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// withinFrac reports whether got is within frac (relative) of want.
func withinFrac(got, want time.Duration, frac float64) bool {
	diff := float64(got - want)
	if diff < 0 {
		diff = -diff
	}
	return diff <= frac*float64(want)
}

func TestHistogramLayout(t *testing.T) {
	if got := histIndex(histMin); got != 0 {
		t.Fatalf("histIndex(histMin) = %d, want 0: histLow is wrong", got)
	}
	if got := histIndex(histMax); got != histSlots-1 {
		t.Fatalf("histIndex(histMax) = %d, want last slot %d", got, histSlots-1)
	}
	// Every slot's histMidpoint maps back to the slot, and slots are monotonic.
	for i := range histSlots {
		if got := histIndex(histMidpoint(i)); got != i {
			t.Fatalf("histIndex(histMidpoint(%d)) = %d", i, got)
		}
	}
	if histMax < time.Minute {
		t.Fatalf("histMax %v below a minute", histMax)
	}
}

func TestHistogramUniform(t *testing.T) {
	var h Histogram
	for v := 1; v <= 10000; v++ {
		h.Record(time.Duration(v) * time.Microsecond)
	}
	if h.Count() != 10000 {
		t.Fatalf("Count = %d", h.Count())
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Microsecond},
		{0.01, 100 * time.Microsecond},
		{0.5, 5000 * time.Microsecond},
		{0.9, 9000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{0.999, 9990 * time.Microsecond},
	} {
		if got := h.Quantile(c.q); !withinFrac(got, c.want, 0.01) {
			t.Errorf("Quantile(%v) = %v, want %v ±1%%", c.q, got, c.want)
		}
	}
	if h.Max() != 10*time.Millisecond || h.Quantile(1) != h.Max() {
		t.Errorf("Max = %v, Quantile(1) = %v, want 10ms", h.Max(), h.Quantile(1))
	}
}

// TestHistogramRandom checks the error bound against exact quantiles of a
// log-uniform sample spanning the whole range.
func TestHistogramRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]time.Duration, 100000)
	for i := range vals {
		// 1µs .. ~1min, log-uniform, with nanosecond detail.
		vals[i] = time.Duration(float64(time.Microsecond) * math.Pow(6e7, r.Float64()))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999} {
		rank := int(math.Ceil(q*float64(len(vals)))) - 1
		if got, want := h.Quantile(q), vals[rank]; !withinFrac(got, want, 0.01) {
			t.Errorf("Quantile(%v) = %v, exact %v", q, got, want)
		}
	}
	if h.Max() != vals[len(vals)-1] {
		t.Errorf("Max = %v, want exact %v", h.Max(), vals[len(vals)-1])
	}
}

func TestHistogramExactMax(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{3 * time.Millisecond, 1234567891, 7 * time.Microsecond} {
		h.Record(d)
	}
	if h.Max() != 1234567891 || h.Quantile(1) != 1234567891 {
		t.Fatalf("Max = %v, Quantile(1) = %v", h.Max(), h.Quantile(1))
	}
	// The top slot's histMidpoint is above 1234567891 but never reported.
	if got := h.Quantile(0.99); got > h.Max() {
		t.Fatalf("Quantile(0.99) = %v above Max", got)
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Max() != 0 || h.Quantile(0.5) != 0 || h.Quantile(1) != 0 || h.Quantile(0) != 0 {
		t.Fatal("empty histogram not all zero")
	}
	var o Histogram
	h.Merge(&o)
	if h.Count() != 0 {
		t.Fatal("merging empty changed count")
	}
	h.Reset()
}

func TestHistogramClamp(t *testing.T) {
	var h Histogram
	h.Record(100 * time.Nanosecond)
	h.Record(-time.Second) // a clock step backwards must not panic
	h.Record(2 * time.Minute)
	h.Record(time.Duration(1 << 62))
	if h.Count() != 4 {
		t.Fatalf("Count = %d", h.Count())
	}
	if h.Max() != 1<<62 || h.Quantile(1) != 1<<62 {
		t.Errorf("Max = %v: the exact maximum is kept even beyond the range", h.Max())
	}
	// The two small values are counted at 1µs (withinFrac 1%).
	if got := h.Quantile(0.5); !withinFrac(got, time.Microsecond, 0.01) {
		t.Errorf("Quantile(0.5) = %v, want ~1µs", got)
	}
	// The two large ones at the top of the range, ~68.7s.
	if got := h.Quantile(0.75); !withinFrac(got, histMax, 0.01) {
		t.Errorf("Quantile(0.75) = %v, want ~%v", got, histMax)
	}
	// A histogram of only sub-µs values reports them exactly via min/max.
	var s Histogram
	s.Record(500 * time.Nanosecond)
	if got := s.Quantile(0.5); got != 500*time.Nanosecond {
		t.Errorf("single 500ns: Quantile(0.5) = %v", got)
	}
	// q outside [0,1] is clamped.
	if h.Quantile(-1) != h.Quantile(0) || h.Quantile(2) != h.Max() {
		t.Error("q not clamped into [0,1]")
	}
}

func TestHistogramMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var a, b, both Histogram
	for range 5000 {
		d := time.Duration(r.Int64N(int64(time.Second)))
		a.Record(d)
		both.Record(d)
		e := time.Duration(r.Int64N(int64(50*time.Millisecond))) + 2*time.Second
		b.Record(e)
		both.Record(e)
	}
	a.Merge(&b)
	if a != both {
		t.Fatal("merge differs from recording both")
	}
	// Merging into an empty histogram copies.
	var c Histogram
	c.Merge(&b)
	if c != b {
		t.Fatal("merge into empty differs")
	}
}

func TestHistogramReset(t *testing.T) {
	var h Histogram
	for v := range 1000 {
		h.Record(time.Duration(v) * time.Millisecond)
	}
	h.Reset()
	if h != (Histogram{}) {
		t.Fatal("Reset left state behind")
	}
	h.Record(5 * time.Millisecond)
	if h.Count() != 1 || h.Quantile(0.5) != 5*time.Millisecond {
		t.Fatalf("after Reset: count %d, p50 %v", h.Count(), h.Quantile(0.5))
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	ds := make([]time.Duration, 1024)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range ds {
		ds[i] = time.Duration(r.Int64N(int64(time.Second)))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(ds[i&1023])
	}
	if h.Count() == 0 {
		b.Fatal("nothing recorded")
	}
}
