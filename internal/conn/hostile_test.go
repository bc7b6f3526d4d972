package conn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// 16M elements cost more than the default reply budget in Values of
	// 64-bit words; on 32-bit platforms they fit it, so the reader takes
	// the array and the server's close truncates it.
	manySmall := resp.ErrProtocol
	if strconv.IntSize < 64 {
		manySmall = io.ErrUnexpectedEOF
	}
	cases := []struct {
		name, reply string
		want        error
	}{
		{"huge bulk length", "$99999999999\r\nabc", resp.ErrProtocol},
		{"huge aggregate length", "*99999999999\r\n", resp.ErrProtocol},
		{"16M small integers declared", "*16000000\r\n:1\r\n:2\r\n", manySmall},
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
			// A reply over a limit fails its request before the connection
			// (failOldest), so the close may follow the error by a moment.
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("connection still open after a protocol error")
			}
		})
	}
}

func TestUnsolicitedReplyClosesConnection(t *testing.T) {
	c := dialThenUnasked(t, "+surprise\r\n", conn.Options{})
	waitClosed(t, c.Done(), 5*time.Second, "connection closes on a reply nobody asked for")
	if !errors.Is(c.Err(), resp.ErrProtocol) {
		t.Fatalf("cause = %v, want a protocol error", c.Err())
	}
}

// dialThenUnasked dials a server that, once the dial is over, sends extra,
// which nobody asked for, and returns when it has.
func dialThenUnasked(t *testing.T, extra string, opts conn.Options) *conn.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	dialled, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		rd := resp.NewReader(nc, resp.Limits{})
		if _, err := rd.Read(); err != nil {
			return
		}
		_, _ = io.WriteString(nc, helloOK)
		<-dialled
		_, _ = io.WriteString(nc, extra)
		_, _ = io.Copy(io.Discard, nc)
	}()
	c, err := conn.Dial(context.Background(), ln.Addr().String(), opts)
	close(dialled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); <-sent })
	return c
}

