package conn

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// A large value is read straight into its own memory: resp reads a bulk
// string's declared bytes, and bufio hands a read larger than its buffer
// through to the socket. Left alone, such a read takes whatever the socket
// holds and waits for more, and the kernel wakes the waiting thread for
// nearly every write the server makes (Redis writes at most 64 KiB per turn
// of its event loop): 6.5 read(2) per 1 MiB GET, and as many wake-ups, each
// of which also costs the server's thread, which delivers the bytes. So
// before such a read the socket's receive low-water mark (SO_RCVLOWAT) is
// raised to the bytes asked for (at most maxLowWater): the kernel wakes the
// reader once they are all there. Measured with a 1 MiB GET from one
// goroutine on loopback: 0.46–0.53 ms per GET instead of 0.53–0.59 (go-redis
// 0.56–0.64), and the servers' CPU per GET 317 µs instead of 401.
//
// The bytes will all come, since the server declared them, but maybe
// slowly. Meanwhile the reader takes none of them, and the health check,
// which counts the bytes the reader takes, would see a slow server as a
// silent one. So the monitor lowers a mark that has held for half a check
// period back to 1 (revokeLowWater), after judging the wait: the reader
// then takes what came, and raises the mark again for the rest. A server
// that stops halfway is caught as before, and a kernel that cannot hold
// the mark's bytes (its receive window closed) stalls the read for half a
// check period at most. While the mark holds, the reader is behind
// (readerBehind) only once the socket holds the mark's bytes.
const (
	minLowWater = 256 << 10 // smaller reads are not worth two setsockopt(2)
	maxLowWater = 1 << 20   // the kernel's receive buffer grows to twice the mark
)

// lowWater is a connection's receive low-water mark.
type lowWater struct {
	on   bool // a TCP socket, not under TLS, on a kernel known to honour the mark; set once
	rc   syscall.RawConn
	mark atomic.Int64 // the socket's mark, as the kernel took it

	mu       sync.Mutex // the reader raises the mark, the monitor lowers it
	raisedAt int64      // clock() of the last raise
	want     int        // the mark setFn sets
	got      int        // the mark setFn read back
	setErr   error      // setFn's result
	setFn    func(fd uintptr)
}

func (w *lowWater) init(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok || !lowWaterSupported() {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	w.rc, w.on = rc, true
	w.mark.Store(1)
	w.setFn = func(fd uintptr) { w.got, w.setErr = setLowWater(fd, w.want) } // made once: a closure per call would allocate
}

// prepareLowWater sets the mark for a read of n bytes through a buffer of
// bufSize: only a read larger than the buffer is for bytes the server
// declared (see above), and only those get a mark above 1. Call it with
// readMu held.
func (c *Conn) prepareLowWater(n, bufSize int) {
	w := &c.lowWater
	if !w.on {
		return
	}
	want := int64(1)
	if n > bufSize && n >= minLowWater {
		want = int64(min(n, maxLowWater))
	}
	if w.mark.Load() == want {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.set(want)
	if want > 1 {
		w.raisedAt = c.clock()
	}
}

// revokeLowWater lowers a mark raised at least patience ago back to 1 (see
// above). The monitor calls it.
func (c *Conn) revokeLowWater(now, patience int64) {
	w := &c.lowWater
	if !w.on || w.mark.Load() <= 1 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mark.Load() > 1 && now-w.raisedAt >= patience {
		w.set(1)
	}
}

// set changes the socket's mark to want, and records the mark the kernel
// took (it caps it to half the receive buffer's limit). Call it with mu
// held. On a failure (the socket closed) the mark is left as it was, and
// the reader learns of the end from its read.
func (w *lowWater) set(want int64) {
	w.want = int(want)
	if err := w.rc.Control(w.setFn); err == nil && w.setErr == nil {
		w.mark.Store(int64(w.got))
	}
}
