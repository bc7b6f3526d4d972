package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// redialGap is how long after a failed dial the pool answers with that
// failure instead of dialling again: a dead node is not hammered by every
// retrying request.
const redialGap = 20 * time.Millisecond

// drainTimeout bounds how long a connection to a node that left the
// topology, or replaced for its age, may finish its in-flight requests.
const drainTimeout = 5 * time.Second

// errNodeDialing is returned, instead of waiting, for a suspect node whose
// connection is still being made: the request should wait for a topology
// change rather than for a node that may never answer.
var errNodeDialing = errors.New("keel: node suspect, still connecting")

// pool holds one multiplexed connection per node, dialling on demand.
type pool struct {
	e      *Engine
	ctx    context.Context // ends when the pool closes: cancels dials
	cancel context.CancelFunc

	mu     sync.Mutex
	nodes  map[string]*nodeConn
	closed bool

	// conns is a read-only snapshot of the nodes' connections and
	// counters, replaced (under mu) whenever a connection is made or
	// dropped, so that get's common case takes no lock.
	conns atomic.Pointer[map[string]nodeRef]
}

// nodeRef is what the snapshot holds for a node: its connection, and its
// counters, found by the same map lookup.
type nodeRef struct {
	conn  *conn.Conn
	stats *nodeCounters
}

// nodeConn is the pool's slot for one node address.
type nodeConn struct {
	stats    nodeCounters  // kept across reconnections, dropped with the node
	conn     *conn.Conn    // nil or dead when none is usable
	dialing  chan struct{} // non-nil while a dial runs; closed when it ends
	dialErr  error         // the last dial's error
	failedAt time.Time     // when the last dial failed

	// side is the connection that serves reads diverted from conn while
	// its oldest request stalls (sideconn.go); nil until first needed.
	side         *conn.Conn
	sideDialing  chan struct{} // non-nil while its dial runs
	sideErr      error         // its last dial's error
	sideFailedAt time.Time     // when that dial failed

	// bulk are the connections that carry large requests (bulkconn.go)
	// and, with few callers, requests that would queue behind another on
	// conn (spareconn.go); dialled on first need.
	bulk         []*bulkConn
	bulkDialing  int       // bulk dials running
	bulkFailedAt time.Time // when the last bulk dial failed
}

func newPool(e *Engine) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pool{e: e, ctx: ctx, cancel: cancel, nodes: map[string]*nodeConn{}}
	p.publish()
	return p
}

// publish replaces the snapshot of connections; it runs under mu, or
// before the pool is shared.
func (p *pool) publish() {
	conns := make(map[string]nodeRef, len(p.nodes))
	for addr, nc := range p.nodes {
		if nc.conn != nil {
			conns[addr] = nodeRef{nc.conn, &nc.stats}
		}
	}
	p.conns.Store(&conns)
}

func alive(c *conn.Conn) bool {
	if c == nil {
		return false
	}
	select {
	case <-c.Done():
		return false
	default:
		return true
	}
}

// get returns a live connection to addr, dialling if needed. With wait false
// it does not wait for a dial in progress (errNodeDialing).
func (p *pool) get(ctx context.Context, addr string, wait bool) (*conn.Conn, error) {
	c, _, err := p.node(ctx, addr, wait)
	return c, err
}

// node is get that also returns the node's counters, for the requests that
// count what they send (nil exactly when the error is not).
func (p *pool) node(ctx context.Context, addr string, wait bool) (*conn.Conn, *nodeCounters, error) {
	if r := (*p.conns.Load())[addr]; alive(r.conn) {
		return r.conn, r.stats, nil
	}
	c, nc, err := p.slowGet(ctx, addr, wait)
	if err != nil {
		return nil, nil, err
	}
	return c, &nc.stats, nil
}

// live returns addr's connection and counters when it has a live
// connection; it never dials.
func (p *pool) live(addr string) (*conn.Conn, *nodeCounters, bool) {
	r := (*p.conns.Load())[addr]
	return r.conn, r.stats, alive(r.conn)
}

