package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/keel-go/keel/internal/conn"
)

// maxIdleDedicated is how many idle connections the watch pool keeps per
// node. Reusing one saves a dial and handshake per watch, and the three
// goroutines of a connection started and stopped: a watched increment
// (BenchmarkWatchIncr, local cluster) took 0.24 ms pooled against 0.79 ms
// with a connection dialled per watch.
const maxIdleDedicated = 4

// dedicatedPool lends connections that belong to one caller at a time: for
// state a shared connection cannot hold (WATCH), or for a command that
// blocks its connection (BLPOP…). A lent connection is returned clean with
// put, or closed by its borrower; close closes every connection, idle or
// lent.
type dedicatedPool struct {
	e    *Engine
	opts conn.Options
	// limit, when positive, bounds the connections lent per node at once:
	// get waits for one to come back.
	limit int
	// maxIdle is how many idle connections are kept per node.
	maxIdle int
	// clientID asks each new connection its CLIENT ID, for CLIENT UNBLOCK.
	clientID bool

	mu     sync.Mutex
	idle   map[string][]*conn.Conn
	lent   map[*conn.Conn]struct{}
	ids    map[*conn.Conn]string
	slots  map[string]chan struct{} // per node, one token per lent connection (with limit)
	closed bool
}

func newDedicatedPool(e *Engine, opts conn.Options, limit, maxIdle int, clientID bool) *dedicatedPool {
	return &dedicatedPool{
		e: e, opts: opts, limit: limit, maxIdle: maxIdle, clientID: clientID,
		idle: map[string][]*conn.Conn{}, lent: map[*conn.Conn]struct{}{},
		ids: map[*conn.Conn]string{}, slots: map[string]chan struct{}{},
	}
}

// get lends a live connection to addr, dialling one when none is idle. With
// a limit, it first waits (until ctx ends, or the pool closes) for fewer
// than limit connections to addr to be lent.
func (p *dedicatedPool) get(ctx context.Context, addr string) (*conn.Conn, error) {
	if err := p.acquire(ctx, addr); err != nil {
		return nil, err
	}
	c, err := p.lend(ctx, addr)
	if err != nil {
		p.release(addr)
	}
	return c, err
}

// acquire takes one of addr's tokens when the pool has a limit.
func (p *dedicatedPool) acquire(ctx context.Context, addr string) error {
	if p.limit <= 0 {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	tokens := p.slots[addr]
	if tokens == nil {
		tokens = make(chan struct{}, p.limit)
		p.slots[addr] = tokens
	}
	p.mu.Unlock()
	select {
	case tokens <- struct{}{}:
		return nil
	default:
	}
	select {
	case tokens <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w (waiting for one of the %d blocking connections to %s)", ctx.Err(), p.limit, addr)
	case <-p.e.closing:
		return ErrClosed
	}
}

// release gives back a token taken by acquire.
func (p *dedicatedPool) release(addr string) {
	if p.limit <= 0 {
		return
	}
	p.mu.Lock()
	tokens := p.slots[addr]
	p.mu.Unlock()
	<-tokens
}

func (p *dedicatedPool) lend(ctx context.Context, addr string) (*conn.Conn, error) {
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		idle := p.idle[addr]
		if len(idle) == 0 {
			break
		}
		c := idle[len(idle)-1]
		p.idle[addr] = idle[:len(idle)-1]
		if alive(c) && !p.e.tooOld(c) {
			p.lent[c] = struct{}{}
			p.mu.Unlock()
			if p.e.reauthDue(c) {
				// Here, before the borrower sends anything: an AUTH queued
				// while the connection is lent could land inside its MULTI,
				// and one sent while it sits idle would make it neither idle
				// nor lent, so a borrower would dial another meanwhile.
				p.e.reauth(ctx, c)
			}
			return c, nil
		}
		delete(p.ids, c)
		p.mu.Unlock()
		_ = c.Close() // died, or aged, while idle: its goroutines end
		p.mu.Lock()
	}
	p.mu.Unlock()

	c, err := conn.Dial(ctx, addr, p.e.connOptions(p.opts, addr))
	p.e.stats.dials.Add(1)
	if err != nil {
		return nil, err
	}
	var id string
	if p.clientID {
		v, err := c.Do(ctx, "CLIENT", "ID")
		if err == nil {
			var n int64
			n, err = v.Int64()
			id = strconv.FormatInt(n, 10)
		}
		if err != nil {
			_ = c.Close()
			return nil, err // nothing of the caller's was sent
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return nil, ErrClosed
	}
	p.lent[c] = struct{}{}
	if id != "" {
		p.ids[c] = id
	}
	p.mu.Unlock()
	return c, nil
}

// spawn runs f on a goroutine of the engine's WaitGroup, for a lent
// connection's reader, and reports whether it did: not once the pool is
// closed. close, which closes every lent connection (ending their readers),
// runs before the engine waits for its goroutines, so no Add comes after
// the Wait.
func (p *dedicatedPool) spawn(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.e.wg.Add(1)
	go func() {
		defer p.e.wg.Done()
		f()
	}()
	return true
}

// clientIDOf returns the CLIENT ID of a connection of the pool.
func (p *dedicatedPool) clientIDOf(c *conn.Conn) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ids[c]
}

// put takes back a lent connection whose state is clean; keep false (or a
// full pool, or a connection older than MaxConnAge) closes it instead.
func (p *dedicatedPool) put(c *conn.Conn, keep bool) {
	p.mu.Lock()
	delete(p.lent, c)
	p.mu.Unlock()
	p.keepIdle(c, keep)
	p.release(c.Addr())
}

// keepIdle adds c, which holds no token, to the idle list, or closes it
// when keep is false, the pool is closed or full, or c is dead or too old.
func (p *dedicatedPool) keepIdle(c *conn.Conn, keep bool) {
	p.mu.Lock()
	if keep && !p.closed && alive(c) && !p.e.tooOld(c) && len(p.idle[c.Addr()]) < p.maxIdle {
		p.idle[c.Addr()] = append(p.idle[c.Addr()], c)
		p.mu.Unlock()
		return
	}
	delete(p.ids, c)
	p.mu.Unlock()
	_ = c.Close()
}

// close closes every connection, failing what the lent ones have in flight
// with ErrClosed.
func (p *dedicatedPool) close() {
	p.mu.Lock()
	p.closed = true
	var all []*conn.Conn
	for _, idle := range p.idle {
		all = append(all, idle...)
	}
	for c := range p.lent {
		all = append(all, c)
	}
	p.idle, p.lent, p.ids = map[string][]*conn.Conn{}, map[*conn.Conn]struct{}{}, map[*conn.Conn]string{}
	p.mu.Unlock()
	for _, c := range all {
		_ = c.Close()
	}
}
