//go:build linux && (386 || amd64 || arm || arm64 || loong64 || riscv64 || s390x)

package conn

import (
	"syscall"
	"unsafe"
)

// lowWaterSupported: Linux wakes a reader of a TCP socket (and epoll) only
// once the socket holds the mark's bytes, or the stream ended.
const lowWaterSupported = true

// siocinq is SIOCINQ (FIONREAD) from asm-generic/ioctls.h, which these
// architectures use; package syscall lacks it.
const siocinq = 0x541b

func setLowWater(fd uintptr, n int) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
}

// queuedBytes returns how many received bytes the socket holds unread.
func queuedBytes(rc syscall.RawConn) (int, bool) {
	var (
		n     int32
		errno syscall.Errno
	)
	err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, siocinq, uintptr(unsafe.Pointer(&n)))
	})
	return int(n), err == nil && errno == 0
}
