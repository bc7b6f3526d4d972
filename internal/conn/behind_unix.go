//go:build unix && (!linux || 386)

package conn

import "syscall"

// readerBehind reports whether the server sent bytes the reader has not yet
// taken in: the socket holds unread bytes. Then the delay is this process's,
// not the server's. It serves linux/386 too, whose package syscall cannot
// read TCP_INFO; no low-water mark is set there (lowat_other.go), so unread
// bytes are never ones the mark holds back.
func (c *Conn) readerBehind() bool {
	rc, ok := rawSocket(c.nc)
	if !ok {
		return false
	}
	var (
		n    int
		rerr error
		buf  [1]byte
	)
	if err := rc.Control(func(fd uintptr) {
		// No MSG_DONTWAIT (aix lacks it): Go's sockets are non-blocking.
		n, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK)
	}); err != nil {
		return false
	}
	// An empty socket fails with EAGAIN; n == 0 is the end of the stream,
	// which the reader sees at once.
	return rerr == nil && n > 0
}
