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
// seen no reply bytes for the health timeout, and pings when it is idle.
func (c *Conn) monitor() {
	defer c.wg.Done()
	t := time.NewTicker(checkPeriod(c.opts))
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-t.C:
		}
		now := c.clock()
		c.mu.Lock()
		busy, busyAt := c.inflight.len() > 0, c.busyAt
		c.mu.Unlock()

		if busy && c.opts.HealthTimeout > 0 {
			waitingSince := max(busyAt, c.lastRead.Load())
			if now-waitingSince > int64(c.opts.HealthTimeout) {
				c.fail(ErrHealthTimeout)
				return
			}
		}
		if !busy && c.opts.PingInterval > 0 && now-c.lastWrite.Load() >= int64(c.opts.PingInterval) {
			// Nobody waits for the reply; the health check watches for it.
			_ = c.enqueue(newRequest(pingArgs))
		}
	}
}
