package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// This file holds the only Redis protocol code in lab: enough to send one
// command and read a one-line reply (+OK, +PONG, -ERR ...). lab needs that
// for readiness checks and ACL setup, and deliberately goes no further,
// because the real RESP implementation lives in package resp and lab must
// not depend on it (or duplicate it).

// rawConn is a connection to a lab server that speaks just enough RESP for
// lab's own bookkeeping.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialRaw connects to addr, over TLS when tlsConf is not nil. All I/O on the
// connection is bounded by ctx's deadline, if it has one, so a stopped or
// wedged server cannot hang the caller.
func dialRaw(ctx context.Context, addr string, tlsConf *tls.Config) (*rawConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if tlsConf != nil {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	return &rawConn{conn: conn, r: bufio.NewReader(conn)}, nil
}

// do sends args as a RESP array of bulk strings and returns the first line
// of the reply without its CRLF. It is only meant for commands whose reply is
// a simple string or an error.
func (c *rawConn) do(args ...string) (string, error) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := c.conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *rawConn) Close() error { return c.conn.Close() }
