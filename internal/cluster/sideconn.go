package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// A node's shared connection answers in order, so a read queued behind a
// stalled request (a write held by CLIENT PAUSE WRITE while a manual
// failover completes) waits for it although the node serves reads. The
// shared connection hands such reads back (conn.ErrDiverted) and they go on
// the node's side connection instead, dialled on first need and kept with
// the node.

// doRead sends a read-only command on c, the shared connection to addr, or,
// when c diverts it, on addr's side connection (see conn.DoReadElsewhere).
func (e *Engine) doRead(ctx context.Context, c *conn.Conn, args []string) (resp.Value, error) {
	return c.DoReadElsewhere(ctx, args, e)
}

// ReadElsewhere implements conn.Elsewhere: it sends a read diverted from
// the shared connection to addr on addr's side connection.
func (e *Engine) ReadElsewhere(ctx context.Context, addr string, args []string) (resp.Value, error) {
	e.stats.diverted.Add(1)
	side, err := e.pool.side(ctx, addr)
	switch {
	case err == nil:
		return side.Do(ctx, args...)
	case ctx.Err() != nil:
		return resp.Value{}, ctx.Err()
	}
	// Not the read's answer, even when the dial got a reply (a full client
	// table): the read waits on the shared connection instead.
	return resp.Value{}, fmt.Errorf("%w: %s: %v", conn.ErrNoElsewhere, addr, err)
}

// errNoSide is returned for a side connection to a node the pool no longer
// holds: the read is retried, routed afresh.
var errNoSide = errors.New("keel: node left the pool")

// side returns addr's side connection, dialling it if needed.
func (p *pool) side(ctx context.Context, addr string) (*conn.Conn, error) {
	p.mu.Lock()
	nc := p.nodes[addr]
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, ErrClosed
	case nc == nil:
		p.mu.Unlock()
		return nil, errNoSide
	case alive(nc.side):
		c := nc.side
		p.mu.Unlock()
		return c, nil
	case nc.sideDialing == nil:
		if nc.sideErr != nil && time.Since(nc.sideFailedAt) < redialGap {
			err := nc.sideErr
			p.mu.Unlock()
			return nil, err
		}
		nc.sideDialing = make(chan struct{})
		p.e.wg.Add(1)
		go p.dialSide(addr, nc, nc.sideDialing)
	}
	dialing := nc.sideDialing
	p.mu.Unlock()

	select {
	case <-dialing:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if alive(nc.side) {
		return nc.side, nil
	}
	if nc.sideErr != nil {
		return nil, nc.sideErr
	}
	return nil, fmt.Errorf("keel: side connection to %s lost as it opened", addr)
}

// dialSide opens addr's side connection for nc, on a goroutine owned by the
// engine's WaitGroup and ended by the pool's context. Neither a failed dial
// nor a lost side connection suspects the node: the shared connection's
// health check judges it, and the next diverted read dials again.
func (p *pool) dialSide(addr string, nc *nodeConn, done chan struct{}) {
	defer p.e.wg.Done()
	opts := p.connOptions(addr)
	opts.OnClose = nil
	c, err := conn.Dial(p.ctx, addr, opts)
	p.e.stats.dials.Add(1)
	nc.stats.dials.Add(1)

	p.mu.Lock()
	keep := err == nil && !p.closed && p.nodes[addr] == nc
	if keep {
		nc.side, nc.sideErr = c, nil
	} else if err != nil {
		nc.sideErr, nc.sideFailedAt = err, time.Now()
	}
	nc.sideDialing = nil
	close(done)
	p.mu.Unlock()
	if err == nil && !keep {
		_ = c.Close() // the pool closed, or dropped the node, while this dial ran
	}
}
