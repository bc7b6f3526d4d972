package conn

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// alertWait bounds the wait for a TLS alert already on its way (see
// withTLSAlert).
const alertWait = 100 * time.Millisecond

// deadlineReader is the part of a *tls.Conn that withTLSAlert uses.
type deadlineReader interface {
	Read([]byte) (int, error)
	SetReadDeadline(time.Time) error
}

// withTLSAlert returns err with the TLS alert the server sent before it
// closed the connection, when err is a write the closed connection refused.
// In TLS 1.3 the client's handshake is over before the server has checked
// the client's certificate, so a server that refuses it (or requires one
// that was not sent) says so with an alert that arrives behind the first
// request; the request's write may then fail first, with a reset that says
// nothing of the reason. Any other err is returned as it is.
func withTLSAlert(tc deadlineReader, err error) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" {
		return err
	}
	_ = tc.SetReadDeadline(time.Now().Add(alertWait))
	_, rerr := tc.Read(make([]byte, 1))
	var alert *net.OpError
	if errors.As(rerr, &alert) && alert.Op == "remote error" {
		return fmt.Errorf("%w (%w)", rerr, err)
	}
	return err
}
