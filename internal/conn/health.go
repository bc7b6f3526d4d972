package conn

import "time"

var pingArgs = []string{"PING"}

// checkPeriod is how often the monitor looks: a tenth of the health timeout,
// so a hung server is declared dead at most 10% late, within [5ms, 100ms].
func checkPeriod(o Options) time.Duration {
	switch {
	case o.HealthTimeout > 0:
		return min(max(o.HealthTimeout/10, 5*time.Millisecond), 100*time.Millisecond)
	case o.PingInterval > 0:
		return max(o.PingInterval/2, 5*time.Millisecond)
	}
	return time.Second
}

// monitor declares the connection dead when the oldest in-flight request has
// seen no reply bytes for the health timeout, or when its caller has gone and
// its reply is still arriving a health timeout later (a trickling server
// would otherwise hold every later request up). It pings every PingInterval:
// an idle connection to check the server, and a busy one as a sentinel, whose
// reply, checked to be PONG, proves the replies still in step with requests.
func (c *Conn) monitor() {
	defer c.wg.Done()
	t := time.NewTicker(checkPeriod(c.opts))
	defer t.Stop()
	var (
		lastPing   = c.clock()
		seenPopped uint64 // the reply count when the current oldest request was first seen left
		leftSince  int64  // when the monitor first saw the current oldest request's caller gone; -1: not gone
	)
	leftSince = -1
	for {
		select {
		case <-c.closing:
			return
		case <-t.C:
		}
		now := c.clock()
		c.mu.Lock()
		busy, busyAt, popped := c.inflight.len() > 0, c.busyAt, c.popped
		headLeft := busy && c.inflight.peek().state.Load() == stateLeft
		c.mu.Unlock()

		if busy && c.opts.HealthTimeout > 0 {
			waitingSince := max(busyAt, c.lastRead.Load())
			if now-waitingSince > int64(c.opts.HealthTimeout) {
				c.fail(ErrHealthTimeout)
				return
			}
		}
		switch {
		case !headLeft || c.opts.HealthTimeout <= 0:
			leftSince = -1
		case leftSince < 0 || popped != seenPopped:
			leftSince, seenPopped = now, popped
		case now-leftSince > int64(c.opts.HealthTimeout):
			c.fail(ErrAbandonedReply)
			return
		}
		if c.opts.PingInterval <= 0 {
			continue
		}
		idle := !busy && now-c.lastWrite.Load() >= int64(c.opts.PingInterval)
		sentinel := busy && now-lastPing >= int64(c.opts.PingInterval)
		if idle || sentinel {
			// Nobody waits for the reply: the health check watches for it,
			// and the reader checks it is PONG.
			lastPing = now
			_ = c.enqueue(newRequest(pingArgs))
		}
	}
}
