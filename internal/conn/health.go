package conn

import (
	"runtime/metrics"
	"time"
)

var pingArgs = []string{"PING"}

// checkPeriod is how often the monitor looks: a tenth of the health timeout,
// so a hung server is declared dead at most 10% late, within [5ms, 100ms];
// without a health timeout, half the shorter ping interval.
func checkPeriod(o Options) time.Duration {
	if o.HealthTimeout > 0 {
		return min(max(o.HealthTimeout/10, 5*time.Millisecond), 100*time.Millisecond)
	}
	period := time.Second
	for _, ping := range []time.Duration{o.PingInterval, o.IdlePingInterval} {
		if ping > 0 {
			period = min(period, max(ping/2, 5*time.Millisecond))
		}
	}
	return period
}

// blameLooks is how many checks in a row must find a wait over budget, and
// the server at fault for it, before the monitor gives up on the server: one
// look can catch the reader in the instant between taking bytes from the
// kernel and recording them.
const blameLooks = 2

// monitor declares the connection dead when the oldest in-flight request has
// seen no reply bytes for the health timeout, or when its caller has gone and
// its reply is still arriving a health timeout later (a trickling server
// would otherwise hold every later request up). It pings an idle connection
// every IdlePingInterval to check the server, and a busy one every
// PingInterval as a sentinel, whose reply, checked to be PONG, proves the
// replies still in step with requests.
//
// A process starved of CPU (thousands of goroutines, say) reads replies late
// although the server sent them in time; the monitor must not take that for
// a failing server, which would drop a healthy connection and suspect its
// node. So waits are measured without the monitor's own scheduling lag, and
// a wait over budget is blamed on the server only when corroborated
// (serverAtFault) on consecutive looks.
func (c *Conn) monitor() {
	defer c.wg.Done()
	period := checkPeriod(c.opts)
	t := time.NewTicker(period)
	defer t.Stop()
	var (
		lastPing   = c.clock()
		lastCheck  = c.clock()
		seenPopped uint64 // the reply count when the current oldest request was first seen left
		silent     = newWait()
		abandoned  = newWait() // since the current oldest request's caller was first seen gone
		doubting   bool        // as last reported to OnDoubt
	)
	defer func() {
		if doubting {
			c.opts.OnDoubt(false)
		}
	}()
	for {
		select {
		case <-c.closing:
			return
		case <-t.C:
		}
		now := c.clock()
		if lag := now - lastCheck - int64(period); lag > int64(period) {
			// The monitor itself could not run on time: that time is the
			// process's, not the server's.
			silent.stall(lag)
			abandoned.stall(lag)
		}
		lastCheck = now
		c.mu.Lock()
		busy, busyAt, popped := c.inflight.len() > 0, c.busyAt, c.popped
		headLeft := busy && c.inflight.peek().state.Load() == stateLeft
		headRead := busy && c.inflight.peek().divertible
		c.mu.Unlock()

		doubt := false
		if busy && c.opts.HealthTimeout > 0 {
			silent.from(max(busyAt, c.lastRead.Load()))
			if d := c.opts.DivertReadsAfter; d > 0 {
				// Re-applied on every look while stalled: it also hands back
				// the reads queued since the last. A read at the head is
				// never held by a write pause, so its silence is the whole
				// server's (a slow command, or a queue of large replies
				// being produced): the server would serve the reads no
				// faster on another connection, and sending them there too
				// only adds load, so they are not diverted.
				if stalled := !headRead && silent.elapsed(now) > int64(d); stalled || c.diverting.Load() {
					c.setDiverting(stalled)
				}
			}
			var cause error
			if doubt, cause = c.judge(&silent, now, period, ErrHealthTimeout); cause != nil {
				c.fail(cause)
				return
			}
		} else {
			silent.reset()
			c.diverting.Store(false)
			if !c.lookWhileIdle() {
				return
			}
		}
		switch {
		case !headLeft || c.opts.HealthTimeout <= 0:
			abandoned.reset()
		case abandoned.since < 0 || popped != seenPopped:
			abandoned.from(now)
			seenPopped = popped
		case silent.elapsed(now) > int64(c.opts.HealthTimeout):
			// No byte at all: the silent wait's probe tells busy from hung.
		default:
			// The abandoned reply is arriving, so the server is there and a
			// probe would only find it busy; but every later request waits
			// behind the reply nobody wants, so the health timeout decides.
			if abandoned.blame(now, c.opts.HealthTimeout, func() bool { return c.serverAtFault(&abandoned, period) }) {
				c.fail(ErrAbandonedReply)
				return
			}
		}
		if doubt != doubting && c.opts.OnDoubt != nil {
			doubting = doubt
			c.opts.OnDoubt(doubt)
		}
		idle := !busy && c.opts.IdlePingInterval > 0 && now-c.lastWrite.Load() >= int64(c.opts.IdlePingInterval)
		sentinel := busy && c.opts.PingInterval > 0 && now-lastPing >= int64(c.opts.PingInterval)
		if idle || sentinel {
			// Nobody waits for the reply: the health check watches for it,
			// and the reader checks it is PONG.
			lastPing = now
			_ = c.enqueue(newRequest(pingArgs))
		}
		// After the judging: with the mark just lowered, the reader may not
		// yet have taken bytes that came long ago (lowat.go).
		c.revokeLowWater(now, int64(period)/2)
	}
}

