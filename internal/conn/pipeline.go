package conn

import (
	"fmt"

	"github.com/keel-go/keel/resp"
)

// maxKeptBuffer is the largest write buffer the writer keeps between batches;
// a larger one, grown for a burst, is left to the garbage collector.
const maxKeptBuffer = 1 << 20

// writeLoop drains the queue into one write per batch: however many callers
// queued while the previous write was in the kernel go out in one syscall.
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	var buf []byte
	var batch []*request
	for {
		select {
		case <-c.wake:
		case <-c.closing:
			return
		}
		batch = c.takeBatch(batch[:0])
		if len(batch) == 0 {
			continue
		}
		buf = buf[:0]
		for _, r := range batch {
			r.start = len(buf)
			buf = resp.AppendCommand(buf, r.args)
		}
		n, err := c.nc.Write(buf)
		c.lastWrite.Store(c.clock())
		if err != nil {
			c.markUnsent(batch, n)
			c.fail(err)
			return
		}
		clear(batch)
		if cap(buf) > maxKeptBuffer {
			buf = nil
		}
	}
}

// takeBatch moves every queued request that its caller has not abandoned to
// the in-flight list, in order, and returns them. Both happen under one lock,
// so a request is always in exactly one place fail can find it.
func (c *Conn) takeBatch(batch []*request) []*request {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.queue {
		if !r.state.CompareAndSwap(stateQueued, stateWritten) {
			continue // abandoned: its caller has gone, so it is never sent
		}
		if c.inflight.len() == 0 {
			c.busyAt = c.clock()
		}
		c.inflight.push(r)
		batch = append(batch, r)
	}
	clear(c.queue)
	c.queue = c.queue[:0]
	c.checkDrained() // abandoned requests may have been all that was left
	return batch
}

// markUnsent records which requests of a failed write were certainly not
// sent: those starting at or after the bytes written. It must run before
// fail, and only while the requests are still in flight (not yet failed).
func (c *Conn) markUnsent(batch []*request, written int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	for _, r := range batch {
		if r.start >= written {
			r.unsent = true
		}
	}
}

// readLoop completes in-flight requests in order as replies arrive.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		v, err := c.rd.Read()
		if err != nil {
			c.fail(err)
			return
		}
		if v.Kind == resp.KindPush {
			// Out-of-band data (RESP3), not the reply to any request.
			if c.opts.OnPush != nil {
				c.opts.OnPush(v)
			}
			continue
		}
		c.mu.Lock()
		r := c.inflight.pop()
		if r != nil {
			c.checkDrained()
		}
		c.mu.Unlock()
		if r == nil {
			c.fail(fmt.Errorf("%w: a reply arrived with no request waiting", resp.ErrProtocol))
			return
		}
		r.complete(v, nil)
	}
}
