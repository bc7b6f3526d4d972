package conn

import "syscall"

// peekByte copies the next byte of the socket fd into b without taking it,
// and never blocks. linux/386 has no recvfrom system call of its own (it
// goes through socketcall), so package syscall's wrapper makes the call.
func peekByte(fd uintptr, b *[1]byte) (uintptr, syscall.Errno) {
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if err != nil {
		errno, ok := err.(syscall.Errno)
		if !ok {
			errno = syscall.EIO
		}
		return 0, errno
	}
	return uintptr(n), 0
}
