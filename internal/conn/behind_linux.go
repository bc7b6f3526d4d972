//go:build linux && !386

package conn

import (
	"syscall"
	"time"
	"unsafe"
)

// kernelTick absorbs the coarseness of the kernel's receive timestamps
// (jiffies, reported in whole milliseconds).
const kernelTick = 20 * time.Millisecond

// readerBehind reports whether the server sent bytes the reader has not yet
// taken in: the kernel received data later than the reader last recorded
// reading some. Whether those bytes still sit in the socket or the reader
// took them but has not run since, the delay is this process's, not the
// server's. While the low-water mark holds the reader back (lowat.go), the
// bytes below the mark wait on purpose: the reader is behind only once the
// socket holds the mark's bytes.
func (c *Conn) readerBehind() bool {
	rc, ok := rawSocket(c.nc)
	if !ok {
		return false
	}
	if mark := c.lowWater.mark.Load(); mark > 1 {
		queued, ok := queuedBytes(rc)
		return ok && int64(queued) >= mark
	}
	var (
		info  syscall.TCPInfo
		size  = uint32(unsafe.Sizeof(info))
		errno syscall.Errno
	)
	err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	})
	if err != nil || errno != 0 {
		return false
	}
	now := c.clock()
	receivedAt := now - int64(time.Duration(info.Last_data_recv)*time.Millisecond)
	return receivedAt > c.lastRead.Load()+int64(kernelTick)
}
