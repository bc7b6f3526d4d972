//go:build !unix || aix || solaris

package conn

import (
	"errors"
	"net"
)

var errBytesWaiting = errors.New("keel: unsolicited bytes on an idle connection")

// idleCheck cannot look into a socket here (no raw recvfrom in package
// syscall on aix, solaris and illumos): direct requests are off, and the
// reader goroutine reads all the time.
type idleCheck struct{}

func (*idleCheck) init(net.Conn) bool { return false }
func (*idleCheck) look() error        { return nil }
