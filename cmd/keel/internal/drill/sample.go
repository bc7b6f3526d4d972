package drill

import (
	"sync"
	"time"
)

// Op is the command a workload request ran.
type Op uint8

// The workload's operations.
const (
	OpGet Op = iota
	OpSet
	OpIncr
)

func (o Op) String() string {
	switch o {
	case OpGet:
		return "GET"
	case OpSet:
		return "SET"
	case OpIncr:
		return "INCR"
	}
	return "?"
}

// Sample is the outcome of one workload request.
type Sample struct {
	// Start is when the request was issued, as an offset from the run's start.
	// Open-loop: the scheduled time, whether or not earlier requests had
	// finished.
	Start time.Duration
	// Latency is how long the caller waited for the outcome.
	Latency time.Duration
	// Shard is the index of the shard that owned the request's key when the
	// run began.
	Shard int
	// Op is the command.
	Op Op
	// Class is ClassOK for a success, otherwise the kind of error.
	Class Class
}

// End returns when the request completed, as an offset from the run's start.
func (s Sample) End() time.Duration { return s.Start + s.Latency }

// OK reports whether the request succeeded.
func (s Sample) OK() bool { return s.Class == ClassOK }

// Recorder collects samples from concurrent workload goroutines.
type Recorder struct {
	mu      sync.Mutex
	samples []Sample
	ok, bad int64
}

// Record adds one sample.
func (r *Recorder) Record(s Sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	if s.OK() {
		r.ok++
	} else {
		r.bad++
	}
	r.mu.Unlock()
}

// Counts returns how many successes and errors were recorded so far; the
// progress line shows them.
func (r *Recorder) Counts() (ok, errs int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, r.bad
}

// Samples returns a copy of every sample recorded so far, in recording order.
func (r *Recorder) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Sample, len(r.samples))
	copy(out, r.samples)
	return out
}
