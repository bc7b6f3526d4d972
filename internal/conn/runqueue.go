package conn

import (
	"runtime/metrics"
	"time"
)

// runQueueMetric is the runtime's histogram of how long goroutines waited,
// ready, before they ran.
const runQueueMetric = "/sched/latencies:seconds"

// runQueueWaits snapshots that histogram, or returns nil when the runtime
// does not offer it.
func runQueueWaits() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: runQueueMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	return s[0].Value.Float64Histogram()
}

// starvedBetween reports whether, between two snapshots, at least a tenth of
// the goroutines that ran had waited d or longer to run: the process had
// more to run than CPU to run it on, and its reader, like the rest, may have
// been kept from replies the server sent in time.
func starvedBetween(before, after *metrics.Float64Histogram, d time.Duration) bool {
	if before == nil || after == nil || len(before.Counts) != len(after.Counts) {
		return false
	}
	var ran, slow uint64
	for i, n := range after.Counts {
		n -= before.Counts[i]
		ran += n
		if after.Buckets[i] >= d.Seconds() { // bucket i holds waits from Buckets[i] up to Buckets[i+1]
			slow += n
		}
	}
	return ran > 0 && slow*10 >= ran
}
