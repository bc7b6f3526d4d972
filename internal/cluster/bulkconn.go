package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// A node's shared connection answers in order, and Redis serves each
// connection at most 64 KiB of replies per turn of its event loop. While a
// node's reads are answered with large values (1 MiB GETs), the shared
// connection is therefore a slow lane for them, and, when hundreds of
// callers queue such reads on it, the node buffers hundreds of megabytes of
// replies for one connection: measured on a 3-node cluster from 256
// goroutines, a quarter of the throughput of eight reads in flight per node.
// A read does not say how large its reply will be, but the node's recent
// replies do. While they are mostly large (largeReads), the node's reads go
// on its bulk connections, at most maxLargeReads at once; the others wait in
// the client, where waiting costs the node nothing. Writes with large
// arguments (a 1 MiB SET) go there too, one per bulk connection at a time,
// which is what Redis reads fastest, and they no longer hold up the small
// requests of the shared connection.
//
// The bulk connections, up to maxBulkConns per node, are dialled in the
// background on first need with the shared connection's options, health
// check and ROLE confirmation: one that fails the check suspects the node,
// as the shared one does. They
// are counted in the connection stats, re-authenticated, replaced for their
// age, and drained or closed with the node's others.

// bulkReplyBytes is the length from which a reply counts as large.
const bulkReplyBytes = 64 << 10

// maxBulkConns is the most bulk connections per node.
const maxBulkConns = 4

// bulkArgBytes is the total length of a command's arguments from which a
// write is a large request.
const bulkArgBytes = 64 << 10

// maxLargeReads is the most reads per node in flight at once while its
// replies are large.
const maxLargeReads = 8

// maxLargeWrites is the most large writes per node in flight at once: one
// per bulk connection (which may also carry a small request, spareconn.go).
// Connections sending one large value at a time
// measured faster than the same connections each with several queued, or
// than one connection (1 MiB SETs from 64 goroutines: about 1.3x go-redis,
// against 0.6x with eight at once or all on the shared connection).
const maxLargeWrites = maxBulkConns

// The node's score of large replies: each read reply of bulkReplyBytes or
// more raises it by one (up to maxLargeScore), each smaller one lowers it by
// one, and reads are large reads while it is at least spreadAt. A mix of
// mostly small replies (one large in a hundred) never gets there: its reads
// keep the shared connection and its batching.
const (
	maxLargeScore = 32
	spreadAt      = 16
)

// noteReply records the size of a read's reply v in the node's score.
func (n *nodeCounters) noteReply(v resp.Value) {
	switch {
	case len(v.Str) >= bulkReplyBytes:
		if n.largeReplies.Load() < maxLargeScore {
			n.largeReplies.Add(1)
		}
	case n.largeReplies.Load() > 0:
		n.largeReplies.Add(-1)
	}
}

// largeReads reports whether the node's recent read replies were mostly
// large.
func (n *nodeCounters) largeReads() bool { return n.largeReplies.Load() >= spreadAt }

// slots returns the node's semaphore of large reads or of large writes,
// made on first use.
func (n *nodeCounters) slots(read bool) chan struct{} {
	p, size := &n.largeWriteSlots, maxLargeWrites
	if read {
		p, size = &n.largeReadSlots, maxLargeReads
	}
	if s := p.Load(); s != nil {
		return *s
	}
	s := make(chan struct{}, size)
	p.CompareAndSwap(nil, &s)
	return *p.Load()
}

// isBulk reports whether args are long enough (bulkArgBytes in all) to be
// sent as a large request.
func isBulk(args []string) bool {
	n := 0
	for _, a := range args {
		if n += len(a); n >= bulkArgBytes {
			return true
		}
	}
	return false
}

// large reports whether cmd with args, for the node of counters n, is a
// large request: a write with large arguments, or a read while the node's
// replies are large.
func large(cmd Command, args []string, n *nodeCounters) bool {
	if cmd.ReadOnly {
		return n.largeReads()
	}
	return isBulk(args)
}

// doLarge sends a large request to addr, the node of counters n: once one
// of the node's turns (maxLargeReads or maxLargeWrites) is free, on its
// least used bulk connection, or on c, the shared one, until one is open. A read is sent as
// on a shared connection (diverted if the connection stalls behind a write).
func (e *Engine) doLarge(ctx context.Context, c *conn.Conn, addr string, args []string, read bool, n *nodeCounters) (resp.Value, error) {
	slots := n.slots(read)
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return resp.Value{}, ctx.Err() // never sent
	}
	defer func() { <-slots }()
	if b, ok := e.pool.bulk(addr); ok {
		defer b.release()
		c = b.c
	}
	if read {
		return e.doRead(ctx, c, args)
	}
	return c.Do(ctx, args...)
}

