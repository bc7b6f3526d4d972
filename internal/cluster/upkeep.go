package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel/internal/conn"
)

// upkeepPeriod is how often the upkeep loop looks for connections due for
// re-authentication or replacement: a tenth of the shorter of
// ReauthInterval and MaxConnAge, within [5ms, 1s], so either happens at
// most 10% (or a second) late.
func upkeepPeriod(o Options) time.Duration {
	d := o.ReauthInterval
	if d <= 0 || (o.MaxConnAge > 0 && o.MaxConnAge < d) {
		d = o.MaxConnAge
	}
	return min(max(d/10, 5*time.Millisecond), time.Second)
}

// upkeepLoop re-authenticates connections every ReauthInterval and replaces
// those older than MaxConnAge, until the engine stops. It runs only when
// one of them is set.
func (e *Engine) upkeepLoop() {
	defer e.wg.Done()
	t := time.NewTicker(upkeepPeriod(e.opts))
	defer t.Stop()
	for {
		select {
		case <-e.stopped:
			return
		case <-t.C:
		}
		e.pool.upkeep()
		e.dedicated.upkeep()
		e.blockers.upkeep()
	}
}

// tooOld reports whether c has outlived MaxConnAge.
func (e *Engine) tooOld(c *conn.Conn) bool {
	return e.opts.MaxConnAge > 0 && c.Age() >= e.opts.MaxConnAge
}

// reauthDue reports whether c was last authenticated (or tried to be)
// ReauthInterval ago or more.
func (e *Engine) reauthDue(c *conn.Conn) bool {
	return e.opts.ReauthInterval > 0 && c.SinceAuth() >= e.opts.ReauthInterval
}

// reauth re-authenticates c with fresh credentials. A failure leaves c
// authenticated as before; it is logged, sent as a ReauthFailed event and
// tried again at the next interval.
func (e *Engine) reauth(ctx context.Context, c *conn.Conn) {
	err := c.Reauthenticate(ctx)
	switch {
	case err == nil:
		e.stats.reauths.Add(1)
		e.opts.Logger.Debug("keel: connection re-authenticated", "node", c.Addr())
	case ctx.Err() != nil, errors.Is(err, conn.ErrConnLost):
		// Closing, or the connection is gone: nothing is left to
		// re-authenticate, and its loss is handled where it is noticed.
	default:
		e.stats.reauthFailures.Add(1)
		e.opts.Logger.Warn("keel: re-authentication failed; the connection keeps its previous authentication",
			"node", c.Addr(), "err", err)
		e.emit(Event{Kind: ReauthFailed, Node: c.Addr(), Err: err, Cause: fmt.Sprint(err)})
	}
}

// upkeep replaces the shared connections older than MaxConnAge (a new one
// is dialled, and the old one drained once the new one is in use), drains
// the side and bulk connections older than that, and re-authenticates those
// due.
func (p *pool) upkeep() {
	var due []*conn.Conn
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	for addr, nc := range p.nodes {
		c := nc.conn
		switch {
		case !alive(c) || nc.dialing != nil:
		case p.e.tooOld(c):
			// After a failed replacement the old connection serves on; the
			// next try waits ten checks, not to dial a node (or ask a
			// failing credentials provider) at every one.
			if time.Since(nc.failedAt) >= 10*upkeepPeriod(p.e.opts) {
				p.startDial(addr, nc)
			}
		case p.e.reauthDue(c):
			due = append(due, c)
		}
		// A side or bulk connection too old is drained, and another
		// dialled when next needed.
		switch side := nc.side; {
		case !alive(side):
		case p.e.tooOld(side):
			p.drain(side)
			nc.side = nil
		case p.e.reauthDue(side):
			due = append(due, side)
		}
		nc.filterBulk(func(b *bulkConn) bool {
			switch {
			case !alive(b.c):
				return false
			case p.e.tooOld(b.c):
				p.drain(b.c)
				return false
			case p.e.reauthDue(b.c):
				due = append(due, b.c)
			}
			return true
		})
	}
	p.mu.Unlock()
	for _, c := range due {
		p.e.reauth(p.ctx, c)
	}
}

// upkeep closes the idle connections that died or are older than
// MaxConnAge. An idle connection due for re-authentication is
// re-authenticated when it is next lent (see lend).
func (p *dedicatedPool) upkeep() {
	var old []*conn.Conn
	p.mu.Lock()
	for addr, idle := range p.idle {
		keep := idle[:0]
		for _, c := range idle {
			if !alive(c) || p.e.tooOld(c) {
				old = append(old, c)
			} else {
				keep = append(keep, c)
			}
		}
		p.idle[addr] = keep
	}
	p.mu.Unlock()
	for _, c := range old {
		p.keepIdle(c, false)
	}
}