// A reply sent with the handshake's, before any request, fails the dial:
// read later, it would pass for the first request's reply.
func TestUnsolicitedReplyWithTheHandshakeFailsTheDial(t *testing.T) {
	addr := fakeServer(t, helloOK+"+surprise\r\n", "")
	_, err := conn.Dial(context.Background(), addr, conn.Options{})
	if !errors.Is(err, resp.ErrProtocol) {
		t.Fatalf("Dial = %v, want a protocol error", err)
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
	v, err := c.Do(context.Background(), "SET", "k", "v")
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

// scriptedServer serves connections on 127.0.0.1, answering HELLO as a RESP3
// server does and every other command with whatever answer writes to the
// socket: nothing makes the server skip the reply. It serves until the test
// ends.
func scriptedServer(t *testing.T, answer func(w io.Writer, cmd []string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				stop := context.AfterFunc(t.Context(), func() { _ = nc.Close() })
				defer stop()
				rd := resp.NewReader(nc, resp.Limits{})
				for {
					v, err := rd.Read()
					if err != nil {
						return
					}
					cmd := make([]string, len(v.Elems))
					for i, e := range v.Elems {
						cmd[i] = e.Str
					}
					if strings.EqualFold(cmd[0], "HELLO") {
						_, _ = io.WriteString(nc, helloOK)
						continue
					}
					answer(nc, cmd)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func dialFake(t *testing.T, addr string, opts conn.Options) *conn.Conn {
	t.Helper()
	c, err := conn.Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestReplyOfImpossibleTypeClosesConnection(t *testing.T) {
	cases := []struct {
		name  string
		cmd   []string
		reply string
	}{
		{"array for GET", []string{"GET", "k"}, "*1\r\n$1\r\nx\r\n"},
		{"integer for get in lower case", []string{"get", "k"}, ":1\r\n"},
		{"integer for SET", []string{"SET", "k", "v"}, ":1\r\n"},
		{"bulk for SET without GET", []string{"SET", "k", "v"}, "$2\r\nOK\r\n"},
		{"bulk for INCR", []string{"INCR", "n"}, "$1\r\n1\r\n"},
		{"simple string for GET", []string{"GET", "k"}, "+QUEUED\r\n"},
		{"bulk for PING", []string{"PING"}, "$4\r\nPONG\r\n"},
		{"OK for PING", []string{"PING"}, "+OK\r\n"},
		{"map for MGET", []string{"MGET", "a", "b"}, "%0\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := scriptedServer(t, func(w io.Writer, cmd []string) {
				if cmd[0] == "GET" && cmd[1] == "after" {
					_, _ = io.WriteString(w, "$5\r\nvalue\r\n")
					return
				}
				_, _ = io.WriteString(w, tc.reply)
			})
			c := dialFake(t, addr, conn.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			replies, err := c.DoMulti(ctx, tc.cmd, []string{"GET", "after"})
			if !errors.Is(err, conn.ErrOutOfStep) || !conn.MayHaveRun(err) || len(replies) != 0 {
				t.Fatalf("replies %v, err = %v; want no reply and ErrOutOfStep, sent", replies, err)
			}
			waitClosed(t, c.Done(), 5*time.Second, "connection closes once out of step")
			if !errors.Is(c.Err(), conn.ErrOutOfStep) {
				t.Fatalf("cause = %v, want ErrOutOfStep", c.Err())
			}
		})
	}
}

func TestRepliesOfPossibleTypesAreDelivered(t *testing.T) {
	cases := []struct {
		cmd   []string
		reply string
	}{
		{[]string{"GET", "k"}, "_\r\n"},
		{[]string{"GET", "k"}, "$-1\r\n"},
		{[]string{"GET", "k"}, "|1\r\n+key-popularity\r\n:1\r\n$1\r\nv\r\n"},
		{[]string{"GET", "k"}, "-WRONGTYPE no\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"SET", "k", "v", "NX"}, "_\r\n"},
		{[]string{"set", "k", "v", "get"}, "$3\r\nold\r\n"},
		{[]string{"INCR", "n"}, ":7\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"PING", "hi"}, "$2\r\nhi\r\n"},
		{[]string{"HGETALL", "h"}, "%1\r\n$1\r\nf\r\n$1\r\nv\r\n"},
		{[]string{"SMEMBERS", "s"}, "~1\r\n$1\r\nm\r\n"},
		{[]string{"OBJECT", "FREQ", "k"}, ",1.5\r\n"}, // not in the table: anything goes
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.cmd, " ")+"="+strings.TrimSpace(tc.reply), func(t *testing.T) {
			addr := scriptedServer(t, func(w io.Writer, cmd []string) { _, _ = io.WriteString(w, tc.reply) })
			c := dialFake(t, addr, conn.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			replies, err := c.DoMulti(ctx, tc.cmd)
			if err != nil || len(replies) != 1 {
				t.Fatalf("replies %v, err %v; want the reply delivered", replies, err)
			}
			if c.Err() != nil {
				t.Fatalf("connection failed: %v", c.Err())
			}
		})
	}
}

func TestClientReplyIsRefusedUnsent(t *testing.T) {
	var sent atomic.Int64
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		sent.Add(1)
		_, _ = io.WriteString(w, "+OK\r\n")
	})
	c := dialFake(t, addr, conn.Options{})
	for _, args := range [][]string{{"CLIENT", "REPLY", "SKIP"}, {"client", "reply", "off"}} {
		if _, err := c.Do(context.Background(), args...); !errors.Is(err, conn.ErrRefused) {
			t.Fatalf("%v: err = %v, want ErrRefused", args, err)
		}
		if _, err := c.DoMulti(context.Background(), []string{"PING"}, args); !errors.Is(err, conn.ErrRefused) {
			t.Fatalf("DoMulti %v: err = %v, want ErrRefused", args, err)
		}
	}
	if v, err := c.Do(context.Background(), "CLIENT", "SETNAME", "x"); err != nil || v.Str != "OK" {
		t.Fatalf("CLIENT SETNAME: %v, %v", v, err)
	}
	if n := sent.Load(); n != 1 {
		t.Fatalf("server received %d commands, want only CLIENT SETNAME", n)
	}
}

// A server that skips one reply (as after CLIENT REPLY SKIP) while values of
// one type keep flowing cannot be caught by reply types: the sentinel PING
// the monitor sends on a busy connection is answered with a bulk string (or
// its PONG reaches a GET), and the connection is closed.
func TestSentinelPingCatchesSkippedReply(t *testing.T) {
	var skipped atomic.Bool
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		switch strings.ToUpper(cmd[0]) {
		case "PING":
			_, _ = io.WriteString(w, "+PONG\r\n")
		case "GET":
			if cmd[1] == "alice:token" && skipped.CompareAndSwap(false, true) {
				return
			}
			_, _ = fmt.Fprintf(w, "$%d\r\n%s\r\n", len(cmd[1]), cmd[1])
		}
	})
	c := dialFake(t, addr, conn.Options{PingInterval: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for _, user := range []string{"alice", "bob", "carol"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, err := c.Do(ctx, "GET", user+":token")
				cancel()
				if err != nil {
					return
				}
			}
		}()
	}
	waitClosed(t, c.Done(), 5*time.Second, "out-of-step connection closes")
	wg.Wait()
	if !errors.Is(c.Err(), conn.ErrOutOfStep) {
		t.Fatalf("cause = %v, want ErrOutOfStep", c.Err())
	}
}

// A server that announces a huge bulk and trickles it must not wedge the
// connection once the caller has gone.
func TestTrickledReplyDoesNotWedgeConnection(t *testing.T) {
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		if _, err := io.WriteString(w, "$100000000\r\n"); err != nil {
			return
		}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if _, err := io.WriteString(w, "x"); err != nil {
				return // the client hung up
			}
		}
	})
	// With BusyTimeout too: a server trickling a reply is there, but the
	// reply nobody wants still holds up the connection.
	for _, busy := range []time.Duration{0, 10 * time.Second} {
		c := dialFake(t, addr, conn.Options{HealthTimeout: time.Second, BusyTimeout: busy})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if _, err := c.Do(ctx, "GET", "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("BusyTimeout %v: err = %v, want the caller's deadline", busy, err)
		}
		cancel()
		waitClosed(t, c.Done(), 5*time.Second, "connection with an abandoned trickling reply closes")
		if !errors.Is(c.Err(), conn.ErrAbandonedReply) {
			t.Fatalf("BusyTimeout %v: cause = %v, want ErrAbandonedReply", busy, c.Err())
		}
	}
}

