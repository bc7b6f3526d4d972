package conn

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/keel-go/keel/resp"
)

// maxKeptBuffer is the largest write buffer the writer keeps between batches;
// a larger one, grown for a burst, is left to the garbage collector.
const maxKeptBuffer = 1 << 20

// maxBatchBytes bounds one write's wire bytes (large arguments, which are
// not copied, included); the requests queued beyond it go in the next write.
// Without it, values just under bigArgBytes queued together are copied under
// the lock into one buffer of their total size, grown by doubling and dropped
// after the write, and every request behind them waits for the whole of it.
const maxBatchBytes = maxKeptBuffer

// writeLoop drains the queue into one write per batch: however many callers
// queued while the previous write was in the kernel go out in one syscall.
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	var wb wireBatch
	var batch []*request
	var starts []int // each batch request's wire offset in wb
	for {
		select {
		case <-c.wake:
		case <-c.closing:
			return
		}
		c.gather()
		c.writeMu.Lock()
		if c.direct.possible && c.owed.Load() == 0 && !c.idleUsable() {
			c.writeMu.Unlock()
			return // failed: the queue was refused unsent
		}
		var more bool
		batch, starts, more = c.takeBatch(batch[:0], &wb, starts[:0])
		if more {
			c.wakeWriter() // for the requests left for the next write
		}
		if len(batch) == 0 {
			wb.reset()
			c.writeMu.Unlock()
			continue
		}
		c.unwritten.Store(false) // from here on, a slow write is the kernel's or the server's doing
		n, err := wb.writeTo(c.nc)
		c.lastWrite.Store(c.clock())
		c.writeMu.Unlock()
		if err != nil {
			c.markUnsent(batch, starts, n)
			c.fail(err)
			return
		}
		clear(batch)
		wb.reset()
	}
}

// maxGatherYields bounds how long the writer waits for more requests before
// a write: each yield lets runnable goroutines run once.
const maxGatherYields = 4

// gather gives callers about to queue a request the chance to do so before
// the writer takes the batch, so that one write(2) carries many commands.
// Without it, under load, the writer wakes for each caller the reader has
// just answered and sends its one command alone: a syscall per request, which
// is most of the CPU a client spends. Only while replies are owed does it
// wait: those replies wake callers who are likely to send again at once. A
// lone caller (nothing in flight) is sent immediately. The wait ends as soon
// as a yield brings no new request.
func (c *Conn) gather() {
	if c.owed.Load() == 0 {
		return
	}
	last := c.enqueued.Load()
	for range maxGatherYields {
		runtime.Gosched()
		n := c.enqueued.Load()
		if n == last {
			return
		}
		last = n
	}
}

// takeBatch moves every queued request that its caller has not abandoned to
// the in-flight list, in order, encodes each into wb and returns them with
// their wire offsets in wb. All of it happens under one lock, so a request is
// always in exactly one place fail can find it, and it is encoded before
// fail (a Close, say) can complete it and hand it back to its caller, who
// may release it for reuse while the writer is still busy with the batch.
func (c *Conn) takeBatch(batch []*request, wb *wireBatch, starts []int) (_ []*request, _ []int, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	taken := 0
	for _, r := range c.queue {
		if wb.size >= maxBatchBytes {
			break // the rest go in the next write (at least one is always taken)
		}
		taken++
		if !r.state.CompareAndSwap(stateQueued, stateWritten) {
			continue // abandoned: its caller has gone, so it is never sent
		}
		if c.inflight.len() == 0 {
			c.busyAt = c.clock()
		}
		c.inflight.push(r)
		c.addOwed(1)
		batch = append(batch, r)
		starts = append(starts, wb.appendCommand(r.args))
	}
	if len(batch) > 0 {
		c.unwritten.Store(true)
		c.wakeReader()
	}
	left := copy(c.queue, c.queue[taken:])
	clear(c.queue[left:])
	c.queue = c.queue[:left]
	c.checkDrained() // abandoned requests may have been all that was left
	return batch, starts, left > 0
}

