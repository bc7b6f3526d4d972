package conn

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrConnLost is matched (errors.Is) by every error of a request that
	// failed because its connection failed or was closed.
	ErrConnLost = errors.New("connection lost")
	// ErrClosed is the cause when the connection was closed by its owner.
	ErrClosed = errors.New("connection closed")
	// ErrHealthTimeout is the cause when the server sent no reply bytes for
	// the health timeout while requests were waiting.
	ErrHealthTimeout = errors.New("no reply within the health timeout")
	// ErrBusyTimeout is the cause when a server kept answering probes on a
	// second connection, so was busy rather than hung, but left the oldest
	// request without reply bytes for Options.BusyTimeout: a server stuck on
	// one command, cut loose like a hung one.
	ErrBusyTimeout = errors.New("server busy beyond the busy timeout")
	// ErrAuth is matched by handshake errors caused by a rejected username
	// or password, or a user without permission to connect.
	ErrAuth = errors.New("authentication failed")
	// ErrCredentials is matched by dial errors caused by the
	// Options.Credentials function failing; the function's own error is
	// matched too. Nothing was sent to the server.
	ErrCredentials = errors.New("credentials provider failed")
	// ErrOutOfStep is the cause when a reply arrived that the command it
	// would answer can never receive (an array for GET, anything but PONG
	// for PING): the server skipped or added a reply, so the connection is
	// closed rather than hand later replies to the wrong callers.
	ErrOutOfStep = errors.New("replies out of step with requests")
	// ErrAbandonedReply is the cause when the oldest request's caller had
	// stopped waiting and its reply was still arriving a health timeout
	// later: a server trickling a reply nobody wants would otherwise hold up
	// every request behind it.
	ErrAbandonedReply = errors.New("abandoned reply still arriving after the health timeout")
	// ErrOversizedReply is the cause for the other requests of a connection
	// closed because one reply exceeded the reader's limits: the rest of
	// that reply cannot be skipped, so the connection goes, but the node is
	// not failing. (The request the reply was for fails with the limit's
	// own error, which matches resp.ErrTooLarge.)
	ErrOversizedReply = errors.New("closed after another command's reply exceeded the reply limits")
	// ErrCallerLeft is the cause when a caller's context ended while it was
	// writing or reading a large value on its own goroutine (direct.go):
	// the value cannot be finished by anyone else, so the connection goes,
	// but the node is not failing. Only the caller's own requests had been
	// sent on it; any queued behind are refused unsent.
	ErrCallerLeft = errors.New("closed as a caller left in the middle of a large value")
	// ErrRefused is returned, without sending, for commands that make the
	// server withhold replies (CLIENT REPLY OFF or SKIP), which a connection
	// shared by many callers cannot survive. The engine refuses them first,
	// with its ErrConnState, which is this error.
	ErrRefused = errors.New("keel: command would change the state of a shared connection")
)

func refused(args []string) error {
	return fmt.Errorf("%w: %s", ErrRefused, strings.Join(args[:min(len(args), 3)], " "))
}

// Error is the error of a request whose connection failed before its reply
// arrived. errors.Is(err, ErrConnLost) holds for it, and so does
// errors.Is(err, cause) for its cause.
type Error struct {
	// Addr is the node the connection was to.
	Addr string
	// Sent reports that some or all of the request was written to the
	// socket, so the server may have run it. When false the request was
	// never written and certainly did not run.
	Sent bool
	// Err is why the connection failed: ErrClosed, ErrHealthTimeout,
	// io.EOF, a network error, or a resp protocol error.
	Err error
}

func (e *Error) Error() string {
	outcome := "not sent"
	if e.Sent {
		outcome = "sent, may have run"
	}
	return fmt.Sprintf("keel: connection to %s lost (request %s): %v", e.Addr, outcome, e.Err)
}

// Unwrap lets errors.Is match both ErrConnLost and the cause.
func (e *Error) Unwrap() []error { return []error{ErrConnLost, e.Err} }

// MayHaveRun reports whether err leaves the outcome of a request unknown: its
// connection failed after the request was written. It is false for errors
// that prove the request never reached the server.
func MayHaveRun(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Sent
}
