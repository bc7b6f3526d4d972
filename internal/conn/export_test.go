package conn

import "time"

// LookIdle looks into an idle connection's socket as a direct write would.
func LookIdle(c *Conn) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.direct.idle.look()
}

// ErrBytesWaiting is what LookIdle returns for a socket holding bytes.
var ErrBytesWaiting = errBytesWaiting

// SetPatience sets how long c's direct reads wait for bytes before they
// leave the reply to the reader goroutine. Call it before c is used.
func SetPatience(c *Conn, d time.Duration) { c.direct.patience = d }

// ReadBufferSize returns the size of c's read buffer.
func ReadBufferSize(c *Conn) int {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	return c.readBuf.size
}

// The read buffer's sizes, and how many large replies make it grow.
const (
	SmallReadBuffer = readBufferSize
	LargeReadBuffer = largeReadBufferSize
	GrowAfter       = growAfter
)

// LowWaterMark returns the receive low-water mark c's reads last set: 1
// unless a large value is being read (lowat.go).
func LowWaterMark(c *Conn) int64 { return c.lowWater.mark.Load() }

// LowWaterSupported reports whether this platform raises the mark.
var LowWaterSupported = lowWaterSupported()

// ReadyWaits returns how many of c's direct reads waited for their reply in
// the calling thread until the socket was readable (replywait.go).
func ReadyWaits(c *Conn) int64 { return c.direct.readyWaits.Load() }

// BusyConns returns how many connections of the process have replies owed.
func BusyConns() int64 { return busyConns.Load() }

// LoneAfter is how many direct writes in a row make a lone caller.
const LoneAfter = loneAfter

// BlockedWaiters returns how many callers wait for their reply in their own
// thread now.
func BlockedWaiters() int64 { return blockedWaiters.Load() }

// MaxLoneWaiters is the most callers that wait in their own thread at once.
const MaxLoneWaiters = maxLoneWaiters
