package drill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Workload configures the open-loop load a run drives through a client.
type Workload struct {
	// Rate is requests per second, issued on schedule whether or not earlier
	// requests have finished. Default 2000: a load a 2-core machine carries
	// next to six redis-server processes with room to spare.
	Rate int
	// Timeout is each request's own deadline, counted from its scheduled
	// start. Default 1s.
	Timeout time.Duration
	// GetPercent and SetPercent split the requests; INCR gets the rest.
	// Defaults 50 and 30 (so INCR 20).
	GetPercent, SetPercent int
	// MaxInFlight bounds requests waiting for a reply; a request due when
	// the bound is reached is not issued and counts as ClassSkipped.
	// Default 2 × Rate × Timeout, which a client that honours deadlines
	// never reaches.
	MaxInFlight int
}

func (w Workload) withDefaults() Workload {
	if w.Rate <= 0 {
		w.Rate = 2000
	}
	if w.Timeout <= 0 {
		w.Timeout = time.Second
	}
	if w.GetPercent == 0 && w.SetPercent == 0 {
		w.GetPercent, w.SetPercent = 50, 30
	}
	if w.MaxInFlight <= 0 {
		w.MaxInFlight = max(100, int(2*float64(w.Rate)*w.Timeout.Seconds()))
	}
	return w
}

// Mix describes the request mix for reports.
func (w Workload) Mix() string {
	w = w.withDefaults()
	return fmt.Sprintf("GET %d%% / SET %d%% / INCR %d%%", w.GetPercent, w.SetPercent, 100-w.GetPercent-w.SetPercent)
}

// load is one run's workload: it issues requests on schedule, records each
// outcome and keeps the audit of what the client acknowledged.
type load struct {
	w      Workload
	ks     *keyspace
	client Client
	rec    *Recorder
	audit  *audit
	start  time.Time
	abort  context.Context // cancelled only when the whole drill is interrupted

	inflight atomic.Int64
	wg       sync.WaitGroup // every request goroutine
	lastErr  atomic.Int64   // completion offset (ns) of the latest error; -1 for none
}

func newLoad(abort context.Context, w Workload, ks *keyspace, c Client) *load {
	l := &load{w: w.withDefaults(), ks: ks, client: c, rec: &Recorder{}, audit: newAudit(), abort: abort}
	l.lastErr.Store(-1)
	return l
}

// run issues requests from l.start until ctx is done. It returns when it
// stops issuing; requests in flight finish on their own deadlines (see drain).
func (l *load) run(ctx context.Context) {
	r := rand.New(rand.NewPCG(uint64(l.start.UnixNano()), 1))
	interval := time.Second / time.Duration(l.w.Rate)
	shards := len(l.ks.tags)
	var n, writes int
	for {
		due := l.start.Add(time.Duration(n) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			return
		}
		shard := r.IntN(shards)
		p := r.IntN(100)
		var op Op
		var key string
		switch {
		case p < l.w.GetPercent:
			op, key = OpGet, l.ks.reads[shard][r.IntN(len(l.ks.reads[shard]))]
		case p < l.w.GetPercent+l.w.SetPercent:
			op, key = OpSet, l.ks.writeKey(shard, writes, r)
			writes++
		default:
			op, key = OpIncr, l.ks.counters[shard][r.IntN(len(l.ks.counters[shard]))]
		}
		l.issue(due, shard, op, key)
		n++
	}
}

func (l *load) issue(due time.Time, shard int, op Op, key string) {
	s := Sample{Start: due.Sub(l.start), Shard: shard, Op: op}
	if l.inflight.Add(1) > int64(l.w.MaxInFlight) {
		l.inflight.Add(-1)
		s.Class = ClassSkipped
		l.record(s)
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.inflight.Add(-1)
		ctx, cancel := context.WithDeadline(l.abort, due.Add(l.w.Timeout))
		s.Class = l.do(ctx, s.Start, op, key)
		cancel()
		s.Latency = time.Since(due)
		l.record(s)
	}()
}

// do runs one request, issued at the offset issued, and audits its outcome.
func (l *load) do(ctx context.Context, issued time.Duration, op Op, key string) Class {
	switch op {
	case OpGet:
		v, found, err := l.client.Get(ctx, key)
		if err != nil {
			return Classify(err)
		}
		// A missing key is the cluster's doing (a restart that persists
		// nothing), not the client's; a different value never is.
		if found && v != readValue(key) {
			return ClassWrongValue
		}
	case OpSet:
		l.audit.attemptSet(key)
		if err := l.client.Set(ctx, key, writeValue(key)); err != nil {
			return Classify(err)
		}
		l.audit.ackSet(key, issued, time.Since(l.start))
	case OpIncr:
		l.audit.attemptIncr(key)
		v, err := l.client.Incr(ctx, key)
		if err != nil {
			return Classify(err)
		}
		l.audit.ackIncr(key, issued, time.Since(l.start), v)
	}
	return ClassOK
}

func (l *load) record(s Sample) {
	if !s.OK() {
		l.lastErr.Store(int64(s.End()))
	}
	l.rec.Record(s)
}

// lastError returns the completion offset of the latest error, or -1.
func (l *load) lastError() time.Duration { return time.Duration(l.lastErr.Load()) }

// drain waits for requests in flight, at most d; it reports whether all
// finished. A client that ignores deadlines leaves some behind.
func (l *load) drain(d time.Duration) bool {
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// writeValue is the value a SET stores under key.
func writeValue(key string) string { return "w=" + key }