// counters returns addr's counters, for requests sent on connections of
// their own (blocking commands); nil once the pool is closed.
func (p *pool) counters(addr string) *nodeCounters {
	if r, ok := (*p.conns.Load())[addr]; ok {
		return r.stats
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	nc := p.nodes[addr]
	if nc == nil {
		nc = &nodeConn{}
		p.nodes[addr] = nc
	}
	return &nc.stats
}

// slowGet is get when the snapshot has no live connection for addr.
func (p *pool) slowGet(ctx context.Context, addr string, wait bool) (*conn.Conn, *nodeConn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, ErrClosed
	}
	nc := p.nodes[addr]
	if nc == nil {
		nc = &nodeConn{}
		p.nodes[addr] = nc
	}
	if alive(nc.conn) {
		c := nc.conn
		p.mu.Unlock()
		return c, nc, nil
	}
	if nc.dialing == nil {
		if nc.dialErr != nil && time.Since(nc.failedAt) < p.redialAfter(addr, nc.dialErr) {
			err := nc.dialErr
			p.mu.Unlock()
			return nil, nil, err
		}
		p.startDial(addr, nc)
	}
	dialing := nc.dialing
	p.mu.Unlock()

	if !wait {
		return nil, nil, errNodeDialing
	}
	select {
	case <-dialing:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if alive(nc.conn) {
		return nc.conn, nc, nil
	}
	if nc.dialErr != nil {
		return nil, nil, nc.dialErr
	}
	return nil, nil, fmt.Errorf("keel: connection to %s lost as it opened", addr)
}

// redialAfter is how long after a dial of addr failed with err the pool
// answers with err instead of dialling again: redialGap, or, for a suspect
// node that refused the connection (nothing listens on its port: its
// process is gone), twice the IncidentInterval. Nothing will listen there
// within a few milliseconds, and a fleet's probes, each dialling it at every
// probe, spent a third of their CPU on refused connections. A node that is
// hung or unreachable does not refuse: its dials are slow, not repeated.
func (p *pool) redialAfter(addr string, err error) time.Duration {
	if connectionRefused(err) && p.e.isSuspect(addr) {
		return max(redialGap, 2*p.e.opts.IncidentInterval)
	}
	return redialGap
}

// startDial starts dialling addr for nc, which has no dial running; it
// runs under mu.
func (p *pool) startDial(addr string, nc *nodeConn) {
	nc.dialing = make(chan struct{})
	// Requests that wait for this dial picked addr under the topology of
	// now: if it is the primary, the new connection must confirm it.
	wasPrimary := p.e.confirmsRole() && p.e.isPrimary(addr)
	p.e.wg.Add(1)
	go p.dial(addr, nc, nc.dialing, wasPrimary)
}

// dial opens a connection to addr for nc. It runs on a goroutine of its own,
// owned by the engine's WaitGroup and ended by the pool's context. When nc
// still has a live connection (it is being replaced for its age), that one
// serves until the new one is in use, and is then drained; if the new one
// cannot be opened, the old one is kept.
func (p *pool) dial(addr string, nc *nodeConn, done chan struct{}, wasPrimary bool) {
	defer p.e.wg.Done()
	c, err := conn.Dial(p.ctx, addr, p.connOptions(addr))
	if err == nil {
		err = p.e.confirmPrimary(c, addr, wasPrimary)
	}
	p.e.stats.dials.Add(1)
	nc.stats.dials.Add(1)

	p.mu.Lock()
	closed := p.closed
	replaced := nc.conn
	if err == nil && !closed {
		nc.conn, nc.dialErr = c, nil
		p.publish()
		if alive(replaced) {
			p.e.stats.replaced.Add(1)
			p.drain(replaced)
		}
	} else if err != nil {
		nc.dialErr, nc.failedAt = err, time.Now()
	}
	nc.dialing = nil
	close(done)
	p.mu.Unlock()

	switch {
	case err == nil && closed:
		_ = c.Close() // the pool closed while this dial ran
	case err == nil:
		p.e.recovered(addr)
	case p.ctx.Err() != nil:
	case errors.As(err, new(*notPrimaryError)):
		p.e.demotedAtDial(addr, err)
	case alive(replaced):
		// The old connection still serves: the node is not suspected for
		// a replacement that can wait for the next try.
		p.e.stats.dialFailures.Add(1)
		p.e.opts.Logger.Warn("keel: could not replace an old connection; keeping it", "node", addr, "err", err)
	case errors.Is(err, conn.ErrCredentials):
		// The credentials provider failed, not the node: the node is not
		// suspected, so no incident polling adds to the provider's load.
		p.e.stats.dialFailures.Add(1)
		nc.stats.dialFailures.Add(1)
		p.e.opts.Logger.Warn("keel: credentials provider failed", "node", addr, "err", err)
	default:
		p.e.stats.dialFailures.Add(1)
		nc.stats.dialFailures.Add(1)
		p.e.suspect(addr, err)
	}
}

// connOptions are the options of addr's shared, side and bulk connections.
func (p *pool) connOptions(addr string) conn.Options {
	opts := p.e.connOptions(p.e.opts.Conn, addr)
	opts.OnClose = func(cause error) { p.lost(addr, cause) }
	opts.OnBusy = func() { p.e.stats.busyWaits.Add(1) }
	opts.OnDoubt = func(on bool) { p.e.doubt(addr, on) }
	return opts
}

// lost is called when a node's connection fails.
func (p *pool) lost(addr string, cause error) {
	if errors.Is(cause, conn.ErrClosed) {
		return // closed on purpose: by the pool, or by a drain
	}
	if errors.Is(cause, resp.ErrTooLarge) || errors.Is(cause, conn.ErrOversizedReply) {
		return // the node answered, over our limits: it is not failing
	}
	if errors.Is(cause, conn.ErrCallerLeft) {
		return // closed for the caller's sake, not the node's
	}
	p.e.suspect(addr, cause)
}

// retire drops the connections of nodes that are no longer in the topology,
// letting their in-flight requests finish first.
func (p *pool) retire(keep func(addr string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	removed := false
	for addr, nc := range p.nodes {
		if keep(addr) || nc.dialing != nil || nc.sideDialing != nil {
			continue
		}
		delete(p.nodes, addr)
		removed = true
		for _, c := range append(nc.others(), nc.conn) {
			if alive(c) {
				p.drain(c)
			}
		}
	}
	if removed {
		p.publish()
	}
}

// drain shuts c down on a goroutine of its own: it takes no new requests
// and is closed once its in-flight ones have their replies, or after
// drainTimeout. It runs under mu, before close can wait for the goroutine.
func (p *pool) drain(c *conn.Conn) {
	p.e.wg.Add(1)
	go func() {
		defer p.e.wg.Done()
		ctx, cancel := context.WithTimeout(p.ctx, drainTimeout)
		defer cancel()
		_ = c.Shutdown(ctx)
	}()
}

// alive counts open connections.
func (p *pool) alive() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, nc := range p.nodes {
		if alive(nc.conn) {
			n++
		}
		for _, c := range nc.others() {
			if alive(c) {
				n++
			}
		}
	}
	return n
}

// close cancels dials and closes every connection, failing what is in
// flight with ErrClosed. Goroutines it started end on the engine's WaitGroup.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	nodes := p.nodes
	p.nodes = map[string]*nodeConn{}
	p.publish()
	p.mu.Unlock()
	p.cancel()
	for _, nc := range nodes {
		for _, c := range append(nc.others(), nc.conn) {
			if c != nil {
				_ = c.Close()
			}
		}
	}
}

// rtt returns the handshake round trip of addr's live connection.
func (p *pool) rtt(addr string) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if nc := p.nodes[addr]; nc != nil && alive(nc.conn) {
		return nc.conn.RTT(), true
	}
	return 0, false
}

// warm starts connecting to addr in the background if no connection exists.
func (p *pool) warm(addr string) {
	_, _ = p.get(context.Background(), addr, false)
}
