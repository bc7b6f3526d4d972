package conn

import (
	"sync"
	"sync/atomic"

	"github.com/keel-go/keel/resp"
)

// A request's state decides, exactly once, whether the writer sends it or its
// caller abandons it first: an abandoned request is never written.
const (
	stateQueued int32 = iota
	stateWritten
	stateAbandoned
	// stateLeft is a written request whose caller stopped waiting: its reply
	// is still read (and dropped), but the monitor bounds how long that may
	// take, so a trickled reply nobody wants cannot hold up the connection.
	stateLeft
)

// request is one command and, once done is signalled, its result.
type request struct {
	// args is the request's own copy of the command, in storage kept across
	// reuse: the caller's slice is not retained, so a variadic Do(ctx, "GET",
	// key) needs no allocation for it.
	args []string
	// expect is what the command can be answered with: the reader checks
	// each reply against it.
	expect expect
	state  atomic.Int32
	// unsent marks a request the writer proved it did not send (its bytes lay
	// beyond a failed write). Written and read under Conn.mu.
	unsent bool
	reply  resp.Value
	err    error
	done   chan struct{} // capacity 1: completing never blocks
	// quiet requests (all of a DoEach batch but its last) are not signalled
	// on done: answered is set instead, and their caller learns they are
	// complete from the batch's last request, which completes after them.
	quiet    bool
	answered atomic.Bool
	// divertible marks a read (DoRead) the connection may hand back with
	// ErrDiverted while its oldest request stalls.
	divertible bool
	// hedged marks a divertible read (DoReadElsewhere) that, once written,
	// stays in flight when the connection diverts: hedge is then signalled
	// and its caller races the reply here against the read sent elsewhere.
	hedged bool
	hedge  chan struct{} // capacity 1, kept across reuse like done
	raced  atomic.Bool   // hedge was signalled
}

var requestPool = sync.Pool{New: func() any {
	return &request{done: make(chan struct{}, 1), hedge: make(chan struct{}, 1)}
}}

func newRequest(args []string) *request {
	r := requestPool.Get().(*request)
	r.args = append(r.args[:0], args...)
	r.expect = expectFor(args)
	r.state.Store(stateQueued)
	return r
}

// maxKeptArgs is the most arguments whose storage a released request keeps.
const maxKeptArgs = 64

// leave records that r's caller stopped waiting for it.
func (r *request) leave() {
	if !r.state.CompareAndSwap(stateQueued, stateAbandoned) {
		r.state.CompareAndSwap(stateWritten, stateLeft)
	}
}

// release returns a request whose result its caller has taken. Abandoned
// requests are left to the garbage collector: the pipeline may still hold them.
func (r *request) release() {
	r.reset()
	requestPool.Put(r)
}

// reset clears a complete request for reuse, keeping its signal channel and
// (unless a long command grew it) its argument storage.
func (r *request) reset() {
	args := r.args
	clear(args) // a pool must not keep the caller's strings alive
	if cap(args) > maxKeptArgs {
		args = nil
	}
	select {
	case <-r.hedge: // signalled after its caller stopped looking
	default:
	}
	*r = request{done: r.done, hedge: r.hedge, args: args[:0]}
}

// complete records the result and wakes the caller, if it is still waiting.
// The completer must not touch r afterwards.
func (r *request) complete(v resp.Value, err error) {
	r.reply, r.err = v, err
	if r.quiet {
		r.answered.Store(true)
		return
	}
	r.done <- struct{}{}
}

// isAnswered reports, without waiting, whether r is complete; for a request
// that is signalled, it takes the signal.
func (r *request) isAnswered() bool {
	if r.quiet {
		return r.answered.Load()
	}
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}
