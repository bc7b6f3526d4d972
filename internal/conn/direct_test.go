package conn_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// A lone caller on an idle connection writes and reads its own requests.
func TestLoneCallerSendsDirectly(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	for i := range 50 {
		v := strconv.Itoa(i)
		mustDo(t, c, "SET", "direct", v)
		if got, _ := mustDo(t, c, "GET", "direct").Text(); got != v {
			t.Fatalf("GET = %q, want %q", got, v)
		}
	}
	// The monitor's PINGs may make a few requests queue behind them.
	if n := c.DirectRequests(); n < 90 {
		t.Fatalf("%d of 100 requests went directly, want nearly all", n)
	}
	// A batch goes directly too, whole.
	before := c.DirectRequests()
	replies, err := c.DoMulti(context.Background(), []string{"SET", "direct", "b"}, []string{"GET", "direct"}, []string{"PING"})
	if err != nil || len(replies) != 3 || replies[1].Str != "b" || replies[2].Str != "PONG" {
		t.Fatalf("DoMulti = %v, %v", replies, err)
	}
	if n := c.DirectRequests() - before; n != 3 && n != 0 {
		t.Fatalf("%d of a batch of 3 went directly, want all or none", n)
	}
}

// A direct read whose context ends (deadline or cancellation) returns at
// once; the reply, when it comes, is dropped, and the connection serves the
// next request right.
func TestDirectReadEndsWithItsContext(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func(args []string) resptest.Reply {
		if args[1] == "slow" {
			return resptest.Reply{Value: resp.Value{Kind: resp.KindBulkString, Str: "late"}, Delay: 300 * time.Millisecond}
		}
		return resptest.Bulk("v:" + args[1])
	})
	c := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1}) // no PING to queue behind
	deadline := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 20*time.Millisecond)
	}
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		return ctx, cancel
	}
	for _, mk := range []func() (context.Context, context.CancelFunc){deadline, cancelled} {
		ctx, cancel := mk()
		before := c.DirectRequests()
		began := time.Now()
		_, err := c.Do(ctx, "GET", "slow")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Fatalf("GET slow = %v, want the context's error", err)
		}
		if took := time.Since(began); took > 250*time.Millisecond {
			t.Fatalf("GET slow returned after %v, with the reply, not at its context's end", took)
		}
		if n := c.DirectRequests() - before; n != 1 {
			t.Fatalf("%d requests went directly, want the slow GET", n)
		}
		for _, k := range []string{"a", "b", "c"} {
			v, err := c.Do(context.Background(), "GET", k)
			if err != nil || v.Str != "v:"+k {
				t.Fatalf("GET %s = %q, %v", k, v.Str, err)
			}
		}
	}
}

// A reply slower than the direct read's patience comes through the reader
// goroutine.
func TestDirectReadHandsASlowReplyToTheReader(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func([]string) resptest.Reply {
		return resptest.Reply{Value: resp.Value{Kind: resp.KindBulkString, Str: "slow"}, Delay: 30 * time.Millisecond}
	})
	c := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1}) // no PING to queue behind
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		if v, err := c.Do(ctx, "GET", "k"); err != nil || v.Str != "slow" {
			t.Fatalf("GET = %q, %v", v.Str, err)
		}
	}
	// The first at least: the next may find the reader goroutine still
	// holding the read after it delivered a reply, and queue.
	if c.DirectRequests() == 0 {
		t.Fatal("no request went directly")
	}
}

// A lone caller writes a large value itself, with a context that can end
// and with one that cannot, and reads the large reply.
func TestDirectLargeValues(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{PingInterval: -1}) // no PING to queue behind
	// Every reply is read by its caller, however slow, so the next request
	// finds the connection idle.
	conn.SetPatience(c, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := c.DirectRequests()
	for i := range 10 {
		ctx := ctx
		if i%2 == 1 {
			ctx = context.Background()
		}
		big := strings.Repeat(strconv.Itoa(i), 1<<20)
		if v, err := c.Do(ctx, "SET", "big", big); err != nil || v.Str != "OK" {
			t.Fatalf("SET big = %v, %v", v, err)
		}
		v, err := c.Do(ctx, "GET", "big")
		if err != nil || v.Str != big {
			t.Fatalf("GET big: %d bytes, %v", len(v.Str), err)
		}
	}
	// The health check's look at the idle socket may make a few queue.
	if n := c.DirectRequests() - before; n < 16 {
		t.Fatalf("%d of 20 requests went directly, want nearly all", n)
	}
}

// A caller whose context ends while it reads a large reply leaves at once,
// and the connection, which cannot be left in the middle of a value, closes
// with ErrCallerLeft.
func TestCallerLeavingALargeReplyClosesTheConnection(t *testing.T) {
	srv := resptest.New(t)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)
	// Three quarters of the value: more than the kernel's socket buffers
	// hold, so the write returns only once the caller has been reading the
	// value. Built before any request, so the reply starts at once.
	partial := "$67108864\r\n" + strings.Repeat("x", 48<<20)
	srv.Handle("GET", func([]string) resptest.Reply {
		return resptest.Stream(func(w io.Writer) {
			_, _ = io.WriteString(w, partial)
			started <- struct{}{}
			<-release
		})
	})
	leaveMidTransfer(t, func() *conn.Conn {
		// A health timeout a slow machine cannot reach: the caller's
		// leaving, not the health check, is what must close the
		// connection.
		c := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1, HealthTimeout: time.Minute})
		// The caller waits for the reply's bytes however slowly they
		// come, so it is the one reading the value when its context ends.
		conn.SetPatience(c, time.Minute)
		return c
	}, func(c *conn.Conn) error {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-started
			cancel()
		}()
		_, err := c.Do(ctx, "GET", "big")
		return err
	}, context.Canceled)
}