// bulkConn is one bulk connection and how many requests use it now (queued or
// in flight: conn.InFlight counts only those written).
type bulkConn struct {
	c        *conn.Conn
	busy     atomic.Int64
	lastUsed atomic.Int64 // when the last request to use it ended (or it opened), in Unix nanoseconds
}

func newBulkConn(c *conn.Conn) *bulkConn {
	b := &bulkConn{c: c}
	b.lastUsed.Store(time.Now().UnixNano())
	return b
}

// release ends a request's use of b, which bulk or idleBulk counted.
func (b *bulkConn) release() {
	b.lastUsed.Store(time.Now().UnixNano())
	b.busy.Add(-1)
}

// bulkIdleClose is how long a bulk connection may go unused before the
// periodic refresh closes it (closeIdleBulk): a burst of large values, or
// of a few concurrent callers (spareconn.go), does not leave its
// connections open on the servers for good.
const bulkIdleClose = 30 * time.Second

// closeIdleBulk closes the bulk connections nothing has used for
// bulkIdleClose. Removed from their node under mu, they can no longer be
// picked.
func (p *pool) closeIdleBulk() {
	var idle []*conn.Conn
	p.mu.Lock()
	cutoff := time.Now().Add(-bulkIdleClose).UnixNano()
	for _, nc := range p.nodes {
		nc.filterBulk(func(b *bulkConn) bool {
			if !alive(b.c) {
				return false
			}
			if b.busy.Load() == 0 && b.c.InFlight() == 0 && b.lastUsed.Load() <= cutoff {
				idle = append(idle, b.c)
				return false
			}
			return true
		})
	}
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}

// bulk returns addr's live bulk connection that the fewest requests use,
// counting the caller as one more (it must take itself off when done). When
// every one is in use and there is room for another, one is dialled in the
// background; until the first is open, ok is false. It never waits for a
// dial.
func (p *pool) bulk(addr string) (b *bulkConn, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	nc := p.nodes[addr]
	if p.closed || nc == nil {
		return nil, false
	}
	live := nc.liveBulk()
	for _, x := range live {
		if b == nil || x.busy.Load() < b.busy.Load() {
			b = x
		}
	}
	inUse := b == nil || b.busy.Load() > 0
	if inUse && len(live)+nc.bulkDialing < maxBulkConns && time.Since(nc.bulkFailedAt) >= redialGap {
		nc.bulkDialing++
		p.e.wg.Add(1)
		go p.dialBulk(addr, nc)
	}
	if b == nil {
		return nil, false
	}
	b.busy.Add(1) // under mu: the next caller sees it in use
	return b, true
}

// liveBulk drops nc's closed bulk connections and returns the open ones.
// Call it with the pool's mu held.
func (nc *nodeConn) liveBulk() []*bulkConn {
	return nc.filterBulk(func(b *bulkConn) bool { return alive(b.c) })
}

// filterBulk keeps, in order, nc's bulk connections for which keep reports
// true, and returns them. Call it with the pool's mu held.
func (nc *nodeConn) filterBulk(keep func(*bulkConn) bool) []*bulkConn {
	kept := nc.bulk[:0]
	for _, b := range nc.bulk {
		if keep(b) {
			kept = append(kept, b)
		}
	}
	clear(nc.bulk[len(kept):])
	nc.bulk = kept
	return kept
}

// dialBulk opens a bulk connection to addr for nc, on a goroutine owned by
// the engine's WaitGroup and ended by the pool's context. A failed dial does
// not suspect the node (the shared connection serves its requests, and its
// own dials judge the node); the next request that needs one tries again
// after redialGap.
func (p *pool) dialBulk(addr string, nc *nodeConn) {
	defer p.e.wg.Done()
	c, err := conn.Dial(p.ctx, addr, p.connOptions(addr))
	if err == nil {
		// Large writes go on it: a primary demoted since the shared
		// connection confirmed it gets none (outside a cluster).
		err = p.e.confirmPrimary(c, addr, false)
	}
	p.e.stats.dials.Add(1)
	nc.stats.dials.Add(1)

	p.mu.Lock()
	nc.bulkDialing--
	keep := err == nil && !p.closed && p.nodes[addr] == nc
	if keep {
		nc.bulk = append(nc.bulk, newBulkConn(c))
	} else if err != nil {
		nc.bulkFailedAt = time.Now()
	}
	p.mu.Unlock()
	switch {
	case err == nil && !keep:
		_ = c.Close() // the pool closed, or dropped the node, while this dial ran
	case errors.As(err, new(*notPrimaryError)):
		p.e.demotedAtDial(addr, err)
	}
}

// others returns nc's connections besides the shared one: its side and
// bulk connections.
func (nc *nodeConn) others() []*conn.Conn {
	others := []*conn.Conn{nc.side}
	for _, b := range nc.bulk {
		others = append(others, b.c)
	}
	return others
}
