//go:build linux

package conn

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// replyWait waits for a socket to be readable with ppoll(2).
type replyWait struct {
	// fd is the socket's descriptor, taken once. It is polled without
	// holding the net package's reference to it, so that a Close never
	// waits for a poll. Closing a descriptor does not wake a poll of it (the
	// kernel keeps the polled file until the poll returns), so the
	// connection shuts the socket's read side first (wake), which does;
	// the read that follows reports the close.
	fd int32
	ok bool
}

func (w *replyWait) init(nc net.Conn) {
	rc, ok := rawSocket(nc)
	if !ok {
		return
	}
	if rc.Control(func(fd uintptr) { w.fd = int32(fd) }) == nil {
		w.ok = true
	}
}

func (w *replyWait) usable() bool { return w.ok }

// wake ends any wait on the socket, which is about to be closed: shutting
// down its read side makes it readable (end of stream). Call it before the
// socket is closed, once.
func (w *replyWait) wake() {
	if w.ok {
		_ = syscall.Shutdown(int(w.fd), syscall.SHUT_RD)
	}
}

// pollFd is struct pollfd.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const pollIn = 0x1 // POLLIN

// wait blocks the calling thread until the socket is readable, closed or
// failed, or for d at most. It reports whether the socket became readable.
func (w *replyWait) wait(d time.Duration) bool {
	if d <= 0 {
		return false
	}
	p := pollFd{fd: w.fd, events: pollIn}
	ts := syscall.NsecToTimespec(int64(d))
	// Not raw: the runtime must know this thread may block.
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&p)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return errno == 0 && n == 1 && p.revents&pollIn != 0
}
