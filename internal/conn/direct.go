package conn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/resp"
)

// A lone caller on an idle connection (a request-serial handler, the most
// common shape of a web service) writes its request and reads its reply
// itself. Going through the writer and reader goroutines instead costs two
// goroutine wake-ups per request, which on a machine with idle cores are
// wake-ups of other threads: about a third of the round trip on loopback.
// Under load the connection is never idle, so requests still share the
// writer's batches and the reader's reads.
//
// The reader goroutine reads only while replies are owed. In between, nobody
// reads the socket, so an idle connection is looked at (without reading)
// before anything is written on it: one the server closed fails the request
// unsent, as the reader would have failed it before, and bytes nobody asked
// for close it as a protocol error, so they cannot pass for the reply to the
// next request. The monitor looks at idle sockets the same way at every
// check, so a connection the server closes is noticed with no request. Over
// TLS the socket holds records the server may send unasked (session
// tickets), so a look proves nothing: there, the reader goroutine reads all
// the time and every request goes through it.

// maxDirectBytes is the most a caller writes itself with no watch on its
// context: on an idle connection, whose server has read everything before,
// a write this small fits the peer's receive window, so it returns once the
// peer's kernel has it, whatever its process does. A 16 KiB value and its
// command fit. Larger requests go direct only from Do (direct_large.go).
const maxDirectBytes = 32 << 10

// directState is what a connection keeps for direct requests.
type directState struct {
	// possible is false where the socket cannot be looked at without
	// reading it (TLS, not a socket, or no way to peek on this platform), or
	// where pushes are expected while idle: the reader goroutine then reads
	// all the time, and every request goes through it.
	possible bool
	wire     wireBatch // the encoded requests; guarded by writeMu
	starts   []int     // each request's wire offset in wire; guarded by writeMu
	idle     idleCheck
	reply    replyWait    // a lone caller's wait for its reply (replywait.go)
	streak   loneStreak   // whether direct requests come from a lone caller; guarded by readMu
	count    atomic.Int64 // requests written directly
	// readyWaits counts the waits in replyWait that ended with the socket
	// readable, for tests.
	readyWaits atomic.Int64
	writing    atomic.Bool // a caller is writing a large request (writeLarge)
	// patience bounds a direct read's wait for its reply when its context
	// can end: longer, and the reader goroutine takes over.
	patience time.Duration
	// readDeadline is the socket's read deadline (zero: none); guarded by
	// readMu. It outlives a direct read, and serves the next ones while at
	// least half the patience is left: setting and clearing a deadline for
	// every request costs two runtime timer updates, a few percent of a
	// loopback round trip. The reader goroutine clears it before it reads.
	readDeadline time.Time
}

// directPatience is the least patience: many round trips of a loaded
// machine's loopback, or of a network within one availability zone. It is
// also how often the deadline moves (every half of it), and moving the
// runtime's earliest timer wakes a thread (the network poller's, or
// sysmon): with 2 ms, a lone caller made 0.85 futex(2) calls per request
// against go-redis's 0.44, whose deadlines are seconds away; with 10 ms,
// 0.51.
const directPatience = 10 * time.Millisecond

// maxDirectPatience caps the patience, and so how late a cancelled context
// is noticed, whatever the handshake's round trip (which a busy or loading
// server can stretch).
const maxDirectPatience = 20 * time.Millisecond

func (d *directState) init(c *Conn) {
	_, isTLS := c.nc.(*tls.Conn)
	d.possible = c.opts.OnPush == nil && !isTLS && d.idle.init(c.nc)
	if d.possible {
		d.reply.init(c.nc)
	}
	d.patience = min(max(directPatience, 4*c.rtt), maxDirectPatience)
}

// lookWhileIdle looks into the socket of a connection nothing is in flight
// on, which nobody reads (see doDirect), so that the server closing it (its
// process killed, say) is noticed within a check period, as the reader
// would have noticed it had it been reading. It reports false once the
// connection failed.
func (c *Conn) lookWhileIdle() bool {
	if !c.direct.possible || c.owed.Load() != 0 || !c.writeMu.TryLock() {
		return true
	}
	defer c.writeMu.Unlock()
	return c.owed.Load() != 0 || c.idleUsable() // under writeMu nothing can be sent
}

// DirectRequests returns how many requests their callers wrote and read
// themselves (see doDirect).
func (c *Conn) DirectRequests() int64 { return c.direct.count.Load() }

// idleUsable reports whether an idle connection may take a request: its
// socket is open and holds nothing. Otherwise it fails the connection, so
// the request is refused unsent. Call it with writeMu held, while nothing is
// in flight.
func (c *Conn) idleUsable() bool {
	switch err := c.direct.idle.look(); {
	case err == errBytesWaiting:
		c.fail(fmt.Errorf("%w: bytes arrived with no request waiting", resp.ErrProtocol))
		return false
	case err != nil:
		c.fail(err)
		return false
	}
	return true
}

// doDirect writes reqs (one request, or a batch whose last alone is
// signalled) and reads their replies on the caller's goroutine, when the
// connection is idle. It reports false, having done nothing, when they must
// be queued instead. When it reports true, they are complete, or (the
// caller's context ended, or the reply was slow) left to the reader
// goroutine: either way the caller waits for the last as usual.
func (c *Conn) doDirect(ctx context.Context, reqs ...*request) bool {
	if !c.sendDirect(ctx, reqs, true) {
		return false
	}
	c.finishDirect(ctx, reqs[len(reqs)-1])
	return true
}