// A caller's deadline is honoured while a large reply is still arriving; the
// connection is then closed, as the reply's caller has gone: at once when the
// caller was reading the reply itself (ErrCallerLeft), after the health
// timeout when the reader goroutine was (ErrAbandonedReply).
func TestDeadlineHonouredWhileLargeReplyArrives(t *testing.T) {
	chunk := strings.Repeat("x", 16<<10)
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		if _, err := io.WriteString(w, "$500000000\r\n"); err != nil {
			return
		}
		for {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			time.Sleep(time.Millisecond) // pacing the fake server, not synchronisation
		}
	})
	cases := []struct {
		name     string
		patience time.Duration // how long the caller waits for bytes before the reader goroutine takes over
		cause    error
	}{
		{"read by the caller", time.Minute, conn.ErrCallerLeft},
		{"read by the reader goroutine", time.Nanosecond, conn.ErrAbandonedReply},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFake(t, addr, conn.Options{HealthTimeout: time.Second})
			conn.SetPatience(c, tc.patience)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			if _, err := c.Do(ctx, "GET", "big"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the caller's deadline", err)
			}
			// The whole reply would take many seconds at this pace.
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("caller released after %v, deadline 200ms", took)
			}
			waitClosed(t, c.Done(), 5*time.Second, "connection with an abandoned large reply closes")
			if !errors.Is(c.Err(), tc.cause) {
				t.Fatalf("cause = %v, want %v", c.Err(), tc.cause)
			}
		})
	}
}

func TestLimitsOptionBoundsReplies(t *testing.T) {
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		_, _ = io.WriteString(w, "*1000\r\n"+strings.Repeat(":1\r\n", 1000))
	})
	c := dialFake(t, addr, conn.Options{Limits: resp.Limits{MaxReplyBytes: 10 << 10}})
	if _, err := c.Do(context.Background(), "LRANGE", "l", "0", "-1"); !errors.Is(err, resp.ErrProtocol) || !errors.Is(err, conn.ErrConnLost) {
		t.Fatalf("err = %v, want the connection lost to a protocol error", err)
	}
}
