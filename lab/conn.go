package lab

import (
	"context"
	"time"
)

// Conn is a plain connection to one node, speaking lab's own RESP (see
// wire.go) and nothing more: for tools that must talk to a cluster without
// any client library, such as the drill's independent publisher, whose
// messages must not depend on the clients it measures. It is not safe for
// concurrent use.
type Conn struct{ rc *rawConn }

// Dial connects to the node at addr as t says (resolver, TLS, credentials),
// within timeout.
func (t Target) Dial(ctx context.Context, addr string, timeout time.Duration) (*Conn, error) {
	rc, err := t.dial(ctx, addr, timeout)
	if err != nil {
		return nil, err
	}
	return &Conn{rc}, nil
}

// Do sends args and reads the reply within timeout: a string (simple or
// bulk), an int64, a []any of those, or nil for a null. An error reply is
// returned as a ReplyError, after which the connection is still usable;
// any other error means the connection failed, and it should be closed.
func (c *Conn) Do(timeout time.Duration, args ...string) (any, error) {
	if err := c.rc.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	return c.rc.call(args...)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.rc.Close() }

// Receive reads the next value the server sends without being asked, within
// timeout: a message on a channel the connection subscribed to. A timeout
// leaves the connection unusable, like any error but a ReplyError.
func (c *Conn) Receive(timeout time.Duration) (any, error) {
	if err := c.rc.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	return c.rc.readValue(0)
}