// A caller whose context ends while it writes a large value to a server that
// stopped reading leaves at once; the connection closes with ErrCallerLeft.
func TestCallerLeavingALargeWriteClosesTheConnection(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	big := strings.Repeat("x", 64<<20) // more than the kernel's socket buffers hold: the write blocks
	leaveMidTransfer(t, func() *conn.Conn {
		if err := s.Resume(); err != nil {
			t.Fatal(err)
		}
		c := dial(t, s, conn.Options{PingInterval: -1, HealthTimeout: time.Minute}) // as above
		if err := s.Pause(); err != nil {
			t.Fatal(err)
		}
		return c
	}, func(c *conn.Conn) error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, "SET", "big", big)
		return err
	}, context.DeadlineExceeded)
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
}

// leaveMidTransfer runs do on a connection from dial until do's request
// goes directly (the health check's look at the idle socket may make it
// queue), and checks that the caller got want and the connection closed
// with ErrCallerLeft.
func leaveMidTransfer(t *testing.T, dial func() *conn.Conn, do func(*conn.Conn) error, want error) {
	t.Helper()
	for range 5 {
		c := dial()
		err := do(c)
		if c.DirectRequests() == 0 {
			_ = c.Close()
			continue
		}
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the connection stayed open")
		}
		if !errors.Is(c.Err(), conn.ErrCallerLeft) {
			t.Fatalf("the connection closed with %v, want ErrCallerLeft", c.Err())
		}
		return
	}
	t.Fatal("the request never went directly")
}

// A connection the server closed while idle refuses the next request
// unsent: nobody read the socket, so it is looked at before the write.
func TestIdleConnectionClosedByServerRefusesUnsent(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func([]string) resptest.Reply { return resptest.Bulk("v") })
	c := dialFake(t, srv.Addr(), conn.Options{})
	if _, err := c.Do(context.Background(), "GET", "k"); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	waitClosedSocket(t, c)
	_, err := c.Do(context.Background(), "INCR", "k")
	var ce *conn.Error
	if !errors.As(err, &ce) || ce.Sent {
		t.Fatalf("INCR on a closed idle connection = %v, want an *Error marked unsent", err)
	}
}

// Bytes nobody asked for, arriving while the connection is idle, close it
// before the next request is written: they would pass for its reply.
func TestUnaskedBytesRefuseTheNextRequest(t *testing.T) {
	c := dialThenUnasked(t, "+OK\r\n", conn.Options{PingInterval: -1})
	waitBytesArrive(t, c)
	_, err := c.Do(context.Background(), "SET", "k", "v")
	var ce *conn.Error
	if !errors.As(err, &ce) || ce.Sent || !errors.Is(err, resp.ErrProtocol) {
		t.Fatalf("SET after unasked bytes = %v, want an unsent *Error for a protocol error", err)
	}
}

// A reply behind the last one owed answers nothing: the request gets its
// own reply, and the connection closes.
func TestStrayReplyBehindTheLastClosesTheConnection(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func([]string) resptest.Reply { return resptest.Raw("$1\r\na\r\n+extra\r\n") })
	c := dialFake(t, srv.Addr(), conn.Options{})
	v, err := c.Do(context.Background(), "GET", "k")
	if err != nil || v.Str != "a" {
		t.Fatalf("GET = %q, %v; want its own reply", v.Str, err)
	}
	waitClosed(t, c.Done(), 5*time.Second, "connection closes on a stray reply")
	if !errors.Is(c.Err(), resp.ErrProtocol) {
		t.Fatalf("cause = %v, want a protocol error", c.Err())
	}
}

// waitClosedSocket waits until the server's end of c's connection has
// reached c's socket.
func waitClosedSocket(t *testing.T, c *conn.Conn) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, "the server's close reaches the socket", func() bool {
		err := conn.LookIdle(c)
		return err != nil && !errors.Is(err, conn.ErrBytesWaiting)
	})
}

// waitBytesArrive waits until c's idle socket holds bytes.
func waitBytesArrive(t *testing.T, c *conn.Conn) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, "the server's bytes reach the socket", func() bool {
		return errors.Is(conn.LookIdle(c), conn.ErrBytesWaiting)
	})
}

// Nobody reads an idle connection's socket, yet the monitor notices the
// server closing it without any request.
func TestIdleConnectionClosedByServerIsNoticed(t *testing.T) {
	srv := resptest.New(t)
	c := dialFake(t, srv.Addr(), conn.Options{})
	srv.DropConnections()
	waitClosed(t, c.Done(), 5*time.Second, "the idle connection's close is noticed")
}

// A request too large to go directly is not encoded to find that out: a
// 1 MiB SET on an idle connection allocates nothing of its size.
func TestLargeRequestIsNotCopiedOnTheWayToTheQueue(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	big := strings.Repeat("x", 1<<20)
	ctx := context.Background()
	var err error
	allocs := testing.AllocsPerRun(20, func() { _, err = c.Do(ctx, "SET", "big", big) })
	if err != nil {
		t.Fatal(err)
	}
	if allocs > 1 {
		t.Fatalf("a 1 MiB SET allocated %.1f times, want its value never copied", allocs)
	}
}

// A large value its caller writes itself, to a server that stopped reading,
// is bounded by the health check as a reply would be, even for a context
// that never ends.
func TestHungServerEndsALargeDirectWrite(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{PingInterval: -1, HealthTimeout: 300 * time.Millisecond})
	big := strings.Repeat("x", 64<<20) // more than the kernel's socket buffers hold: the write blocks
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Resume() }()
	_, err := c.Do(context.Background(), "SET", "big", big)
	if !errors.Is(err, conn.ErrHealthTimeout) {
		t.Fatalf("SET = %v, want ErrHealthTimeout", err)
	}
}
