//go:build (linux && 386) || (openbsd && !mips64)

package conn

import "syscall"

// peekByte copies the next byte of the socket fd into b without taking it,
// and never blocks. Package syscall has no raw recvfrom here: on linux/386
// its system call table reaches socket calls only through socketcall, and
// on OpenBSD system calls go through libc, a raw one failing with ENOSYS.
// Its Recvfrom wrapper makes the call (a TCP socket reports no address, so
// nothing is allocated).
func peekByte(fd uintptr, b *[1]byte) (uintptr, syscall.Errno) {
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if err != nil {
		errno, ok := err.(syscall.Errno) // the only error it returns
		if !ok {
			errno = syscall.EIO
		}
		return 0, errno
	}
	return uintptr(n), 0
}
