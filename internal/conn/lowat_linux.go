//go:build linux && (amd64 || arm || arm64 || loong64 || riscv64 || s390x)

package conn

import (
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// lowWaterSupported reports whether the kernel is 5.10 or later. Linux
// wakes a reader of a TCP socket (and epoll) only once the socket holds the
// mark's bytes or the stream ended, and from 4.18 grows the receive buffer
// to hold them; until 5.6 a reader could hang under memory pressure, and
// until 5.10 when the bytes came in segments much smaller than their
// buffers.
var lowWaterSupported = sync.OnceValue(func() bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var release strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		release.WriteByte(byte(c))
	}
	return kernelAtLeast(release.String(), 5, 10)
})

// kernelAtLeast reports whether a kernel release such as "6.1.0-13-amd64"
// is major.minor or later.
func kernelAtLeast(release string, major, minor int) bool {
	majorPart, rest, ok := strings.Cut(release, ".")
	if !ok {
		return false
	}
	if end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); end >= 0 {
		rest = rest[:end] // "10-rc1", "15.0-91-aws"
	}
	gotMajor, err1 := strconv.Atoi(majorPart)
	gotMinor, err2 := strconv.Atoi(rest)
	if err1 != nil || err2 != nil {
		return false
	}
	return gotMajor > major || gotMajor == major && gotMinor >= minor
}

// siocinq is SIOCINQ (FIONREAD) from asm-generic/ioctls.h, which these
// architectures use; package syscall lacks it.
const siocinq = 0x541b

// setLowWater sets the socket's mark to n and returns the mark the kernel
// took.
func setLowWater(fd uintptr, n int) (int, error) {
	if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n); err != nil {
		return 0, err
	}
	return syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
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
