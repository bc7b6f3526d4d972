package conn_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// dial connects to a lab server and closes the connection when the test ends.
func dial(t testing.TB, s *lab.Server, opts conn.Options) *conn.Conn {
	t.Helper()
	if opts.TLS == nil {
		opts.TLS = s.TLSConfig()
	}
	c, err := conn.Dial(context.Background(), s.Addr(), opts)
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustDo(t testing.TB, c *conn.Conn, args ...string) resp.Value {
	t.Helper()
	v, err := c.Do(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// waitClosed polls until ch is closed or the deadline passes.
func waitClosed(t *testing.T, ch <-chan struct{}, within time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-ch:
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("%s: not within %v", what, within)
		return 0
	}
}

func TestConcurrentCallersGetTheirOwnReplies(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	if c.Protocol() != 3 {
		t.Errorf("protocol = %d, want 3 against Redis 7", c.Protocol())
	}
	const goroutines, each = 1000, 100
	var wg sync.WaitGroup
	var bad atomic.Int64
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range each {
				key := fmt.Sprintf("k:%d:%d", g, i)
				val := strconv.Itoa(g*each + i)
				if _, err := c.Do(ctx, "SET", key, val); err != nil {
					errs <- err
					return
				}
				v, err := c.Do(ctx, "GET", key)
				if err != nil {
					errs <- err
					return
				}
				if got, _ := v.Text(); got != val {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d GETs returned another request's value", n)
	}
	if n, _ := mustDo(t, c, "DBSIZE").Int64(); n != goroutines*each {
		t.Fatalf("DBSIZE = %d, want %d", n, goroutines*each)
	}
}

func TestDoMultiKeepsOrder(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	replies, err := c.DoMulti(context.Background(),
		[]string{"SET", "a", "1"}, []string{"INCR", "a"}, []string{"LPUSH", "a", "x"}, []string{"GET", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 4 {
		t.Fatalf("got %d replies, want 4", len(replies))
	}
	if n, _ := replies[1].Int64(); n != 2 {
		t.Errorf("INCR = %v, want 2", replies[1])
	}
	if !errors.Is(replies[2].Err(), resp.ErrWrongType) {
		t.Errorf("LPUSH on a string = %v, want WRONGTYPE", replies[2])
	}
	if got, _ := replies[3].Text(); got != "2" {
		t.Errorf("GET = %v, want 2", replies[3])
	}
}

func TestServerErrorIsTyped(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	mustDo(t, c, "SET", "s", "x")
	v, err := c.Do(context.Background(), "LPUSH", "s", "y")
	if !errors.Is(err, resp.ErrWrongType) || v.Kind != resp.KindError {
		t.Fatalf("err = %v, value = %v; want WRONGTYPE", err, v)
	}
	// The connection is still usable after an error reply.
	if got, _ := mustDo(t, c, "GET", "s").Text(); got != "x" {
		t.Fatalf("GET after error = %q", got)
	}
}

// A caller whose context ends gets ctx.Err() at once; the reply to its command
// is read and dropped, so the next caller still gets its own reply. Until
// then, HoldsLeft reports it in flight.
func TestCancelledCallerDoesNotShiftReplies(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	mustDo(t, c, "SET", "after", "mine")

	// WAIT 1 300 blocks this connection's replies for 300 ms (no replicas).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, "WAIT", "1", "300")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 250*time.Millisecond {
		t.Fatalf("cancelled caller returned after %v, not at its deadline", waited)
	}
	if !c.HoldsLeft() {
		t.Fatal("HoldsLeft = false with the abandoned WAIT in flight")
	}
	if got, _ := mustDo(t, c, "GET", "after").Text(); got != "mine" {
		t.Fatalf("GET after a dropped reply = %q, want mine", got)
	}
	if c.HoldsLeft() {
		t.Fatal("HoldsLeft = true once the abandoned reply was read")
	}
}

// A request whose context is already over is never sent.
func TestAbandonedRequestIsNotSent(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		if _, err := c.Do(ctx, "INCR", "never"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want Canceled", err)
		}
	}
	// Requests that raced the writer may have gone out; the count says how
	// many did, and it must be well below all of them.
	v := mustDo(t, c, "GET", "never")
	n, _ := v.Int64()
	if n == 100 {
		t.Fatalf("all 100 cancelled INCRs ran")
	}
}

func TestServerKilledFailsInFlightAtOnce(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	mustDo(t, c, "SET", "x", "1")

	const callers = 200
	var wg sync.WaitGroup
	var running atomic.Int64
	var lastReturn atomic.Int64 // unix nanos of the last failed return
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			running.Add(1)
			for {
				_, err := c.Do(context.Background(), "GET", "x")
				if err != nil {
					lastReturn.Store(time.Now().UnixNano())
					errs <- err
					return
				}
			}
		}()
	}
	testutil.WaitFor(t, 5*time.Second, "every caller has started its loop", func() bool { return running.Load() >= callers })
	killed := time.Now()
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitClosed(t, done, 5*time.Second, "callers return after SIGKILL")
	close(errs)
	var sent int
	for err := range errs {
		if !errors.Is(err, conn.ErrConnLost) {
			t.Fatalf("err = %v, want ErrConnLost", err)
		}
		if conn.MayHaveRun(err) {
			sent++
		}
	}
	lag := time.Duration(lastReturn.Load() - killed.UnixNano())
	t.Logf("all %d callers failed within %v of SIGKILL (%d had been sent)", callers, lag, sent)
	if lag > 500*time.Millisecond {
		t.Fatalf("callers failed %v after the kill; want well under 100 ms", lag)
	}
	if _, err := c.Do(context.Background(), "GET", "x"); !errors.Is(err, conn.ErrConnLost) || conn.MayHaveRun(err) {
		t.Fatalf("Do on a dead conn: %v; want ErrConnLost, not sent", err)
	}
}

func TestServerPausedCallersGetDeadlineAndConnDies(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	const health = 300 * time.Millisecond
	c := dial(t, s, conn.Options{HealthTimeout: health})
	for i := range 100 {
		mustDo(t, c, "SET", "p:"+strconv.Itoa(i), strconv.Itoa(i))
	}
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()

	// Callers with short deadlines get them, not a hang.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if _, err := c.Do(ctx, "GET", "p:1"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("paused server: err = %v, want DeadlineExceeded", err)
			}
		}()
	}
	wg.Wait()

	// A caller without a deadline is failed by the health check.
	_, err := c.Do(context.Background(), "GET", "p:2")
	detected := time.Since(paused)
	if !errors.Is(err, conn.ErrConnLost) || !errors.Is(err, conn.ErrHealthTimeout) || !conn.MayHaveRun(err) {
		t.Fatalf("err = %v, want ErrConnLost caused by ErrHealthTimeout, sent", err)
	}
	t.Logf("paused server declared dead %v after the pause (health timeout %v)", detected, health)
	if detected > health+400*time.Millisecond {
		t.Fatalf("declared dead after %v; want health timeout %v plus small slack", detected, health)
	}

	// Resuming the server corrupts nothing: a new connection reads every value.
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, s, conn.Options{})
	for i := range 100 {
		if got, _ := mustDo(t, c2, "GET", "p:"+strconv.Itoa(i)).Text(); got != strconv.Itoa(i) {
			t.Fatalf("after resume GET p:%d = %q", i, got)
		}
	}
	if _, err := c.Do(context.Background(), "PING"); !errors.Is(err, conn.ErrConnLost) {
		t.Fatalf("the dead connection answered after resume: %v", err)
	}
}

