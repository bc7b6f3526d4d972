package drill

import (
	"reflect"
	"testing"
	"time"
)

// A write pause (a manual failover) fails writes only: Reads and
// FailedReads count the GETs apart from the writes, whatever their class.
func TestAnalyzeFailedReads(t *testing.T) {
	ops := []Op{OpGet, OpSet, OpIncr}
	var samples []Sample
	for i := range 30 {
		s := Sample{Start: time.Duration(i) * 10 * time.Millisecond, Latency: time.Millisecond, Op: ops[i%3]}
		switch {
		case i >= 10 && i < 20 && s.Op != OpGet:
			s.Class = ClassTimeout // the paused writes
		case i == 21:
			s.Class = ClassConn // one read failed
		case i == 24:
			s.Class = ClassSkipped // one read never issued
		}
		samples = append(samples, s)
	}
	fig, _, _ := Analyze(RunInput{Shards: 1, Duration: time.Second, Samples: samples, Markers: servedAtStart(1)})
	if fig.Reads != 10 || fig.FailedReads != 2 {
		t.Errorf("reads %d failed %d, want 10 and 2", fig.Reads, fig.FailedReads)
	}
	if want := map[string]int{"conn": 1, "skipped": 1}; !reflect.DeepEqual(fig.FailedReadsByClass, want) {
		t.Errorf("failed reads by class %v, want %v", fig.FailedReadsByClass, want)
	}
	if fig.Errors != 9 {
		t.Errorf("errors %d, want 9 (7 writes and 2 reads)", fig.Errors)
	}

	// No failure at all: the figures are zero, not missing.
	fig, _, _ = Analyze(RunInput{Shards: 1, Duration: time.Second, Samples: samples[:5], Markers: servedAtStart(1)})
	if fig.Reads != 2 || fig.FailedReads != 0 || fig.FailedReadsByClass == nil {
		t.Errorf("clean run: reads %d failed %d by class %v", fig.Reads, fig.FailedReads, fig.FailedReadsByClass)
	}
}
