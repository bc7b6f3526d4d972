package cluster

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// A node's shared connection answers in order, and Redis writes each
// connection at most 64 KiB per turn of its event loop. While a node's reads
// are answered with large values (1 MiB GETs), the shared connection is
// therefore a slow lane for them, and, when hundreds of callers queue such
// reads on it, the node buffers hundreds of megabytes of replies for one
// connection: measured on a 3-node cluster from 256 goroutines, a quarter of
// the throughput with one read in flight per goroutine than with eight per
// node. A read does not say how large its reply will be, but the node's
// recent replies do. While they are mostly large (largeReads), the node's
// reads are sent on its bulk connections, at most maxLargeReads at once; the
// others wait for their turn in the client, where it costs the node nothing.
//
// The bulk connections, up to maxBulkConns per node, are dialled in the
// background on first need with the shared connection's options and health
// check: one that fails it suspects the node, as the shared one does. They
// are counted in the connection stats, re-authenticated, replaced for their
// age, and drained or closed with the node's others. Writes never use them:
// a large argument is not copied (see conn's writev), and sending large
// SETs on more connections measured no faster, nor the small requests of a
// mix any quicker.

// bulkReplyBytes is the length from which a reply counts as large.
const bulkReplyBytes = 64 << 10

// maxBulkConns is the most bulk connections per node.
const maxBulkConns = 4

// maxLargeReads is the most reads per node in flight at once while its
// replies are large.
const maxLargeReads = 8

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

// slots returns the node's semaphore of large reads, made on first use.
func (n *nodeCounters) slots() chan struct{} {
	if s := n.largeSlots.Load(); s != nil {
		return *s
	}
	s := make(chan struct{}, maxLargeReads)
	n.largeSlots.CompareAndSwap(nil, &s)
	return *n.largeSlots.Load()
}

// largeRead sends a read to addr, the node of counters n, while its replies
// are large: once one of the node's maxLargeReads turns is free, on its
// least used bulk connection, or on c, the shared one, until one is open.
func (e *Engine) largeRead(ctx context.Context, c *conn.Conn, addr string, args []string, n *nodeCounters) (resp.Value, error) {
	slots := n.slots()
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return resp.Value{}, ctx.Err() // never sent
	}
	defer func() { <-slots }()
	if b, ok := e.pool.bulk(addr); ok {
		b.busy.Add(1)
		defer b.busy.Add(-1)
		c = b.c
	}
	return e.doRead(ctx, c, args)
}

// bulkConn is one bulk connection and how many reads use it now (queued or
// in flight: conn.InFlight counts only those written).
type bulkConn struct {
	c    *conn.Conn
	busy atomic.Int64
}

// bulk returns addr's live bulk connection that the fewest reads use. When
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
	live := nc.bulk[:0]
	for _, x := range nc.bulk {
		if alive(x.c) {
			live = append(live, x)
		}
	}
	clear(nc.bulk[len(live):])
	nc.bulk = live
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
	return b, b != nil
}

// dialBulk opens a bulk connection to addr for nc, on a goroutine owned by
// the engine's WaitGroup and ended by the pool's context. A failed dial does
// not suspect the node (the shared connection serves its reads, and its own
// dials judge the node); the next large read tries again after redialGap.
func (p *pool) dialBulk(addr string, nc *nodeConn) {
	defer p.e.wg.Done()
	c, err := conn.Dial(p.ctx, addr, p.connOptions(addr))
	p.e.stats.dials.Add(1)
	nc.stats.dials.Add(1)

	p.mu.Lock()
	nc.bulkDialing--
	keep := err == nil && !p.closed && p.nodes[addr] == nc
	if keep {
		nc.bulk = append(nc.bulk, &bulkConn{c: c})
	} else if err != nil {
		nc.bulkFailedAt = time.Now()
	}
	p.mu.Unlock()
	if err == nil && !keep {
		_ = c.Close() // the pool closed, or dropped the node, while this dial ran
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