func TestIdleConnectionPingsAndNoticesHungServer(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{HealthTimeout: 200 * time.Millisecond, PingInterval: 100 * time.Millisecond})
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Resume() }()
	took := waitClosed(t, c.Done(), 3*time.Second, "idle connection to a paused server dies")
	t.Logf("idle connection declared dead %v after the pause", took)
	if !errors.Is(c.Err(), conn.ErrHealthTimeout) {
		t.Fatalf("cause = %v, want ErrHealthTimeout", c.Err())
	}
}

func TestCloseIsIdempotentAndSafeWithDo(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := c.Do(context.Background(), "INCR", "n")
				if err != nil {
					if !errors.Is(err, conn.ErrClosed) {
						t.Errorf("err = %v, want ErrClosed", err)
					}
					failed.Add(1)
					return
				}
				ok.Add(1)
			}
		}()
	}
	testutil.WaitFor(t, 5*time.Second, "the load is running", func() bool { return ok.Load() >= 1000 })
	var closers sync.WaitGroup
	for range 4 {
		closers.Add(1)
		go func() { defer closers.Done(); _ = c.Close() }()
	}
	closers.Wait()
	wg.Wait()
	if failed.Load() != 64 {
		t.Fatalf("%d callers saw ErrClosed, want 64", failed.Load())
	}
	_, err := c.Do(context.Background(), "PING")
	if !errors.Is(err, conn.ErrClosed) || conn.MayHaveRun(err) {
		t.Fatalf("Do after Close = %v; want ErrClosed, not sent", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestClientName(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	for _, proto := range []int{2, 3} {
		c := dial(t, s, conn.Options{ClientName: "keel-test", Protocol: proto})
		if c.Protocol() != proto {
			t.Errorf("protocol = %d, want %d", c.Protocol(), proto)
		}
		if got, _ := mustDo(t, c, "CLIENT", "GETNAME").Text(); got != "keel-test" {
			t.Errorf("RESP%d: CLIENT GETNAME = %q", proto, got)
		}
	}
}

func TestTLS(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{TLS: true, Password: "sekret"})
	c := dial(t, s, conn.Options{Password: "sekret"})
	mustDo(t, c, "SET", "t", "tls")
	if got, _ := mustDo(t, c, "GET", "t").Text(); got != "tls" {
		t.Fatalf("GET over TLS = %q", got)
	}
	// Plain TCP to a TLS-only port fails to handshake.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c, err := conn.Dial(ctx, s.Addr(), conn.Options{Password: "sekret", DialTimeout: 500 * time.Millisecond}); err == nil {
		_ = c.Close()
		t.Fatal("plain-text dial to a TLS-only server succeeded")
	}
}

