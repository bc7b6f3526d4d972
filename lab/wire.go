package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// This file holds the only Redis protocol code in lab: enough RESP2 to send a
// command and read its reply as plain Go values. lab deliberately does not use
// keel's package resp: lab is the reference that keel is measured against, so
// it must not share keel's bugs (lab knows nothing of keel; see docs/architecture.md).

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
	return dialRawWith(ctx, &net.Dialer{}, addr, tlsConf)
}

// dialRawWith is dialRaw through d, whose Resolver finds named hosts.
func dialRawWith(ctx context.Context, d *net.Dialer, addr string, tlsConf *tls.Config) (*rawConn, error) {
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
	if _, err := c.conn.Write(encodeCommand(args)); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *rawConn) Close() error { return c.conn.Close() }

// ReplyError is an error reply from a lab node, such as "ERR ..." or
// "MOVED 3999 127.0.0.1:7001".
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

// maxReplyLen bounds what lab accepts from a node: lab only talks to servers
// it started, but a bug must give an error, not exhaust memory.
const maxReplyLen = 64 << 20

// call sends args and returns the reply as Go values: string for simple and
// bulk strings, int64, []any for arrays, nil for nulls. An error reply is
// returned as a ReplyError.
func (c *rawConn) call(args ...string) (any, error) {
	if _, err := c.conn.Write(encodeCommand(args)); err != nil {
		return nil, err
	}
	v, err := c.readValue(0)
	if err != nil {
		return nil, err
	}
	if e, ok := v.(ReplyError); ok {
		return nil, e
	}
	return v, nil
}

func encodeCommand(args []string) []byte {
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

func (c *rawConn) readValue(depth int) (any, error) {
	if depth > 8 {
		return nil, errors.New("lab: reply nested too deeply")
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("lab: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return ReplyError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxReplyLen {
			return nil, fmt.Errorf("lab: bad bulk length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxReplyLen {
			return nil, fmt.Errorf("lab: bad array length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		out := make([]any, 0, min(n, 1024))
		for range n {
			e, err := c.readValue(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	return nil, fmt.Errorf("lab: unexpected reply %q", line)
}
