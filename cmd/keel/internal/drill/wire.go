package drill

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
	"time"
)

// wireConn is the feeder's own connection to one node: just enough RESP2 to
// send commands and read their replies. The publisher and producer use it,
// not a client under test nor keel, so that what they send does not depend
// on any client's behaviour. (lab's equivalent is unexported.)
type wireConn struct {
	nc net.Conn
	r  *bufio.Reader
}

// replyError is an error reply, such as "MOVED 3999 127.0.0.1:7001".
type replyError string

func (e replyError) Error() string { return string(e) }

// maxWireBulk bounds a bulk reply: the feeder reads only short replies.
const maxWireBulk = 1 << 20

// dialWire connects to addr as t says (resolver, TLS, credentials) within
// timeout.
func dialWire(ctx context.Context, t Target, addr string, timeout time.Duration) (*wireConn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := t.Dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if t.TLS != nil {
		cfg := t.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc
	}
	c := &wireConn{nc: nc, r: bufio.NewReader(nc)}
	if t.Password != "" {
		auth := []string{"AUTH", t.Password}
		if t.Username != "" {
			auth = []string{"AUTH", t.Username, t.Password}
		}
		dl, _ := ctx.Deadline()
		if _, err := c.do(dl, auth); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: AUTH: %w", addr, err)
		}
	}
	return c, nil
}

// do sends cmds in one write and reads their replies, all before deadline.
// An error reply is returned in its place as a replyError; err is set only
// when the connection failed (it must then be closed).
func (c *wireConn) do(deadline time.Time, cmds ...[]string) ([]any, error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	var b []byte
	for _, args := range cmds {
		b = appendCommand(b, args)
	}
	if _, err := c.nc.Write(b); err != nil {
		return nil, err
	}
	out := make([]any, len(cmds))
	for i := range cmds {
		v, err := c.read(0)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *wireConn) Close() error { return c.nc.Close() }

func appendCommand(b []byte, args []string) []byte {
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

// read reads one reply: string, int64, []any, nil or replyError.
func (c *wireConn) read(depth int) (any, error) {
	if depth > 8 {
		return nil, errors.New("drill: reply nested too deeply")
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("drill: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return replyError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$', '*':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxWireBulk {
			return nil, fmt.Errorf("drill: bad reply length %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		if line[0] == '*' {
			arr := make([]any, n)
			for i := range arr {
				if arr[i], err = c.read(depth + 1); err != nil {
					return nil, err
				}
			}
			return arr, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	}
	return nil, fmt.Errorf("drill: unexpected reply %q", line)
}
