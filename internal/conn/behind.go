package conn

import (
	"net"
	"syscall"
)

// rawSocket returns the socket under nc (under TLS, too: the record bytes
// are the server's as much as the replies), or false when nc is no socket,
// such as a pipe in tests.
func rawSocket(nc net.Conn) (syscall.RawConn, bool) {
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}
