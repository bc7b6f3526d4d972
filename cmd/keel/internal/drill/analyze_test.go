package drill

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// synth returns one sample every 10ms on every shard over [0, dur), each
// with 1ms latency; fail(shard, start) gives its class.
func synth(shards int, dur time.Duration, fail func(shard int, start time.Duration) Class) []Sample {
	var out []Sample
	for t := time.Duration(0); t < dur; t += 10 * time.Millisecond {
		for sh := range shards {
			out = append(out, Sample{Start: t, Latency: time.Millisecond, Shard: sh, Class: fail(sh, t)})
		}
	}
	return out
}

// failIn fails shard's requests that start in [from, to) with ClassConn.
func failIn(shard int, from, to time.Duration) func(int, time.Duration) Class {
	return func(sh int, t time.Duration) Class {
		if sh == shard && t >= from && t < to {
			return ClassConn
		}
		return ClassOK
	}
}

func served(shard int, at time.Duration) report.Marker {
	return report.Marker{At: at, Kind: report.MarkServed, Shard: shard}
}

func unserved(shard int, at time.Duration) report.Marker {
	return report.Marker{At: at, Kind: report.MarkUnserved, Shard: shard}
}

func step(shard int, at time.Duration) report.Marker {
	return report.Marker{At: at, Kind: report.MarkStep, Shard: shard, Label: "step"}
}

