package conn

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alertConn is the TLS connection withTLSAlert reads from: its Read
// returns readErr.
type alertConn struct {
	readErr error
	reads   int
}

func (a *alertConn) Read([]byte) (int, error)        { a.reads++; return 0, a.readErr }
func (a *alertConn) SetReadDeadline(time.Time) error { return nil }

// A write refused by a server that has closed the connection is reported
// with the alert the server sent first; a write error without an alert
// behind it, and errors that are not writes, are left as they are.
func TestWithTLSAlert(t *testing.T) {
	writeErr := &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	alert := &net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}

	got := withTLSAlert(&alertConn{readErr: alert}, writeErr)
	if !errors.Is(got, alert) || !errors.Is(got, syscall.ECONNRESET) || !strings.HasPrefix(got.Error(), "remote error: tls: certificate required") {
		t.Errorf("with an alert pending: %v; want the alert first, and the write error", got)
	}
	if got := withTLSAlert(&alertConn{readErr: errors.New("EOF")}, writeErr); got != error(writeErr) {
		t.Errorf("without an alert: %v, want the write error itself", got)
	}
	readErr := &net.OpError{Op: "read", Err: syscall.ECONNRESET}
	ac := &alertConn{readErr: alert}
	if got := withTLSAlert(ac, readErr); got != error(readErr) || ac.reads != 0 {
		t.Errorf("a read error: %v after %d reads; want it as it is, without reading", got, ac.reads)
	}
}