// A dial over TLS whose context ends at any point, before, during or after
// the handshakes, either fails with the context's error or gives a working
// connection.
func TestTLSDialCancelled(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{TLS: true})
	opts := conn.Options{TLS: s.TLSConfig()}
	for i := range 60 {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(time.Duration(i)*50*time.Microsecond, cancel)
		c, err := conn.Dial(ctx, s.Addr(), opts)
		timer.Stop()
		cancel()
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("dial %d: %v; want context.Canceled", i, err)
			}
			continue
		}
		if v, err := c.Do(context.Background(), "PING"); err != nil || v.Str != "PONG" {
			t.Fatalf("dial %d: PING = %v, %v", i, v, err)
		}
		_ = c.Close()
	}
}

func TestAuth(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{Password: "right", User: "app"})
	cases := []struct {
		name      string
		opts      conn.Options
		wantErr   error
		wantReply error
	}{
		{"default user", conn.Options{Password: "right"}, nil, nil},
		{"ACL user", conn.Options{Username: "app", Password: "right"}, nil, nil},
		{"ACL user RESP2", conn.Options{Username: "app", Password: "right", Protocol: 2}, nil, nil},
		{"wrong password", conn.Options{Password: "wrong"}, conn.ErrAuth, resp.ErrWrongPass},
		{"wrong password RESP2", conn.Options{Password: "wrong", Protocol: 2}, conn.ErrAuth, resp.ErrWrongPass},
		{"unknown user", conn.Options{Username: "nobody", Password: "right"}, conn.ErrAuth, resp.ErrWrongPass},
		{"no password", conn.Options{}, conn.ErrAuth, resp.ErrNoAuth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := conn.Dial(context.Background(), s.Addr(), tc.opts)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer c.Close()
				if v := mustDo(t, c, "PING"); v.Str != "PONG" {
					t.Fatalf("PING = %v", v)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded, want an auth error")
			}
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, tc.wantReply) {
				t.Fatalf("err = %v; want %v and %v", err, tc.wantErr, tc.wantReply)
			}
		})
	}
}

func TestPushMessagesDoNotDisturbReplies(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	pushes := make(chan resp.Value, 10)
	c := dial(t, s, conn.Options{OnPush: func(v resp.Value) { pushes <- v }})
	mustDo(t, c, "CLIENT", "TRACKING", "ON")
	mustDo(t, c, "SET", "tracked", "1")
	mustDo(t, c, "GET", "tracked")      // now tracked by this connection
	mustDo(t, c, "SET", "tracked", "2") // invalidates: a push to this connection
	got, _ := mustDo(t, c, "GET", "tracked").Text()
	if got != "2" {
		t.Fatalf("GET after an invalidation push = %q, want 2", got)
	}
	select {
	case p := <-pushes:
		if kind, _ := p.Elems[0].Text(); kind != "invalidate" {
			t.Fatalf("push = %v, want an invalidate message", p)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no invalidation push delivered")
	}
}

func TestDialRefusedAndCancelled(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	addr := s.Addr()
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Dial(context.Background(), addr, conn.Options{}); err == nil {
		t.Fatal("dial to a killed server succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := conn.Dial(ctx, addr, conn.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("dial with a cancelled context: %v, want Canceled", err)
	}
}

// Large values queued together go out over several writes (a write holds
// about a megabyte of commands): every one of them still arrives whole and
// in order with the small requests between them.
func TestLargeValuesSplitAcrossWrites(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	const n = 24
	value := func(i int) string { return strings.Repeat(strconv.Itoa(i%10), 1<<20) }
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := c.Do(context.Background(), "SET", "big:"+strconv.Itoa(i), value(i)); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := c.Do(context.Background(), "SET", "small:"+strconv.Itoa(i), "x"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range n {
		if got, _ := mustDo(t, c, "GET", "big:"+strconv.Itoa(i)).Text(); got != value(i) {
			t.Fatalf("big:%d holds %d bytes, want the 1 MiB value", i, len(got))
		}
		if got, _ := mustDo(t, c, "GET", "small:"+strconv.Itoa(i)).Text(); got != "x" {
			t.Fatalf("small:%d = %q", i, got)
		}
	}
}
