//go:build unix && !aix && !solaris

package conn

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// errBytesWaiting: the socket of an idle connection holds bytes.
var errBytesWaiting = errors.New("keel: unsolicited bytes on an idle connection")

// idleCheck looks into an idle connection's socket without reading it.
type idleCheck struct {
	rc   syscall.RawConn
	peek func(fd uintptr) // made once: a closure per look would allocate
	n    uintptr
	err  syscall.Errno
	b    [1]byte
}

// init reports whether nc's socket can be looked at.
func (k *idleCheck) init(nc net.Conn) bool {
	rc, ok := rawSocket(nc)
	if !ok {
		return false
	}
	k.rc = rc
	k.peek = func(fd uintptr) { k.n, k.err = peekByte(fd, &k.b) }
	return true
}

// look returns nil when the socket is open with nothing to read,
// errBytesWaiting when it holds bytes, and the connection's end otherwise
// (io.EOF once the server closed it). Only one look at a time (writeMu).
func (k *idleCheck) look() error {
	if err := k.rc.Control(k.peek); err != nil {
		return err
	}
	switch {
	case k.err == syscall.EAGAIN || k.err == syscall.EWOULDBLOCK:
		return nil
	case k.err != 0:
		return k.err
	case k.n == 0:
		return io.EOF
	}
	return errBytesWaiting
}
