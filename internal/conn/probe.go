package conn

import (
	"context"
	"errors"
	"time"

	"github.com/keel-go/keel/resp"
)

// A silent connection is not proof of a dead server: a server busy with one
// slow command (DEBUG SLEEP, a long script, a big KEYS) or pausing writes
// (CLIENT PAUSE WRITE, which a manual failover does) keeps this connection's
// oldest request waiting while it still serves others. When Options.BusyTimeout
// is set, the monitor asks the server on a second, short-lived connection
// before it gives up on the first: a server that answers is busy, and the
// connection stays.

// probeState is the monitor's record of its probes; the probe goroutine
// writes it, the monitor reads it.
type probeState struct {
	running  bool
	okAt     int64 // clock() when a probe last got an answer; -1: never
	failedAt int64 // clock() when the last unanswered probe was sent; -1: never
}

func newProbeState() probeState { return probeState{okAt: -1, failedAt: -1} }

// verdict is what the probes say about a wait over the health timeout.
type verdict int

const (
	verdictPending verdict = iota // a probe is out: keep waiting for it
	verdictBusy                   // the server answered a probe lately: it is busy, not hung
	verdictDead                   // a probe sent during the wait went unanswered
)

// corroborate judges a wait that began at since (clock()) and has gone over
// the health timeout: the server answered a probe within the last health
// timeout (busy), a probe sent since the wait began failed (dead), or a
// probe is out or is started now (pending).
func (c *Conn) corroborate(now, since int64) verdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.probe
	switch {
	case p.okAt >= 0 && now-p.okAt <= int64(c.opts.HealthTimeout):
		return verdictBusy
	case p.running:
		return verdictPending
	case p.failedAt >= since:
		return verdictDead
	}
	if c.dead {
		return verdictPending
	}
	p.running = true
	c.wg.Add(1)
	go c.runProbe(now)
	return verdictPending
}

// runProbe dials a connection of its own to the server and sends PING,
// within the health timeout, and records whether the server answered. Any
// reply counts, an error too (BUSY from a server running a long script,
// LOADING): the server is there. The probe ends early when the connection
// fails.
func (c *Conn) runProbe(began int64) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.life, c.opts.HealthTimeout)
	defer cancel()
	answered := probe(ctx, c.addr, c.opts)

	c.mu.Lock()
	c.probe.running = false
	if answered {
		c.probe.okAt = c.clock()
	} else if c.life.Err() == nil {
		c.probe.failedAt = began
	}
	c.mu.Unlock()
	if answered && c.opts.OnBusy != nil {
		c.opts.OnBusy()
	}
}

// probe reports whether the server at addr answers a new connection's
// handshake and PING before ctx ends.
func probe(ctx context.Context, addr string, opts Options) bool {
	opts.OnClose, opts.OnPush = nil, nil
	p, err := open(ctx, addr, opts)
	if err != nil {
		return serverAnswered(err)
	}
	defer p.nc.Close()
	deadline, _ := ctx.Deadline()
	_ = p.nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = p.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err = p.roundTrip(pingArgs...)
	return err == nil || serverAnswered(err)
}

// serverAnswered reports whether err is, or carries, a reply from the
// server: an error reply to the handshake or the PING.
func serverAnswered(err error) bool {
	var re *resp.Error
	return errors.As(err, &re)
}
