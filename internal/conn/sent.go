package conn

import (
	"context"

	"github.com/keel-go/keel/resp"
)

// Sent is a batch SendEach sent (or queued), whose replies Wait collects.
// Its zero value is an empty batch.
type Sent struct {
	c *Conn
	b *batch
	// reading: the caller wrote the batch itself and holds the read
	// (readMu), which Read or Wait gives up (direct.go).
	reading bool
}

// SendEach is DoEach's first half, for a caller sending batches to several
// connections: it sends cmds (as DoEach, whose rules it follows) and
// returns at once. Sending every batch before waiting for any costs no
// goroutine, and lets their round trips overlap. Read must follow on every
// Sent, once all are sent, and then Wait: a batch its caller wrote itself
// (the connection was idle) holds the connection's read until Read.
func (c *Conn) SendEach(ctx context.Context, cmds [][]string, indexes []int) (Sent, error) {
	return c.sendEach(ctx, cmds, indexes, false)
}

// sendEach is SendEach; large allows the caller to write a batch of more
// than maxDirectBytes itself, which only a caller that holds no other
// connection's read may do.
func (c *Conn) sendEach(ctx context.Context, cmds [][]string, indexes []int, large bool) (Sent, error) {
	n := len(cmds)
	if indexes != nil {
		n = len(indexes)
	}
	if n == 0 {
		return Sent{}, nil
	}
	if err := ctx.Err(); err != nil {
		return Sent{}, err // never sent
	}
	// The reader completes requests in the order they were queued, and so
	// does fail: once the last is done, every one is. Only the last is
	// signalled, so this goroutine wakes once per batch.
	b := newBatch(cmds, indexes)
	for _, r := range b.reqs {
		if r.expect == expectRefused {
			err := refused(r.args)
			b.release()
			return Sent{}, err
		}
	}
	if c.sendDirect(ctx, b.reqs, large) {
		return Sent{c: c, b: b, reading: true}, nil
	}
	if err := c.enqueue(b.reqs...); err != nil {
		b.release()
		return Sent{}, err
	}
	return Sent{c: c, b: b}, nil
}

// Read reads the replies that come within the connection's patience, when
// the caller wrote the batch itself, and gives up the read: the connection's
// reader goroutine reads the rest, and large ones. A caller holding several
// connections' reads calls Read on each before it waits on any, so that no
// connection's replies wait long on another's.
func (s *Sent) Read(ctx context.Context) {
	if !s.reading {
		return
	}
	s.reading = false
	s.c.readUntil(ctx, s.b.reqs[len(s.b.reqs)-1], true)
	s.c.releaseRead()
}

// Wait is DoEach's second half: it waits for the replies of the batch and
// hands them to put, as DoEach does. Call it once.
func (s *Sent) Wait(ctx context.Context, put func(j int, v resp.Value)) (int, error) {
	if s.b == nil {
		return 0, nil
	}
	c, reqs := s.c, s.b.reqs
	n := len(reqs)
	if s.reading {
		s.reading = false
		c.finishDirect(ctx, reqs[n-1])
	}
	ctxErr := waitDone(ctx, reqs[n-1]) // collect abandons the batch, whole
	got, err := c.collect(reqs, put, ctxErr)
	if ctxErr == nil || got == n {
		// Every request is complete and its signal taken. Otherwise some
		// may still be in the connection's hands, and the batch is left to
		// the garbage collector, like any abandoned request.
		s.b.release()
	}
	s.b = nil
	return got, err
}
