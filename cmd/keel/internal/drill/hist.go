package drill

import (
	"math"
	"math/bits"
	"time"
)

// Histogram layout (the HdrHistogram technique). Values are nanoseconds.
// Below 2^(histSubBits+1) every value has its own slot; above, each power of two
// [2^k, 2^(k+1)) is split into 2^histSubBits equal slots, so a slot is at most
// 1/128 of its values wide and the midpoint reported for it is within 0.4%
// of every value it holds. Memory is fixed: one counter per slot.
const (
	histSubBits = 7
	histMaxBits = 36 // values below 2^36ns (about 68.7s) are kept

	histMin time.Duration = time.Microsecond   // smaller durations count as this
	histMax time.Duration = 1<<histMaxBits - 1 // larger durations count as this

	// Slots below histIndex(histMin) would only hold clamped-away values, so
	// the counters start there. histLow is histIndex(histMin) worked out by
	// hand (1000ns: exponent 2, 2<<7 + 1000>>2 = 506); a test checks it.
	histLow   = 506
	histSlots = (histMaxBits-histSubBits+1)<<histSubBits - histLow
)

// Histogram records durations with a bounded relative error: quantiles are
// within 1% of the true value for durations from 1µs to about 68.7s; shorter
// and longer durations are counted at those bounds. Max is exact. Record
// never allocates and memory is fixed (about 26KB).
//
// The zero value is an empty histogram ready to use. A Histogram is not safe
// for concurrent use.
type Histogram struct {
	counts   [histSlots]int64
	count    int64
	min, max time.Duration // exact extremes recorded; valid when count > 0
}

// histIndex returns the slot of d, clamped into the histogram's range.
func histIndex(d time.Duration) int {
	v := uint64(min(max(d, histMin), histMax))
	e := max(bits.Len64(v)-histSubBits-1, 0) // v>>e is then in [128, 256), or v itself when small
	return e<<histSubBits + int(v>>e) - histLow
}

// histMidpoint returns the middle of the values slot i holds.
func histMidpoint(i int) time.Duration {
	i += histLow
	if i < 2<<histSubBits {
		return time.Duration(i) // exact slots
	}
	e := i>>histSubBits - 1
	m := int64(i - e<<histSubBits)
	return time.Duration(m<<e + 1<<(e-1))
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	if h.count == 0 || d > h.max {
		h.max = d
	}
	if h.count == 0 || d < h.min {
		h.min = d
	}
	h.count++
	h.counts[histIndex(d)]++
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() int64 { return h.count }

// Max returns the largest duration recorded, exactly (not clamped); 0 when
// the histogram is empty.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the duration below or at which a fraction q of the
// recorded durations fall, q in [0, 1] (values outside are clamped). It is
// 0 for an empty histogram, and Quantile(1) is Max().
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	if !(q > 0) { // also catches NaN
		q = 0
	}
	rank := max(int64(math.Ceil(q*float64(h.count))), 1)
	var seen int64
	for i := histIndex(h.min); i <= histIndex(h.max); i++ {
		seen += h.counts[i]
		if seen >= rank {
			// A slot's midpoint can lie beyond what was recorded (or a
			// clamped value's true size); the exact extremes are better.
			return min(max(histMidpoint(i), h.min), h.max)
		}
	}
	return h.max // not reached: the slots sum to count
}

// Merge adds every duration recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	if h.count == 0 || o.max > h.max {
		h.max = o.max
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	for i := histIndex(o.min); i <= histIndex(o.max); i++ {
		h.counts[i] += o.counts[i]
	}
	h.count += o.count
}

// Reset empties h. Only the slots between the recorded extremes can be
// non-zero, so only those are cleared: resetting a histogram that held a
// narrow band of values is cheap.
func (h *Histogram) Reset() {
	if h.count > 0 {
		clear(h.counts[histIndex(h.min) : histIndex(h.max)+1])
	}
	h.count, h.min, h.max = 0, 0, 0
}
