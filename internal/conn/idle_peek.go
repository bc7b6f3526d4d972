//go:build unix && !aix && !solaris && !(linux && 386) && !(openbsd && !mips64)

package conn

import (
	"syscall"
	"unsafe"
)

// peekByte copies the next byte of the socket fd into b without taking it,
// and never blocks.
func peekByte(fd uintptr, b *[1]byte) (uintptr, syscall.Errno) {
	// Raw: MSG_DONTWAIT never blocks, so the scheduler need not be told.
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return n, errno
}