// judge returns the cause to fail the connection with for the wait w, or
// nil to keep waiting: cause once the wait is over the health timeout with
// the server to blame and, when BusyTimeout is set, a probe on a second
// connection unanswered too; ErrBusyTimeout once a server that keeps
// answering probes has held the wait for BusyTimeout. doubt reports a wait
// kept while a probe decides between busy and hung.
func (c *Conn) judge(w *wait, now int64, period time.Duration, cause error) (doubt bool, _ error) {
	if !w.blame(now, c.opts.HealthTimeout, func() bool { return c.serverAtFault(w, period) }) {
		return false, nil
	}
	if c.opts.BusyTimeout <= 0 {
		return false, cause
	}
	if w.elapsed(now) > int64(c.opts.BusyTimeout) {
		return false, ErrBusyTimeout
	}
	switch c.corroborate(now, w.since) {
	case verdictDead:
		return false, cause
	case verdictPending:
		return true, nil
	}
	return false, nil
}

// serverAtFault corroborates a long wait w before the server is blamed for
// it: the wait is the server's only when the writer has handed every
// in-flight request to the kernel, the reader is waiting on the socket
// (it has processed every byte it read) or a caller is writing a large
// request the server does not take, the kernel has received nothing
// the reader has not (readerBehind), and, since the previous look, the
// process's goroutines have not been kept waiting to run for a check period
// or more. Otherwise the reply is, or may be, late because this process has
// not run its own goroutines, or has kept the machine too busy to deliver
// the reply.
func (c *Conn) serverAtFault(w *wait, period time.Duration) bool {
	waits := runQueueWaits()
	before := w.runQueue
	w.runQueue = waits
	if starvedBetween(before, waits, period) {
		return false
	}
	return !c.unwritten.Load() && (c.reading.Load() || c.direct.writing.Load()) && !c.readerBehind()
}

// wait is one wait the monitor times: for the oldest request's reply bytes,
// or for an abandoned reply to finish.
type wait struct {
	since   int64 // clock() when it began; -1: not waiting
	stalled int64 // the monitor's own scheduling lag since then
	looks   int   // consecutive checks that found it over budget and corroborated

	runQueue *metrics.Float64Histogram // the process's run-queue waits at the last corroboration
}

func newWait() wait { return wait{since: -1} }

func (w *wait) reset() { *w = newWait() }

// from starts timing a wait that began at since, unless it is the one
// already timed.
func (w *wait) from(since int64) {
	if w.since != since {
		*w = wait{since: since}
	}
}

// stall excludes lag, time the monitor could not run, from the wait.
func (w *wait) stall(lag int64) {
	if w.since >= 0 {
		w.stalled += lag
	}
}

// elapsed is how long the wait has lasted, without the monitor's own lag.
func (w *wait) elapsed(now int64) int64 { return now - w.since - w.stalled }

// blame reports whether the wait has lasted over budget and atFault has
// confirmed, on blameLooks checks in a row, that the server is to blame.
func (w *wait) blame(now int64, budget time.Duration, atFault func() bool) bool {
	if w.since < 0 || w.elapsed(now) <= int64(budget) {
		w.looks = 0
		return false
	}
	if !atFault() {
		w.looks = 0
		return false
	}
	w.looks++
	return w.looks >= blameLooks
}
