package conn

import (
	"runtime"
	"sync/atomic"
	"time"
)

// A lone caller that reads its own reply (direct.go) waits for it on the Go
// runtime's network poller, like any goroutine: its read finds nothing and
// parks the goroutine, and when the reply comes the poller's thread wakes,
// readies the goroutine and, with a core idle, wakes another thread to look
// for more work. On a machine whose idle cores sleep, each of those
// wake-ups is most of a loopback round trip. A thread that waits in
// ppoll(2) itself is woken once, by the kernel, and reads at once: measured
// with a standalone GET loop on loopback (2-core VM), 42 µs per GET against
// 65 on the poller; per GET from the bench's one goroutine, 1.0 read(2) and
// 1.0 ppoll(2) against 1.8 read(2), 1.6 epoll_pwait(2) and 0.65 futex(2).
//
// A thread waiting in a system call keeps its P (one of GOMAXPROCS) until
// the runtime's monitor takes it back, at least 20 µs later, which other
// goroutines pay for when they have work: waiting so from 16 goroutines
// cost 14–35% of the throughput. So only a caller among few waits so: its
// connection took loneAfter direct writes in a row with none queued in
// between (anything queued means other callers on it), at most
// maxLoneWaiters connections of the process owe replies (its own
// included), and fewer than maxLoneWaiters other callers, and fewer than
// GOMAXPROCS, are waiting so at that moment. Two callers each alone on a
// connection of their own (the cluster client gives them one at low
// concurrency) both wait so: from 2 goroutines, 14% more GETs per second
// than with one of them on the poller. Everyone else, and anyone after the
// wait's bound, waits on the poller as before.

// loneAfter is how many direct writes in a row (a batch is one), with none
// queued on the connection in between, make its caller a lone one.
const loneAfter = 8

// busyConns counts the process's connections with replies owed (see
// addOwed). A caller is among few only while few connections are busy,
// whatever its streak says (a bulk connection's caller among hundreds has a
// streak).
var busyConns atomic.Int64

// addOwed changes the count of replies owed by n, and busyConns when the
// connection becomes busy or idle. Call it with mu held.
func (c *Conn) addOwed(n int64) {
	switch v := c.owed.Add(n); {
	case n > 0 && v == n:
		busyConns.Add(1)
	case n < 0 && v == 0:
		busyConns.Add(-1)
	}
}

// blockedWaiters counts the callers waiting in replyWait.wait, each holding
// a P: at most maxLoneWaiters, and at most GOMAXPROCS.
var blockedWaiters atomic.Int64

// maxLoneWaiters is the most callers that wait so at once, and the most
// connections of the process that may owe replies while one does.
const maxLoneWaiters = 2

// loneStreak follows whether a connection's direct requests come from a
// lone caller. Guarded by readMu (held by every direct request from its
// write to its read).
type loneStreak struct {
	seen int64 // the connection's enqueued count at the last direct request
	n    int   // direct requests in a row with none queued, up to loneAfter
}

// note counts a direct request on a connection that has had enqueued
// requests queued in all.
func (s *loneStreak) note(enqueued int64) {
	if enqueued != s.seen {
		s.seen, s.n = enqueued, 0
	}
	if s.n < loneAfter {
		s.n++
	}
}

func (s *loneStreak) lone() bool { return s.n >= loneAfter }

// awaitReply waits, in the calling thread, for the socket to hold the start
// of r's reply (see above), at most until the direct read's deadline or for
// its patience. It returns at once where that does not apply, and whatever
// the outcome, the read that follows decides: a wait only saves the
// poller's wake-ups. A connection that fails meanwhile ends the wait (fail
// shuts the socket's read side); one that failed already is not waited on,
// since its descriptor number may since name another file. Call it with
// readMu held.
func (c *Conn) awaitReply(r *request) {
	if !c.direct.reply.usable() || !c.direct.streak.lone() || busyConns.Load() > maxLoneWaiters ||
		c.rd.Buffered() > 0 || c.lowWater.mark.Load() > 1 || len(r.done) > 0 || c.owed.Load() == 0 {
		return // a raised low-water mark would hold back the poll too
	}
	select {
	case <-c.closing:
		return
	default:
	}
	if n := blockedWaiters.Add(1); n > maxLoneWaiters || n > 1 && n > int64(runtime.GOMAXPROCS(0)) {
		blockedWaiters.Add(-1)
		return
	}
	d := c.direct.patience
	if t := c.direct.readDeadline; !t.IsZero() {
		d = time.Until(t)
	}
	if c.direct.reply.wait(d) {
		c.direct.readyWaits.Add(1)
	}
	blockedWaiters.Add(-1)
}
