package conn

import (
	"context"
	"errors"

	"github.com/keel-go/keel/resp"
)

// Elsewhere sends a read on another connection: DoReadElsewhere's way out
// of a stalled connection.
type Elsewhere interface {
	// ReadElsewhere sends args, a read-only command diverted from the
	// connection to addr, on another connection, and returns its reply
	// (an error reply as an error, as Do does).
	ReadElsewhere(ctx context.Context, addr string, args []string) (resp.Value, error)
}

// ErrNoElsewhere, wrapped, is what an Elsewhere returns when it has no
// other connection to send the read on (its dial failed, even with a reply
// from the server, such as a full client table): the read then waits on
// this connection instead of failing.
var ErrNoElsewhere = errors.New("keel: no other connection to send the read on")

// DoReadElsewhere is DoRead for a caller that can send the read elsewhere
// itself. A read the connection diverts (see Options.DivertReadsAfter) goes
// to alt: at once when it was not sent here yet; when it was, it also stays
// here and the first success of the two wins, the other's reply being
// dropped. A stall is not always a paused write: when the server or the
// machine is slow as a whole, the reply here, already on its way, often
// comes first, and a read sent again elsewhere (on a connection perhaps
// still to be dialled) would only come later.
func (c *Conn) DoReadElsewhere(ctx context.Context, args []string, alt Elsewhere) (resp.Value, error) {
	if c.opts.DivertReadsAfter <= 0 {
		return c.do(ctx, args, false)
	}
	// Even a read that goes elsewhere at once is copied into a request: alt
	// is given the request's args, so the caller's slice never escapes.
	r, err := prepare(ctx, args)
	if err != nil {
		return resp.Value{}, err
	}
	if c.diverting.Load() {
		v, err := alt.ReadElsewhere(ctx, c.addr, r.args)
		r.release()
		if errors.Is(err, ErrNoElsewhere) {
			return c.do(ctx, args, false)
		}
		return v, err
	}
	r.divertible, r.hedged = true, true
	if c.doDirect(ctx, r) {
		// Alone in flight, r is the oldest request, which is never
		// diverted: only the reads queued behind it would be.
		if err := c.wait(ctx, r); err != nil {
			return resp.Value{}, err
		}
		return takeReply(r)
	}
	if err := c.enqueue(r); err != nil {
		r.release()
		return resp.Value{}, err
	}
	select {
	case <-r.done:
	case <-r.hedge:
		return c.race(ctx, r, alt)
	case <-ctx.Done():
		r.leave()
		return resp.Value{}, ctx.Err()
	}
	if r.err == ErrDiverted {
		// Handed back unsent; the queue may still hold r, so it is left to
		// the garbage collector.
		v, err := alt.ReadElsewhere(ctx, c.addr, r.args)
		if errors.Is(err, ErrNoElsewhere) {
			return c.do(ctx, args, false)
		}
		return v, err
	}
	return takeReply(r)
}

// race waits for r, a hedged read already written here, and for the same
// read sent elsewhere: the first success wins (a reply here, even an error
// reply, is a success). When both fail, r's error is returned.
func (c *Conn) race(ctx context.Context, r *request, alt Elsewhere) (resp.Value, error) {
	type result struct {
		v   resp.Value
		err error
	}
	altCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	elsewhere := make(chan result, 1)
	go func() { // ended by cancel, and waited for before race returns
		v, err := alt.ReadElsewhere(altCtx, c.addr, r.args)
		elsewhere <- result{v, err}
	}()
	here := r.done
	for {
		select {
		case <-here:
			if r.err == nil || elsewhere == nil {
				cancel()
				if elsewhere != nil {
					<-elsewhere
				}
				return takeReply(r)
			}
			here = nil // the connection failed: the read elsewhere may still succeed
		case res := <-elsewhere:
			elsewhere = nil
			switch {
			case res.err == nil && here == nil:
				r.release() // complete, and alt is done with its args
				return res.v, nil
			case res.err == nil:
				r.leave() // its reply will be dropped; r is left to the garbage collector
				return res.v, nil
			case here == nil:
				return takeReply(r)
			}
		case <-ctx.Done():
			cancel()
			if elsewhere != nil {
				<-elsewhere
			}
			if here == nil {
				r.release()
			} else {
				r.leave()
			}
			return resp.Value{}, ctx.Err()
		}
	}
}

// takeReply returns a complete request's result and releases it.
func takeReply(r *request) (resp.Value, error) {
	v, err := r.reply, r.err
	r.release()
	if err == nil {
		err = v.Err()
	}
	return v, err
}
