package cluster

import (
	"time"

	"github.com/keel-go/keel/internal/conn"
)

// A node's shared connection multiplexes its callers: under load, many
// requests share each write and each read. With few callers that sharing
// costs instead of saving: a caller alone on the connection writes and
// reads its own request (conn's direct requests), but one that finds
// another's request in flight queues behind it, and its request goes
// through the connection's writer and reader goroutines, a wake-up of
// another thread each. From 2 goroutines on a 3-node cluster a third of the
// requests met another so, and keel made 0.83–0.91× go-redis's requests per
// second (which gives each caller a pooled connection of its own).
//
// So while the client has two to spareCallers operations in progress (as
// admitted: a pipeline or a blocking command counts one), a small request
// that finds another in flight on the node's shared connection goes on an
// idle bulk connection of the node (bulkconn.go) instead, as its lone
// request; when none is idle, up to spareCallers-1 are dialled in the
// background, one per such request, which goes on the shared connection
// meanwhile. The periodic refresh closes them once unused for
// bulkIdleClose. Under load every small request stays on the shared
// connection and its batching: sending every request that met another on a
// spare cost 25–40% of the throughput from 16 goroutines. With the spares
// (and two such callers waiting for their replies in their own threads,
// conn's replywait.go), keel made 1.05–1.14× go-redis's requests per second
// from 2 goroutines and 0.97–1.07× from 4 (GET, SET16B, MIX, LARGEMIX).

// spareCallers is the most operations in progress in the client (as
// admitted) for which a request may go on a spare connection.
const spareCallers = 4

// spare returns an idle bulk connection of addr for a small request that
// would otherwise queue behind another on c, addr's shared connection, when
// the client has few requests in progress; nil to use c. The caller must
// release it (b.release) when done.
func (e *Engine) spare(c *conn.Conn, addr string) *bulkConn {
	if c.InFlight() == 0 {
		return nil
	}
	// One request in progress finds only a PING, an AUTH or its own
	// abandoned requests in flight: nothing to make a connection for.
	if n := e.active.Load() &^ closedBit; n < 2 || n > spareCallers {
		return nil
	}
	// A request its caller abandoned (its context ended) may be the same
	// caller's: what it sends next must not overtake it.
	if c.HoldsLeft() {
		return nil
	}
	return e.pool.idleBulk(addr)
}

// idleBulk returns addr's first bulk connection that nothing uses, counting
// the caller as its user, or nil; when it finds none, it dials one in the
// background unless addr has spareCallers-1 open or being dialled (or its
// last dial failed within redialGap).
func (p *pool) idleBulk(addr string) *bulkConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	nc := p.nodes[addr]
	if p.closed || nc == nil {
		return nil
	}
	live := nc.liveBulk()
	for _, b := range live {
		if b.busy.Load() == 0 && b.c.InFlight() == 0 {
			b.busy.Add(1) // under mu: the next caller sees it in use
			return b
		}
	}
	if len(live)+nc.bulkDialing < spareCallers-1 && time.Since(nc.bulkFailedAt) >= redialGap {
		nc.bulkDialing++
		p.e.wg.Add(1)
		go p.dialBulk(addr, nc)
	}
	return nil
}
