package drill

import (
	"cmp"
	"slices"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// RunInput is what one run recorded.
type RunInput struct {
	// Shards is the number of shards; Sample.Shard and report.Marker.Shard index them.
	Shards int
	// Duration is how long the workload ran (offsets are in [0, Duration]).
	Duration time.Duration
	// Bucket is the timeline bucket width; 100ms when 0.
	Bucket time.Duration
	// Samples are the requests' outcomes, in any order.
	Samples []Sample
	// Markers are the steps and served/unserved events, in any order.
	Markers []report.Marker
}

// defaultBucketWidth is the timeline bucket width when RunInput.Bucket is 0.
const defaultBucketWidth = 100 * time.Millisecond

// Analyze computes a run's figures. It fills every report.Figures field it can derive
// from samples and markers; the audit fields (LostWrites, LostIncrs,
// DuplicateIncrs), GoroutinesLeft and CloseMS are left zero for the caller to
// fill. It returns the per-shard figures, by shard index, and per shard a
// timeline of buckets of width in.Bucket (100ms when 0) covering
// [0, in.Duration), at least one.
//
// The definitions are those documented on report.Figures, report.ShardFigures and report.Bucket:
//
//   - Latency figures cover every sample, failed or not. Samples whose Shard
//     is out of range count in report.Figures but in no shard; markers whose Shard is
//     out of range (other than -1 on a step) are ignored.
//   - A shard's serving periods run from each report.MarkServed marker of the shard
//     to its next report.MarkServed or report.MarkUnserved marker, or to in.Duration. Time
//     before the shard's first report.MarkServed is not a serving period.
//   - In a period [a, b), over the shard's samples that started in it: if
//     none failed, the period adds nothing. Otherwise, with F and L the first
//     and last start of a failed sample, the period adds R − max(a, F), where
//     R is the earliest completion of a success that started after L (R may
//     fall after b). When no such success exists the period adds
//     b − max(a, F); if that period lasted to the run's end (no
//     later served or unserved marker) the shard is not Recovered.
//   - A shard is Touched when a step named it or the whole cluster (Shard
//     -1), when it has a report.MarkUnserved marker, or when it has more than one
//     report.MarkServed marker (its serving node changed). HealthyAvailability is
//     the success ratio over the samples of untouched shards, -1 when every
//     shard was touched or untouched shards have no samples.
//   - report.Figures.Reads and FailedReads count the GET samples, all and
//     failed (skipped ones included, as in Errors).
//   - report.Figures.DowntimeMS is the largest shard downtime; report.Figures.Recovered is
//     true when every shard recovered.
func Analyze(in RunInput) (report.Figures, []report.ShardFigures, [][]report.Bucket) {
	nShards := max(in.Shards, 0)
	width := in.Bucket
	if width <= 0 {
		width = defaultBucketWidth
	}
	// One histogram, reused for every bucket: it is 26KB.
	h := new(Histogram)

	fig := report.Figures{Recovered: true, ErrorsByClass: map[string]int{}, FailedReadsByClass: map[string]int{}, HealthyAvailability: -1}
	for _, s := range in.Samples {
		h.Record(s.Latency)
		if s.Op == OpGet {
			fig.Reads++
		}
		if s.OK() {
			continue
		}
		fig.ErrorsByClass[s.Class.String()]++
		if s.Op == OpGet {
			fig.FailedReads++
			fig.FailedReadsByClass[s.Class.String()]++
		}
	}
	fig.Requests = len(in.Samples)
	fig.Errors = fig.Requests - countOKSamples(in.Samples)
	fig.P50MS, fig.P99MS, fig.MaxMS = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Max())
	h.Reset()

	markers := slices.Clone(in.Markers)
	slices.SortStableFunc(markers, func(x, y report.Marker) int { return cmp.Compare(x.At, y.At) })
	touched := touchedShards(markers, nShards)
	byShard := samplesByShard(in.Samples, nShards)

	nBuckets := 1
	if in.Duration > 0 {
		nBuckets = int((in.Duration + width - 1) / width)
	}
	shards := make([]report.ShardFigures, nShards)
	timeline := make([][]report.Bucket, nShards)
	var healthyOK, healthyAll int
	for i, ss := range byShard {
		ok := countOKSamples(ss)
		sf := report.ShardFigures{Shard: i, Recovered: true, Touched: touched[i], Requests: len(ss), Errors: len(ss) - ok}
		var down time.Duration
		for _, p := range servingPeriods(markers, i, in.Duration) {
			d, recovered := periodDowntime(ss, p.from, p.to)
			down += d
			// A period cut short by the next marker while requests still
			// fail is not a failure to recover: the next period picks the
			// outage up. Only the run's end leaves a client unrecovered.
			if !recovered && p.open {
				sf.Recovered = false
			}
		}
		sf.DowntimeMS = ms(down)
		shards[i] = sf
		timeline[i] = shardTimeline(ss, nBuckets, width, h)

		fig.DowntimeMS = max(fig.DowntimeMS, sf.DowntimeMS)
		fig.Recovered = fig.Recovered && sf.Recovered
		if !sf.Touched {
			healthyOK += ok
			healthyAll += len(ss)
		}
	}
	if healthyAll > 0 {
		fig.HealthyAvailability = float64(healthyOK) / float64(healthyAll)
	}
	return fig, shards, timeline
}

// MarkersJSON converts markers to their report form, sorted by time (markers
// at the same time keep their order).
func MarkersJSON(markers []report.Marker) []report.MarkerJSON {
	out := make([]report.MarkerJSON, len(markers))
	for i, m := range markers {
		out[i] = report.MarkerJSON{AtMS: ms(m.At), Marker: m}
	}
	slices.SortStableFunc(out, func(x, y report.MarkerJSON) int { return cmp.Compare(x.At, y.At) })
	return out
}