// markUnsent records which requests of a failed write were certainly not
// sent: those starting at or after the bytes written. It must run before
// fail, and only while the requests are still in flight (not yet failed).
func (c *Conn) markUnsent(batch []*request, starts []int, written int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	// Only requests whose bytes were not all written are touched: a request
	// sent whole may already be answered and reused by its caller.
	for i, r := range batch {
		if starts[i] >= written {
			r.unsent = true
		}
	}
}

// failOldest fails the oldest request in flight, which was sent, with err.
func (c *Conn) failOldest(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.inflight.pop(); r != nil {
		c.addOwed(-1)
		c.popped++
		c.checkDrained()
		r.complete(resp.Value{}, &Error{Addr: c.addr, Sent: true, Err: err})
	}
}

// readLoop completes in-flight requests in order as replies arrive. While
// nothing is owed it waits, off the socket, so that a lone caller can read
// its own reply (direct.go); where that cannot happen it keeps reading, as
// the only reader.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		if c.direct.possible {
			select {
			case <-c.readWake:
			case <-c.closing:
				return
			}
		}
		if !c.readMu.TryLock() {
			continue // a caller reads; it wakes this loop if it leaves replies owed
		}
		ok := c.readOwed()
		c.readMu.Unlock()
		if !ok {
			return
		}
	}
}

// readOwed reads replies while any are owed (or, without direct reads, for
// as long as the connection lives). It reports false once the connection
// failed. Call it with readMu held.
func (c *Conn) readOwed() bool {
	c.setReadDeadline(time.Time{}) // a direct read's; this one waits as long as the server takes
	for c.owed.Load() > 0 || !c.direct.possible {
		if _, ok := c.readOne(); !ok {
			return false
		}
	}
	return true
}

// readOne reads one value and completes the request it answers, which it
// returns (nil for a push). It reports false, having failed the
// connection, when the stream broke or the value answers nothing in flight.
// Call it with readMu held.
func (c *Conn) readOne() (*request, bool) {
	v, err := c.rd.Read()
	if err != nil {
		if errors.Is(err, resp.ErrTooLarge) {
			// The reply is the oldest request's: it alone gets the
			// limit's error; the others lose their connection.
			c.failOldest(err)
			err = ErrOversizedReply
		}
		c.fail(err)
		return nil, false
	}
	if v.Kind == resp.KindPush {
		// Out-of-band data (RESP3), not the reply to any request.
		if c.opts.OnPush != nil {
			c.opts.OnPush(v)
		}
		return nil, true
	}
	c.noteReplySize(len(v.Str))
	c.mu.Lock()
	r := c.inflight.pop()
	var outOfStep error
	stray := false
	if r != nil {
		c.addOwed(-1)
		c.popped++
		c.checkDrained()
		// A request is in flight before its bytes leave, so a reply
		// buffered behind the last one owed answers nothing; read later,
		// it would pass for the next request's.
		stray = c.inflight.len() == 0 && c.rd.Unasked()
		// Completed under mu, so that fail, which completes whatever is
		// left in flight, cannot overtake it: the requests of a batch
		// then always complete in order, which DoEach relies on when it
		// waits for the last one only.
		if r.expect.accepts(v) {
			r.complete(v, nil)
		} else {
			outOfStep = fmt.Errorf("%w: %s answered with a %s", ErrOutOfStep, commandName(r.args), v.Kind)
			r.complete(resp.Value{}, &Error{Addr: c.addr, Sent: true, Err: outOfStep})
		}
	}
	c.mu.Unlock()
	if r == nil || stray {
		c.fail(fmt.Errorf("%w: a reply arrived with no request waiting", resp.ErrProtocol))
		return nil, false
	}
	if outOfStep != nil {
		c.fail(outOfStep)
		return nil, false
	}
	return r, true
}

// wakeReader tells the reader goroutine that replies are owed.
func (c *Conn) wakeReader() {
	select {
	case c.readWake <- struct{}{}:
	default:
	}
}
