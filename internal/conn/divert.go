package conn

import (
	"context"
	"errors"

	"github.com/keel-go/keel/resp"
)

// ErrDiverted is returned by DoRead for a read that should go on another
// connection: this one's oldest request has had no reply for
// Options.DivertReadsAfter (a write held by CLIENT PAUSE WRITE, say), and
// the server answers each connection's commands in order, so the read would
// wait behind it. The read may still run here (harmlessly: it is read-only);
// its reply is then dropped.
var ErrDiverted = errors.New("keel: connection stalled behind its oldest request; read diverted")

// DoRead is Do for a read-only command, which the connection may hand back
// with ErrDiverted, unsent or with its reply to be dropped, while its oldest
// request stalls (see Options.DivertReadsAfter): the caller sends it on
// another connection.
func (c *Conn) DoRead(ctx context.Context, args ...string) (resp.Value, error) {
	divertible := c.opts.DivertReadsAfter > 0
	if divertible && c.diverting.Load() {
		return resp.Value{}, ErrDiverted
	}
	return c.do(ctx, args, divertible)
}

// Diverting reports whether the connection hands reads back (DoRead's
// ErrDiverted) because its oldest request stalls.
func (c *Conn) Diverting() bool { return c.diverting.Load() }

// setDiverting starts or stops diverting reads. Starting hands back every
// divertible read already queued or in flight behind the oldest request:
// queued ones unsent, written ones replaced in the in-flight list by a
// stand-in whose reply is dropped, so the replies stay in step; written
// hedged ones (DoReadElsewhere) stay, their callers signalled to race.
func (c *Conn) setDiverting(on bool) {
	if !on {
		c.diverting.Store(false)
		return
	}
	c.diverting.Store(true)
	c.mu.Lock()
	var out []*request
	for i := 1; i < c.inflight.len(); i++ { // not the oldest: the server may be running it
		r := c.inflight.at(i)
		if r.hedged {
			if r.state.Load() == stateWritten && !r.raced.Swap(true) {
				r.hedge <- struct{}{} // capacity 1, sent once: never blocks
			}
			continue
		}
		if !r.divertible || !r.state.CompareAndSwap(stateWritten, stateLeft) {
			continue
		}
		standIn := newRequest(r.args)
		standIn.state.Store(stateLeft)
		c.inflight.set(i, standIn)
		out = append(out, r)
	}
	for _, r := range c.queue {
		if r.divertible && r.state.CompareAndSwap(stateQueued, stateAbandoned) {
			out = append(out, r)
		}
	}
	c.mu.Unlock()
	for _, r := range out {
		r.complete(resp.Value{}, ErrDiverted)
	}
}
