package conn_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// A lone caller waits for its replies in its own thread once its
// connection has had LoneAfter direct requests in a row; a request queued
// on the connection (another caller) starts the count again. The gates are
// process-wide (busy connections, waiters): this package's tests do not run
// in parallel, and each closes its connections.
func TestLoneCallerWaitsInItsThread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the wait in the calling thread is Linux's only")
	}
	srv := resptest.New(t)
	srv.Handle("GET", func(args []string) resptest.Reply {
		if args[1] == "slow" {
			return resptest.Reply{Value: resp.Value{Kind: resp.KindBulkString, Str: "late"}, Delay: 100 * time.Millisecond}
		}
		return resptest.Bulk("v:" + args[1])
	})
	c := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1}) // no PING to queue
	get := func(key string) {
		t.Helper()
		if v, err := c.Do(context.Background(), "GET", key); err != nil || v.Str != "v:"+key {
			t.Fatalf("GET %s = %v, %v", key, v, err)
		}
	}
	for range conn.LoneAfter - 1 {
		get("k")
	}
	if n := conn.ReadyWaits(c); n != 0 {
		t.Fatalf("%d waits in the thread before the streak, want 0", n)
	}
	waitsInThread(t, c, get)

	// A few callers, each alone on its connection, wait so too; while as
	// many other connections of the process as may wait so owe replies, the
	// caller is not among few: it waits on the poller.
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	srv.Handle("HELD", func([]string) resptest.Reply {
		<-held
		return resptest.Bulk("v")
	})
	var others []<-chan error
	for range conn.MaxLoneWaiters {
		if len(others) == conn.MaxLoneWaiters-1 {
			waitsInThread(t, c, get)
		}
		other := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1})
		others = append(others, doInFlight(t, other, "HELD"))
	}
	before := conn.ReadyWaits(c)
	for range 3 {
		get("k")
	}
	if n := conn.ReadyWaits(c) - before; n != 0 {
		t.Fatalf("%d waits in the thread while %d other connections were busy, want 0", n, conn.MaxLoneWaiters)
	}
	release()
	for _, done := range others {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	// Another caller's request queues behind a slow one.
	slow := getInFlight(t, c, "slow")
	get("queued")
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	before = conn.ReadyWaits(c)
	for range conn.LoneAfter - 1 {
		get("k")
	}
	if n := conn.ReadyWaits(c) - before; n != 0 {
		t.Fatalf("%d waits in the thread right after a queued request, want 0", n)
	}
}

// Closing the connection wakes a caller waiting in its own thread (its
// read side shut down), long before the wait's bound, and the caller gets
// the close's error.
func TestCloseWakesACallerWaitingInItsThread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the wait in the calling thread is Linux's only")
	}
	srv := resptest.New(t)
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	srv.Handle("GET", func(args []string) resptest.Reply {
		if args[1] == "held" {
			<-held
		}
		return resptest.Bulk("v:" + args[1])
	})
	c := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1})
	conn.SetPatience(c, time.Minute) // the wait's bound: far beyond the test
	waitsInThread(t, c, func(key string) {
		t.Helper()
		if v, err := c.Do(context.Background(), "GET", key); err != nil || v.Str != "v:"+key {
			t.Fatalf("GET %s = %v, %v", key, v, err)
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "GET", "held")
		done <- err
	}()
	testutil.WaitFor(t, time.Second, "the caller waits in its thread", func() bool { return conn.BlockedWaiters() == 1 })
	_ = c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, conn.ErrClosed) {
			t.Fatalf("GET on the closed connection = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the close did not wake the caller: it waits for the wait's bound")
	}
}

// A connection closed with replies owed no longer counts as busy, so
// that it cannot keep every later caller of the process from being alone.
func TestClosedConnectionIsNotBusy(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func([]string) resptest.Reply {
		return resptest.Reply{Value: resp.Value{Kind: resp.KindBulkString, Str: "late"}, Delay: time.Hour}
	})
	base := conn.BusyConns()
	c := dialFake(t, srv.Addr(), conn.Options{PingInterval: -1})
	done := getInFlight(t, c, "never")
	if n := conn.BusyConns(); n != base+1 {
		t.Fatalf("%d busy connections with one GET in flight, want %d", n, base+1)
	}
	_ = c.Close()
	if err := <-done; !errors.Is(err, conn.ErrClosed) {
		t.Fatalf("GET on a closed connection = %v, want ErrClosed", err)
	}
	if n := conn.BusyConns(); n != base {
		t.Fatalf("%d busy connections after Close, want %d", n, base)
	}
}

// waitsInThread GETs on c until one waits in the thread. The monitor's
// look into the idle socket can make a GET queue, which starts the streak
// again: it allows for a few.
func waitsInThread(t *testing.T, c *conn.Conn, get func(key string)) {
	t.Helper()
	before := conn.ReadyWaits(c)
	for i := 0; conn.ReadyWaits(c) == before; i++ {
		if i == 5*conn.LoneAfter {
			t.Fatal("the caller never waited in its thread")
		}
		get("k")
	}
}

// getInFlight sends GET key on c from another goroutine, and returns once
// it is in flight; the channel gets its error.
func getInFlight(t *testing.T, c *conn.Conn, key string) <-chan error {
	t.Helper()
	return doInFlight(t, c, "GET", key)
}

// doInFlight sends args on c from another goroutine, and returns once it
// is in flight; the channel gets its error.
func doInFlight(t *testing.T, c *conn.Conn, args ...string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), args...)
		done <- err
	}()
	testutil.WaitFor(t, time.Second, args[0]+" is in flight", func() bool { return c.InFlight() > 0 })
	return done
}