// sendDirect is doDirect's first half: it writes reqs when the connection
// is idle, and then keeps the read (readMu) for finishDirect or a bounded
// readUntil, which must follow. Requests over maxDirectBytes go only when
// large allows. It reports false, having done nothing, when they must be
// queued instead.
//
// Lock order: writeMu, then readMu, then mu. readLarge takes writeMu while
// holding readMu, but only with TryLock, which cannot deadlock.
func (c *Conn) sendDirect(ctx context.Context, reqs []*request, large bool) bool {
	if !c.direct.possible || c.owed.Load() != 0 {
		return false
	}
	if argBytes(reqs) > maxDirectBytes && (!large || ctx.Err() != nil) {
		return false
	}
	if !c.writeMu.TryLock() {
		return false
	}
	if !c.readMu.TryLock() {
		c.writeMu.Unlock()
		return false
	}
	if !c.writeAlone(ctx, reqs) {
		c.writeMu.Unlock()
		c.releaseRead()
		return false
	}
	c.writeMu.Unlock() // the writer may send what queued behind them
	c.direct.count.Add(int64(len(reqs)))
	return true
}

// finishDirect is doDirect's second half: it reads replies until last's
// (see readUntil) and gives up the read.
func (c *Conn) finishDirect(ctx context.Context, last *request) {
	c.readUntil(ctx, last, false)
	c.releaseRead()
}

// argBytes is the length of reqs' arguments: a little less than their
// encoding's, known before encoding them.
func argBytes(reqs []*request) int {
	n := 0
	for _, r := range reqs {
		for _, a := range r.args {
			n += len(a)
		}
	}
	return n
}

// releaseRead gives up the read, and hands the replies still owed to the
// reader goroutine: while the read was held, the reader may have been woken
// for them, found it held, and gone back to waiting.
func (c *Conn) releaseRead() {
	c.readMu.Unlock()
	if c.owed.Load() > 0 {
		c.wakeReader()
	}
}

// writeAlone puts reqs in flight and writes them, if nothing else is queued
// or in flight and the socket is usable. Call it with writeMu and readMu
// held.
func (c *Conn) writeAlone(ctx context.Context, reqs []*request) bool {
	c.mu.Lock()
	if c.dead || c.draining || len(c.queue) > 0 || c.inflight.len() > 0 {
		c.mu.Unlock()
		return false
	}
	c.mu.Unlock()
	if !c.idleUsable() {
		return false // the requests are refused unsent, by enqueue
	}
	w := &c.direct.wire
	defer w.reset()
	starts := c.direct.starts[:0]
	for _, r := range reqs {
		starts = append(starts, w.appendCommand(r.args))
	}
	c.direct.starts = starts
	c.mu.Lock()
	if c.dead || c.draining || len(c.queue) > 0 {
		c.mu.Unlock()
		return false
	}
	c.busyAt = c.clock()
	c.direct.streak.note(c.enqueued.Load())
	for _, r := range reqs {
		r.state.Store(stateWritten)
		c.inflight.push(r)
	}
	c.addOwed(int64(len(reqs)))
	c.mu.Unlock()

	var n int
	var err error
	if w.size > maxDirectBytes {
		n, err = c.writeLarge(ctx, w)
	} else {
		n, err = w.writeTo(c.nc)
	}
	c.lastWrite.Store(c.clock())
	if err != nil {
		c.markUnsent(reqs, starts, n)
		c.fail(err)
	}
	return true
}

// readUntil reads replies until r's arrives, never blocking on the socket
// past a deadline: a value is read only once all of it is buffered, and the
// wait for bytes ends, when ctx can end, at ctx's deadline or after the
// connection's patience, whichever comes first. It then leaves r to the
// reader goroutine, and its caller waits on ctx as any other does. A reply
// larger than the read buffer is read by readLarge, or else left to the
// reader goroutine too.
//
// bounded is for a caller that holds other connections' reads (a
// pipeline's first pass over its nodes): the wait ends after the patience
// whatever ctx, and large replies are left to the reader goroutine, so that
// no other connection's replies wait on this one's for longer. Call it with
// readMu held.
func (c *Conn) readUntil(ctx context.Context, r *request, bounded bool) {
	c.armDirectRead(ctx, bounded)
	c.awaitReply(r)
	for len(r.done) == 0 { // signalled once complete: only its caller takes the signal
		if !c.rd.Ready() {
			err := c.rd.Fill()
			if err == nil {
				continue
			}
			if errors.Is(err, bufio.ErrBufferFull) && !bounded && c.readLarge(ctx, r) {
				c.armDirectRead(ctx, bounded) // readLarge read with no deadline
				continue
			}
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, bufio.ErrBufferFull) {
				break
			}
			// The stream ended or broke: Read says how, from what is buffered.
		}
		if _, ok := c.readOne(); !ok {
			break
		}
	}
}

// armDirectRead sets the socket's read deadline for a direct read (see
// readUntil). Without a callback on ctx's end (which costs allocations per
// request), a cancellation is noticed within the patience.
func (c *Conn) armDirectRead(ctx context.Context, bounded bool) {
	if ctx.Done() == nil && !bounded {
		c.setReadDeadline(time.Time{})
		return
	}
	now := time.Now()
	deadline := now.Add(c.direct.patience)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if set := c.direct.readDeadline; set.IsZero() || set.After(deadline) || set.Sub(now) < c.direct.patience/2 {
		c.setReadDeadline(deadline)
	}
}

// setReadDeadline sets the socket's read deadline (zero: none) unless it is
// set already. Call it with readMu held.
func (c *Conn) setReadDeadline(t time.Time) {
	if t.Equal(c.direct.readDeadline) {
		return
	}
	_ = c.nc.SetReadDeadline(t)
	c.direct.readDeadline = t
}