func countOKSamples(ss []Sample) int {
	n := 0
	for _, s := range ss {
		if s.OK() {
			n++
		}
	}
	return n
}

// samplesByShard returns each in-range shard's samples sorted by Start, all
// in one backing array: a counting sort by shard, then a sort by time.
func samplesByShard(samples []Sample, n int) [][]Sample {
	counts := make([]int, n)
	for _, s := range samples {
		if s.Shard >= 0 && s.Shard < n {
			counts[s.Shard]++
		}
	}
	all := make([]Sample, 0, len(samples))
	out := make([][]Sample, n)
	for i, c := range counts {
		out[i] = all[len(all) : len(all) : len(all)+c] // appends stay in place
		all = all[:len(all)+c]
	}
	for _, s := range samples {
		if s.Shard >= 0 && s.Shard < n {
			out[s.Shard] = append(out[s.Shard], s)
		}
	}
	for _, ss := range out {
		slices.SortFunc(ss, func(x, y Sample) int { return cmp.Compare(x.Start, y.Start) })
	}
	return out
}

// touchedShards reports, per shard, whether a step acted on it or its
// serving node changed. markers are sorted by time.
func touchedShards(markers []report.Marker, n int) []bool {
	touched := make([]bool, n)
	served := make([]int, n)
	for _, m := range markers {
		if m.Kind == report.MarkStep && m.Shard == -1 {
			for i := range touched {
				touched[i] = true
			}
			continue
		}
		if m.Shard < 0 || m.Shard >= n {
			continue
		}
		switch m.Kind {
		case report.MarkStep, report.MarkUnserved:
			touched[m.Shard] = true
		case report.MarkServed:
			served[m.Shard]++
			touched[m.Shard] = touched[m.Shard] || served[m.Shard] > 1
		}
	}
	return touched
}

// servingPeriod is [from, to); open when it lasted to the run's end.
type servingPeriod struct {
	from, to time.Duration
	open     bool
}

// servingPeriods returns the periods in which the cluster itself served
// shard: from each of its served markers to its next served or unserved
// marker, or to end. markers are sorted by time.
//
// A period that ends because the shard became unserved ends instead at the
// first step that touched the shard within it (a step on the shard, or a
// cluster-wide one), when there is one: from the moment the fault was
// injected, failures are the cluster's doing, though the watcher can only
// notice the shard unserved a probe timeout later.
func servingPeriods(markers []report.Marker, shard int, end time.Duration) []servingPeriod {
	var out []servingPeriod
	open := false
	var from, step time.Duration
	stepped := false
	for _, m := range markers {
		if m.Kind == report.MarkStep && (m.Shard == shard || m.Shard == -1) && open && !stepped {
			step, stepped = m.At, true
		}
		if m.Shard != shard || (m.Kind != report.MarkServed && m.Kind != report.MarkUnserved) {
			continue
		}
		if open {
			to := m.At
			if m.Kind == report.MarkUnserved && stepped {
				to = step
			}
			out = append(out, servingPeriod{from, to, false})
		}
		open, from, stepped = m.Kind == report.MarkServed, m.At, false
	}
	if open {
		out = append(out, servingPeriod{from, end, true})
	}
	return out
}

// periodDowntime returns the client-added downtime within the serving period
// [a, b), given the shard's samples sorted by Start, and whether a success
// after the last failure ended it.
func periodDowntime(ss []Sample, a, b time.Duration) (time.Duration, bool) {
	lo, _ := slices.BinarySearchFunc(ss, a, func(s Sample, t time.Duration) int { return cmp.Compare(s.Start, t) })
	hi, _ := slices.BinarySearchFunc(ss, b, func(s Sample, t time.Duration) int { return cmp.Compare(s.Start, t) })
	if hi < lo { // a > b: a served marker after the run's end
		return 0, true
	}
	ss = ss[lo:hi]

	var first, last time.Duration
	failed := false
	for _, s := range ss {
		if !s.OK() {
			if !failed {
				first, failed = s.Start, true
			}
			last = s.Start
		}
	}
	if !failed {
		return 0, true
	}
	from := max(a, first)

	// Open loop: a request that started later may finish earlier, so the
	// recovery point is the earliest completion, not the first start.
	var recovery time.Duration
	recovered := false
	for _, s := range ss {
		if s.OK() && s.Start > last && (!recovered || s.End() < recovery) {
			recovery, recovered = s.End(), true
		}
	}
	if !recovered {
		return b - from, false
	}
	return recovery - from, true
}

// shardTimeline returns the timeline of one shard's samples, sorted by Start:
// n buckets of the given width from offset 0, each sample in the bucket of
// its Start (clamped into range). h is an empty histogram to work with; it
// is left empty.
func shardTimeline(ss []Sample, n int, width time.Duration, h *Histogram) []report.Bucket {
	out := make([]report.Bucket, n)
	for k := range out {
		out[k].AtMS = ms(time.Duration(k) * width)
	}
	flush := func(k int) {
		if h.Count() > 0 {
			out[k].P50MS, out[k].P99MS = ms(h.Quantile(0.5)), ms(h.Quantile(0.99))
			h.Reset()
		}
	}
	cur := 0
	for _, s := range ss {
		// Sorted by Start, so bucket indexes only grow: flush on change.
		k := min(max(int(s.Start/width), 0), n-1)
		if k != cur {
			flush(cur)
			cur = k
		}
		h.Record(s.Latency)
		b := &out[k]
		if s.OK() {
			b.OK++
			continue
		}
		if b.Errors == nil {
			b.Errors = map[string]int{}
		}
		b.Errors[s.Class.String()]++
	}
	flush(cur)
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