// servedAtStart marks every shard served at offset 0.
func servedAtStart(shards int) []report.Marker {
	var out []report.Marker
	for sh := range shards {
		out = append(out, served(sh, 0))
	}
	return out
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func checkShard(t *testing.T, sf report.ShardFigures, downMS float64, recovered, touched bool) {
	t.Helper()
	if !approx(sf.DowntimeMS, downMS) || sf.Recovered != recovered || sf.Touched != touched {
		t.Errorf("shard %d: downtime %vms recovered %v touched %v; want %vms %v %v",
			sf.Shard, sf.DowntimeMS, sf.Recovered, sf.Touched, downMS, recovered, touched)
	}
}

// A primary is killed: the cluster stops serving shard 0 at 2s and serves
// it again at 4s; the client fails until 4.5s.
func TestAnalyzeKill(t *testing.T) {
	markers := append(servedAtStart(3),
		step(0, 2*time.Second), unserved(0, 2*time.Second), served(0, 4*time.Second))
	in := RunInput{Shards: 3, Duration: 8 * time.Second,
		Samples: synth(3, 8*time.Second, failIn(0, 2*time.Second, 4500*time.Millisecond)),
		Markers: markers}
	fig, shards, timeline := Analyze(in)

	// Period [4s, 8s): first failure 4s, last 4.49s; the 4.5s success ends at 4.501s.
	checkShard(t, shards[0], 501, true, true)
	checkShard(t, shards[1], 0, true, false)
	checkShard(t, shards[2], 0, true, false)
	if !approx(fig.DowntimeMS, 501) || !fig.Recovered {
		t.Errorf("figures: downtime %v recovered %v", fig.DowntimeMS, fig.Recovered)
	}
	if fig.HealthyAvailability != 1 {
		t.Errorf("healthy availability %v, want 1", fig.HealthyAvailability)
	}
	if fig.Requests != 2400 || fig.Errors != 250 || !reflect.DeepEqual(fig.ErrorsByClass, map[string]int{"conn": 250}) {
		t.Errorf("requests %d errors %d by class %v", fig.Requests, fig.Errors, fig.ErrorsByClass)
	}
	if shards[0].Requests != 800 || shards[0].Errors != 250 || shards[1].Errors != 0 {
		t.Errorf("shard counts: %+v", shards)
	}
	if fig.P50MS != 1 || fig.P99MS != 1 || fig.MaxMS != 1 {
		t.Errorf("latency p50 %v p99 %v max %v, want 1ms", fig.P50MS, fig.P99MS, fig.MaxMS)
	}
	if len(timeline) != 3 || len(timeline[0]) != 80 {
		t.Fatalf("timeline %d shards × %d buckets, want 3 × 80", len(timeline), len(timeline[0]))
	}
	// Bucket 20 is [2s, 2.1s): 10 failures on shard 0, 10 successes on shard 1.
	if b := timeline[0][20]; b.AtMS != 2000 || b.OK != 0 || b.Errors["conn"] != 10 {
		t.Errorf("shard 0 bucket 20: %+v", b)
	}
	if b := timeline[1][20]; b.OK != 10 || b.Errors != nil {
		t.Errorf("shard 1 bucket 20: %+v", b)
	}
	// Audit and close fields are the caller's.
	if fig.LostWrites != 0 || fig.GoroutinesLeft != 0 || fig.CloseMS != 0 {
		t.Errorf("caller fields set: %+v", fig)
	}
}

// The client never recovers: failures run to the end of the run.
func TestAnalyzeNeverRecovers(t *testing.T) {
	markers := append(servedAtStart(2), unserved(0, 2*time.Second), served(0, 4*time.Second))
	fig, shards, _ := Analyze(RunInput{Shards: 2, Duration: 8 * time.Second,
		Samples: synth(2, 8*time.Second, failIn(0, 2*time.Second, time.Hour)),
		Markers: markers})
	checkShard(t, shards[0], 4000, false, true) // Duration − served time
	checkShard(t, shards[1], 0, true, false)
	if fig.Recovered || !approx(fig.DowntimeMS, 4000) {
		t.Errorf("figures: downtime %v recovered %v", fig.DowntimeMS, fig.Recovered)
	}
}

// A graceful failover: the shard is served throughout, by a new node from 3s.
func TestAnalyzeGracefulFailover(t *testing.T) {
	markers := append(servedAtStart(2), step(0, 3*time.Second), served(0, 3*time.Second))
	run := func(fail func(int, time.Duration) Class) report.ShardFigures {
		_, shards, _ := Analyze(RunInput{Shards: 2, Duration: 6 * time.Second,
			Samples: synth(2, 6*time.Second, fail), Markers: markers})
		if shards[1].Touched || shards[1].DowntimeMS != 0 {
			t.Errorf("shard 1: %+v", shards[1])
		}
		return shards[0]
	}
	t.Run("after", func(t *testing.T) {
		// Errors in [3s, 3.2s): 200ms + the recovering request's 1ms.
		checkShard(t, run(failIn(0, 3*time.Second, 3200*time.Millisecond)), 201, true, true)
	})
	t.Run("both periods", func(t *testing.T) {
		// Errors in [1s, 1.1s) count in the first period: 101ms, plus 201ms.
		fail := func(sh int, at time.Duration) Class {
			if sh == 0 && (at >= time.Second && at < 1100*time.Millisecond ||
				at >= 3*time.Second && at < 3200*time.Millisecond) {
				return ClassReadOnly
			}
			return ClassOK
		}
		checkShard(t, run(fail), 302, true, true)
	})
	t.Run("across the marker", func(t *testing.T) {
		// Errors in [2.9s, 3.2s): the first period ends at 3s still failing
		// (adds 3s − 2.9s); the second adds 201ms. The client did recover.
		checkShard(t, run(failIn(0, 2900*time.Millisecond, 3200*time.Millisecond)), 100+201, true, true)
	})
}

// Errors only while the cluster itself does not serve the shard are not the
// client's.
func TestAnalyzeUnservedOnly(t *testing.T) {
	markers := append(servedAtStart(2), unserved(0, 2*time.Second), served(0, 4*time.Second))
	fig, shards, _ := Analyze(RunInput{Shards: 2, Duration: 6 * time.Second,
		Samples: synth(2, 6*time.Second, failIn(0, 2*time.Second, 4*time.Second)),
		Markers: markers})
	checkShard(t, shards[0], 0, true, true)
	if fig.DowntimeMS != 0 || !fig.Recovered || fig.Errors != 200 {
		t.Errorf("figures: %+v", fig)
	}
}

// A sporadic error after the client seemed to recover extends the downtime
// to the first success after it: recovery means staying healthy.
func TestAnalyzeLateError(t *testing.T) {
	markers := append(servedAtStart(2), unserved(0, 2*time.Second), served(0, 4*time.Second))
	fail := func(sh int, at time.Duration) Class {
		if sh == 0 && (at >= 2*time.Second && at < 4500*time.Millisecond || at == 6*time.Second) {
			return ClassTimeout
		}
		return ClassOK
	}
	_, shards, _ := Analyze(RunInput{Shards: 2, Duration: 8 * time.Second,
		Samples: synth(2, 8*time.Second, fail), Markers: markers})
	// From 4s to the end of the 6.01s request.
	checkShard(t, shards[0], 2011, true, true)
}

// Recovery is the earliest completion of a success started after the last
// failure, not the first such start: open-loop requests overlap.
func TestAnalyzeEarliestCompletion(t *testing.T) {
	msec := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	samples := []Sample{
		{Start: msec(100), Latency: msec(1), Class: ClassOK},
		{Start: msec(200), Latency: msec(50), Class: ClassTimeout},
		{Start: msec(300), Latency: msec(500), Class: ClassOK}, // ends 800
		{Start: msec(250), Latency: msec(5), Class: ClassConn}, // last failure
		{Start: msec(310), Latency: msec(10), Class: ClassOK},  // ends 320: recovery
		{Start: msec(250), Latency: msec(1), Class: ClassOK},   // same start as the last failure: not after it
	}
	_, shards, _ := Analyze(RunInput{Shards: 1, Duration: time.Second, Samples: samples,
		Markers: []report.Marker{served(0, msec(150))}})
	checkShard(t, shards[0], 320-200, true, false)
	// A served marker at 220ms: the period starts after the first failure.
	_, shards, _ = Analyze(RunInput{Shards: 1, Duration: time.Second, Samples: samples,
		Markers: []report.Marker{served(0, msec(220))}})
	checkShard(t, shards[0], 320-250, true, false)
	// No served marker at all: no serving period, so no client downtime.
	_, shards, _ = Analyze(RunInput{Shards: 1, Duration: time.Second, Samples: samples})
	checkShard(t, shards[0], 0, true, false)
}

// A cluster-wide step touches every shard.
func TestAnalyzeClusterWideStep(t *testing.T) {
	markers := append(servedAtStart(3), step(-1, time.Second))
	fig, shards, _ := Analyze(RunInput{Shards: 3, Duration: 2 * time.Second,
		Samples: synth(3, 2*time.Second, failIn(-1, 0, 0)), Markers: markers})
	for _, sf := range shards {
		if !sf.Touched {
			t.Errorf("shard %d not touched", sf.Shard)
		}
	}
	if fig.HealthyAvailability != -1 {
		t.Errorf("healthy availability %v, want -1", fig.HealthyAvailability)
	}
}

func TestAnalyzeHealthyAvailability(t *testing.T) {
	// Shard 1 untouched with 1 failure in 100; shard 0 touched (served twice).
	markers := append(servedAtStart(2), served(0, 500*time.Millisecond))
	fail := func(sh int, at time.Duration) Class {
		if at == 300*time.Millisecond {
			return ClassOther
		}
		return ClassOK
	}
	fig, shards, _ := Analyze(RunInput{Shards: 2, Duration: time.Second,
		Samples: synth(2, time.Second, fail), Markers: markers})
	if !shards[0].Touched || shards[1].Touched {
		t.Fatalf("touched: %v %v", shards[0].Touched, shards[1].Touched)
	}
	if !approx(fig.HealthyAvailability, 0.99) {
		t.Errorf("healthy availability %v, want 0.99", fig.HealthyAvailability)
	}
	// No samples on the untouched shard: -1.
	only0 := synth(1, time.Second, fail)
	fig, _, _ = Analyze(RunInput{Shards: 2, Duration: time.Second, Samples: only0, Markers: markers})
	if fig.HealthyAvailability != -1 {
		t.Errorf("no untouched samples: healthy availability %v, want -1", fig.HealthyAvailability)
	}
}

func TestAnalyzeBuckets(t *testing.T) {
	msec := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	var samples []Sample
	// Bucket 3 ([300ms, 400ms)) of shard 0: latencies 1..10ms, the two
	// slowest timed out, the 8ms one lost its connection.
	for i := 1; i <= 10; i++ {
		c := ClassOK
		switch i {
		case 9, 10:
			c = ClassTimeout
		case 8:
			c = ClassConn
		}
		samples = append(samples, Sample{Start: msec(300 + 9*i), Latency: msec(i), Shard: 0, Class: c})
	}
	samples = append(samples,
		Sample{Start: -msec(5), Latency: msec(2), Shard: 0},                      // clamped into bucket 0
		Sample{Start: msec(2000), Latency: msec(3), Shard: 0},                    // clamped into the last bucket
		Sample{Start: msec(1000), Latency: msec(4), Shard: 0, Class: ClassOther}, // last bucket, [1000, 1050)
		Sample{Start: msec(100), Latency: msec(7), Shard: 5},                     // out of range: overall only
	)
	fig, shards, timeline := Analyze(RunInput{Shards: 2, Duration: msec(1050), Samples: samples,
		Markers: []report.Marker{served(0, 0), served(9, 0), step(7, 0)}}) // out-of-range markers ignored
	if fig.Requests != 14 || shards[0].Requests != 13 || shards[1].Requests != 0 {
		t.Errorf("requests: overall %d, shard 0 %d, shard 1 %d", fig.Requests, shards[0].Requests, shards[1].Requests)
	}
	// Neither shard is touched; only shard 0 has samples: 4 of its 13 failed.
	if shards[0].Touched || shards[1].Touched || !approx(fig.HealthyAvailability, 9.0/13) {
		t.Errorf("touched %v %v, healthy availability %v", shards[0].Touched, shards[1].Touched, fig.HealthyAvailability)
	}
	// Default width 100ms, ceil(1050/100) = 11 buckets.
	if len(timeline) != 2 || len(timeline[0]) != 11 || len(timeline[1]) != 11 {
		t.Fatalf("timeline shape %d × %d", len(timeline), len(timeline[0]))
	}
	for k, b := range timeline[0] {
		if b.AtMS != float64(100*k) {
			t.Errorf("bucket %d at %vms", k, b.AtMS)
		}
	}
	b := timeline[0][3]
	if b.OK != 7 || !reflect.DeepEqual(b.Errors, map[string]int{"timeout": 2, "conn": 1}) {
		t.Errorf("bucket 3: ok %d errors %v", b.OK, b.Errors)
	}
	if !withinFrac(time.Duration(b.P50MS*1e6), msec(5), 0.01) || !withinFrac(time.Duration(b.P99MS*1e6), msec(10), 0.01) {
		t.Errorf("bucket 3: p50 %vms p99 %vms, want 5 and 10", b.P50MS, b.P99MS)
	}
	if b := timeline[0][0]; b.OK != 1 || b.P50MS != 2 || b.P99MS != 2 {
		t.Errorf("bucket 0: %+v", b)
	}
	if b := timeline[0][10]; b.OK != 1 || b.Errors["other"] != 1 || b.P99MS != 4 {
		t.Errorf("last bucket: %+v", b)
	}
	if b := timeline[0][5]; b.OK != 0 || b.Errors != nil || b.P50MS != 0 || b.P99MS != 0 {
		t.Errorf("empty bucket: %+v", b)
	}
	if !approx(fig.MaxMS, 10) {
		t.Errorf("max %v", fig.MaxMS)
	}

	// An explicit width, and a duration that is an exact multiple.
	_, _, timeline = Analyze(RunInput{Shards: 1, Duration: time.Second, Bucket: msec(250), Samples: samples})
	if len(timeline[0]) != 4 || timeline[0][1].AtMS != 250 || timeline[0][1].OK != 7 {
		t.Errorf("250ms buckets: %+v", timeline[0])
	}
}

func TestAnalyzeEmpty(t *testing.T) {
	fig, shards, timeline := Analyze(RunInput{})
	if fig.Requests != 0 || !fig.Recovered || fig.HealthyAvailability != -1 || len(shards) != 0 || len(timeline) != 0 {
		t.Errorf("empty: %+v %v %v", fig, shards, timeline)
	}
	fig, shards, timeline = Analyze(RunInput{Shards: 2, Markers: []report.Marker{served(0, time.Second)}})
	if len(shards) != 2 || len(timeline[1]) != 1 || fig.DowntimeMS != 0 || fig.P99MS != 0 {
		t.Errorf("no samples: %+v %v %v", fig, shards, timeline)
	}
	if MarkersJSON(nil) == nil {
		t.Error("MarkersJSON(nil) is nil; reports want []")
	}
}

func TestAnalyzeMarkersJSON(t *testing.T) {
	in := []report.Marker{
		served(0, 1500*time.Millisecond),
		step(0, time.Second),
		unserved(0, 1500*time.Millisecond),
		served(1, 0),
	}
	got := MarkersJSON(in)
	want := []report.MarkerJSON{
		{AtMS: 0, Marker: in[3]},
		{AtMS: 1000, Marker: in[1]},
		{AtMS: 1500, Marker: in[0]}, // ties keep their order
		{AtMS: 1500, Marker: in[2]},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if in[0].Kind != report.MarkServed {
		t.Error("input reordered")
	}
}

func BenchmarkAnalyze(b *testing.B) {
	// 200k samples on 3 shards over 66.7s (1k requests/s per shard), a
	// kill on shard 0 with 2.5s of client errors.
	const n = 200000
	dur := time.Duration(n/3) * time.Millisecond
	samples := make([]Sample, 0, n)
	for i := range n {
		at := time.Duration(i/3) * time.Millisecond
		s := Sample{Start: at, Latency: time.Duration(200+i%5000) * time.Microsecond, Shard: i % 3}
		if s.Shard == 0 && at >= 20*time.Second && at < 22500*time.Millisecond {
			s.Class = ClassConn
		}
		samples = append(samples, s)
	}
	// Recorded out of order, as concurrent workers do.
	for i := 0; i+1 < n; i += 7 {
		samples[i], samples[i+1] = samples[i+1], samples[i]
	}
	markers := append(servedAtStart(3), step(0, 20*time.Second), unserved(0, 20*time.Second), served(0, 22*time.Second))
	in := RunInput{Shards: 3, Duration: dur, Samples: samples, Markers: markers}
	b.ReportAllocs()
	for b.Loop() {
		Analyze(in)
	}
}

// TestAnalyzeFaultBeforeUnserved: the watcher notices a hung primary only a
// probe timeout after the pause; failures between the pause and that
// notice are the cluster's, not the client's.
func TestAnalyzeFaultBeforeUnserved(t *testing.T) {
	in := RunInput{Shards: 1, Duration: 6 * time.Second}
	for at := time.Duration(0); at < in.Duration; at += 10 * time.Millisecond {
		s := Sample{Start: at, Latency: time.Millisecond}
		if at >= 2*time.Second && at < 4*time.Second {
			s.Class, s.Latency = ClassTimeout, time.Second
		}
		in.Samples = append(in.Samples, s)
	}
	in.Markers = []report.Marker{
		{At: 0, Kind: report.MarkServed, Shard: 0},
		{At: 2 * time.Second, Kind: report.MarkStep, Shard: 0, Label: "pause"},
		{At: 2110 * time.Millisecond, Kind: report.MarkUnserved, Shard: 0},
		{At: 4 * time.Second, Kind: report.MarkServed, Shard: 0},
	}
	fig, _, _ := Analyze(in)
	if fig.DowntimeMS != 0 || !fig.Recovered {
		t.Errorf("downtime %v ms, recovered %v; want 0: the client failed only while the cluster did", fig.DowntimeMS, fig.Recovered)
	}
	// Without the step marker the 110 ms before the watcher noticed count.
	in.Markers = append(in.Markers[:1], in.Markers[2:]...)
	if fig, _, _ := Analyze(in); fig.DowntimeMS != 110 {
		t.Errorf("without a step: downtime %v ms, want 110", fig.DowntimeMS)
	}
}
