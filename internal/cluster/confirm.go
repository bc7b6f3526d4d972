package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// notPrimaryError fails the dial of a connection to the node keel treats
// as primary when that node answers ROLE replica: no write is sent on it.
// It carries the node's role, so that a primary search asking the same
// node (queryRole) learns which master it follows.
type notPrimaryError struct {
	addr string
	role role
}

func (e *notPrimaryError) Error() string {
	return fmt.Sprintf("keel: %s, taken for the primary, answers ROLE replica of %s", e.addr, e.role.upstream)
}

// confirmsRole reports whether new connections to the primary must confirm
// ROLE master first: in ModeReplication and ModeSentinel, where the node
// behind a name or named by a sentinel may have been demoted since it was
// found.
func (e *Engine) confirmsRole() bool {
	return e.opts.Mode == ModeReplication || e.opts.Mode == ModeSentinel
}

// isPrimary reports whether addr is the primary of the current topology
// outside a cluster.
func (e *Engine) isPrimary(addr string) bool {
	t := e.topo.Load()
	return e.single && t != nil && len(t.Shards) > 0 && t.Shards[0].Primary.Addr == addr
}

// confirmPrimary asks c, just dialled to addr, for its ROLE when addr is
// the primary, or was when the dial began (a request waiting for the dial
// may have picked it then). It returns a *notPrimaryError, having closed
// c, when the node answers replica, and the connection's error when it
// fails; a ROLE refused (an ACL without it) confirms nothing and stops
// nothing.
func (e *Engine) confirmPrimary(c *conn.Conn, addr string, wasPrimary bool) error {
	if !e.confirmsRole() || !(wasPrimary || e.isPrimary(addr)) {
		return nil
	}
	ctx, cancel := context.WithTimeout(e.pool.ctx, e.opts.RefreshTimeout)
	defer cancel()
	v, err := c.Do(ctx, "ROLE")
	var refused *resp.Error
	if err != nil && !errors.As(err, &refused) {
		_ = c.Close()
		return fmt.Errorf("keel: %s: ROLE: %w", addr, err)
	}
	if err == nil {
		var r role
		if r, err = parseRole(v); err == nil {
			if r.master {
				return nil
			}
			_ = c.Close()
			return &notPrimaryError{addr: addr, role: r}
		}
	}
	e.opts.Logger.Warn("keel: could not confirm the primary's ROLE", "node", addr, "err", err)
	return nil
}

// demotedAtDial handles a dial to addr that failed with a *notPrimaryError:
// not a failing node but a demoted primary, so the new one is looked for at
// the incident pace, as after READONLY.
func (e *Engine) demotedAtDial(addr string, err error) {
	e.opts.Logger.Warn("keel: the primary answers ROLE replica", "node", addr, "err", err)
	e.primaryRefused(addr)
	e.trigger("primary " + addr + " answers ROLE replica")
}
