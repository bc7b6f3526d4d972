package conn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// fakeServer accepts one connection, answers the HELLO handshake with
// helloReply, writes reply to the first command it reads, then ends its side
// of the stream (so a truncated reply stays truncated) and waits for the
// client to hang up.
func fakeServer(t *testing.T, helloReply, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		rd := resp.NewReader(nc, resp.Limits{})
		for _, out := range []string{helloReply, reply} {
			if _, err := rd.Read(); err != nil {
				return
			}
			if _, err := io.WriteString(nc, out); err != nil {
				return
			}
		}
		_ = nc.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, nc) // until the client closes
	}()
	return ln.Addr().String()
}

const helloOK = "%1\r\n+proto\r\n:3\r\n"

func TestHostileReplies(t *testing.T) {
	cases := []struct {
		name, reply string
		want        error
	}{
		{"huge bulk length", "$99999999999\r\nabc", resp.ErrProtocol},
		{"huge aggregate length", "*99999999999\r\n", resp.ErrProtocol},
		{"deep nesting", strings.Repeat("*1\r\n", 10000) + ":1\r\n", resp.ErrProtocol},
		{"garbage type byte", "?what\r\n", resp.ErrProtocol},
		{"missing CR", "+OK\n", resp.ErrProtocol},
		{"bad integer", ":12x\r\n", resp.ErrProtocol},
		{"truncated bulk", "$10\r\nabc", io.ErrUnexpectedEOF},
		{"truncated array", "*3\r\n:1\r\n", io.ErrUnexpectedEOF},
		{"truncated line", "+OK", io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, helloOK, tc.reply)
			c, err := conn.Dial(context.Background(), addr, conn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = c.Do(ctx, "GET", "k")
			if !errors.Is(err, conn.ErrConnLost) || !errors.Is(err, tc.want) || !conn.MayHaveRun(err) {
				t.Fatalf("err = %v; want ErrConnLost caused by %v", err, tc.want)
			}
			select {
			case <-c.Done():
			default:
				t.Fatal("connection still open after a protocol error")
			}
		})
	}
}

func TestUnsolicitedReplyClosesConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		rd := resp.NewReader(nc, resp.Limits{})
		if _, err := rd.Read(); err != nil {
			return
		}
		_, _ = io.WriteString(nc, helloOK+"+surprise\r\n")
		_, _ = io.Copy(io.Discard, nc)
	}()
	c, err := conn.Dial(context.Background(), ln.Addr().String(), conn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitClosed(t, c.Done(), 5*time.Second, "connection closes on a reply nobody asked for")
	if !errors.Is(c.Err(), resp.ErrProtocol) {
		t.Fatalf("cause = %v, want a protocol error", c.Err())
	}
}

func TestFallsBackToRESP2WithoutHello(t *testing.T) {
	addr := fakeServer(t, "-ERR unknown command 'HELLO', with args beginning with: '3'\r\n", "+OK\r\n")
	c, err := conn.Dial(context.Background(), addr, conn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Protocol() != 2 {
		t.Fatalf("protocol = %d, want 2 after HELLO was refused", c.Protocol())
	}
	v, err := c.Do(context.Background(), "PING")
	if err != nil || v.Str != "OK" {
		t.Fatalf("first command after fallback: %v, %v", v, err)
	}
}

func TestHandshakeHonoursContext(t *testing.T) {
	// A server that accepts and never answers: the dial must end with its context.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = conn.Dial(ctx, ln.Addr().String(), conn.Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("dial returned after %v", took)
	}
	(<-accepted).Close()
}
