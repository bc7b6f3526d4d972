package conn

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A lone caller also writes a large request (over maxDirectBytes) and reads
// a reply larger than the read buffer on its own goroutine, sparing it the
// writer's and reader's hand-offs. Such a transfer may take as long as the
// server takes to read or send it, and cannot be left half done: the caller
// goes through it under a callerWatch, whose firing (ctx ended) closes the
// connection with ErrCallerLeft. That costs nobody else a request, because
// it happens only while nothing but the caller's own requests was sent on
// the connection: a large write is made while nothing else is in flight,
// with writeMu held, and readLarge holds writeMu too.

// writeLarge writes w, which holds reqs of more than maxDirectBytes, under
// a watch on ctx. Meanwhile the health check counts a write that does not
// progress as the server's doing, as it does the reader's wait for a reply:
// nobody reads while the caller writes. Call it as writeAlone does.
func (c *Conn) writeLarge(ctx context.Context, w *wireBatch) (int, error) {
	watch := c.watchCaller(ctx)
	c.direct.writing.Store(true)
	n, err := w.writeTo(c.nc)
	c.direct.writing.Store(false)
	watch.end()
	return n, err
}

// readLarge reads a value larger than the read buffer, which is all or part
// of the replies to last's batch, on the caller's goroutine, under a watch
// on its context. It does so only while no other caller's request was sent
// behind the batch and ctx has not ended, and holds the write meanwhile, so
// that none is sent. Otherwise it reports false, having read nothing, and
// the reader goroutine reads the value. It reads with no deadline. Call it
// with readMu held.
func (c *Conn) readLarge(ctx context.Context, last *request) bool {
	if ctx.Err() != nil || !c.writeMu.TryLock() {
		return false
	}
	defer c.writeMu.Unlock()
	c.mu.Lock()
	own := c.inflight.len() > 0 && c.inflight.at(c.inflight.len()-1) == last
	c.mu.Unlock()
	if !own {
		return false
	}
	c.setReadDeadline(time.Time{})
	watch := c.watchCaller(ctx)
	_, ok := c.readOne()
	watch.end()
	return ok
}

// callerWatch closes a connection (ErrCallerLeft) when its caller's context
// ends during a large transfer, until end.
type callerWatch struct {
	stop   func() bool
	mu     sync.Mutex
	active bool // guarded by mu: the firing closes the connection only while set
}

func (c *Conn) watchCaller(ctx context.Context) *callerWatch {
	w := &callerWatch{active: true}
	if ctx.Done() == nil {
		return w
	}
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.active {
			c.fail(fmt.Errorf("%w (%w)", ErrCallerLeft, context.Cause(ctx)))
		}
	})
	return w
}

// end ends the watch: once it returns, ctx's end closes nothing, and a
// firing that began before has finished.
func (w *callerWatch) end() {
	if w.stop == nil || w.stop() {
		return // it never fires
	}
	w.mu.Lock()
	w.active = false
	w.mu.Unlock()
}
