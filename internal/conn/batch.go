package conn

import "sync"

// batch is the storage of one DoEach call. Its quiet requests (all but the
// last, see request.quiet) are held by value, so a batch of n commands costs
// two pool operations rather than 2n; the last request, which must be
// signalled, comes from the request pool.
type batch struct {
	quiet []request
	reqs  []*request // every request, in order: what the queue receives
}

// maxPooledBatch is the most commands a batch kept for reuse may hold.
const maxPooledBatch = 1024

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// newBatch returns a batch of the commands cmds[indexes[0]],
// cmds[indexes[1]], … (all of cmds, in order, when indexes is nil), their
// arguments copied. There must be at least one.
func newBatch(cmds [][]string, indexes []int) *batch {
	n := len(cmds)
	if indexes != nil {
		n = len(indexes)
	}
	args := func(j int) []string {
		if indexes != nil {
			return cmds[indexes[j]]
		}
		return cmds[j]
	}
	b := batchPool.Get().(*batch)
	if cap(b.quiet) < n-1 {
		b.quiet = make([]request, n-1) // fresh, never appended to: requests must not be copied
	}
	b.quiet = b.quiet[:n-1]
	if cap(b.reqs) < n {
		b.reqs = make([]*request, n)
	}
	b.reqs = b.reqs[:n]
	for j := range b.quiet {
		r := &b.quiet[j]
		r.args = append(r.args[:0], args(j)...)
		r.expect = expectFor(r.args)
		r.quiet = true
		r.state.Store(stateQueued)
		b.reqs[j] = r
	}
	b.reqs[n-1] = newRequest(args(n - 1))
	return b
}

// release returns the batch for reuse. Every request must be complete, its
// result taken, and its signal (the last request's) received: a batch the
// connection may still hold is left to the garbage collector instead.
func (b *batch) release() {
	b.reqs[len(b.reqs)-1].release()
	if len(b.reqs) > maxPooledBatch {
		return // too big to keep: the garbage collector takes it all
	}
	for j := range b.quiet {
		b.quiet[j].reset()
	}
	clear(b.reqs)
	batchPool.Put(b)
}
