package conn_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// debugServer starts a lab server that accepts DEBUG (Redis 7 refuses it by
// default).
func debugServer(t *testing.T) *lab.Server {
	return lab.StartServerT(t, lab.ServerOptions{Args: []string{"--enable-debug-command", "yes"}})
}

// loadDuring runs n callers doing cmd (with key i) with deadline each until
// stop is closed, and returns how many calls failed and the first error.
func loadDuring(c *conn.Conn, n int, deadline time.Duration, stop <-chan struct{}, cmd func(i int) []string) func() (ok, failed int64, first error) {
	var (
		wg          sync.WaitGroup
		okN, failN  atomic.Int64
		mu          sync.Mutex
		firstFailed error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				_, err := c.Do(ctx, cmd(i)...)
				cancel()
				if err != nil {
					failN.Add(1)
					mu.Lock()
					if firstFailed == nil {
						firstFailed = err
					}
					mu.Unlock()
					continue
				}
				okN.Add(1)
			}
		}()
	}
	return func() (int64, int64, error) {
		wg.Wait()
		return okN.Load(), failN.Load(), firstFailed
	}
}

// A server that sleeps through one command for longer than the health
// timeout, but answers a probe before a second health timeout is over, is
// busy, not hung: the connection stays and every caller gets its reply.
func TestBusyServerDebugSleepKeepsConnection(t *testing.T) {
	s := debugServer(t)
	var busy atomic.Int64
	c := dial(t, s, conn.Options{HealthTimeout: time.Second, BusyTimeout: 10 * time.Second, OnBusy: func() { busy.Add(1) }})
	mustDo(t, c, "SET", "k", "v")

	stop := make(chan struct{})
	wait := loadDuring(c, 8, 5*time.Second, stop, func(i int) []string {
		if i%2 == 0 {
			return []string{"GET", "k"}
		}
		return []string{"INCR", "n" + strconv.Itoa(i)}
	})
	began := time.Now()
	if _, err := c.Do(context.Background(), "DEBUG", "SLEEP", "1.5"); err != nil {
		t.Fatalf("DEBUG SLEEP: %v", err)
	}
	slept := time.Since(began)
	mustDo(t, c, "PING") // replies after the sleep flow again
	close(stop)
	ok, failed, first := wait()
	t.Logf("DEBUG SLEEP 1.5 answered after %v; %d calls ok, %d failed, %d busy verdicts", slept, ok, failed, busy.Load())
	if failed > 0 {
		t.Fatalf("%d calls failed on a busy server, e.g. %v", failed, first)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("connection to a busy server died: %v", err)
	}
	// The probe's own PING may still be on its way back when the load ends.
	testutil.WaitFor(t, 2*time.Second, "a probe finds the server busy", func() bool { return busy.Load() > 0 })
}

// CLIENT PAUSE WRITE holds writes (and, on this one connection, what is
// queued behind them) while the server serves reads, so it answers probes:
// the connection stays and the writes complete after the pause.
func TestWritePauseKeepsConnection(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	admin := dial(t, s, conn.Options{})
	c := dial(t, s, conn.Options{HealthTimeout: 300 * time.Millisecond, BusyTimeout: 10 * time.Second})

	mustDo(t, admin, "CLIENT", "PAUSE", "1000", "WRITE")
	paused := time.Now()
	stop := make(chan struct{})
	wait := loadDuring(c, 8, 5*time.Second, stop, func(i int) []string { return []string{"SET", "w" + strconv.Itoa(i), "x"} })
	// A read on another connection is served during the pause.
	if _, err := admin.Do(context.Background(), "GET", "w0"); err != nil {
		t.Fatalf("read during the pause: %v", err)
	}
	mustDo(t, c, "SET", "last", "x") // queued behind the paused writes
	held := time.Since(paused)
	close(stop)
	ok, failed, first := wait()
	t.Logf("write answered %v after CLIENT PAUSE 1000 WRITE; %d writes ok, %d failed", held, ok, failed)
	if held < 900*time.Millisecond {
		t.Fatalf("the write returned after %v: the pause did not hold it", held)
	}
	if failed > 0 || c.Err() != nil {
		t.Fatalf("%d writes failed (e.g. %v), connection error %v; want none", failed, first, c.Err())
	}
}

// A server that answers probes but never the oldest request is cut loose
// after BusyTimeout, with ErrBusyTimeout.
func TestBusyTimeoutCutsServerHoldingARequest(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	admin := dial(t, s, conn.Options{})
	const busyFor = 800 * time.Millisecond
	c := dial(t, s, conn.Options{HealthTimeout: 200 * time.Millisecond, BusyTimeout: busyFor})
	mustDo(t, admin, "CLIENT", "PAUSE", "10000", "WRITE")
	defer mustDo(t, admin, "CLIENT", "UNPAUSE")

	began := time.Now()
	_, err := c.Do(context.Background(), "SET", "held", "x")
	took := time.Since(began)
	if !errors.Is(err, conn.ErrConnLost) || !errors.Is(err, conn.ErrBusyTimeout) || !conn.MayHaveRun(err) {
		t.Fatalf("err = %v; want ErrConnLost caused by ErrBusyTimeout, sent", err)
	}
	t.Logf("connection cut %v after the write (busy timeout %v)", took, busyFor)
	if took < busyFor || took > busyFor+time.Second {
		t.Fatalf("cut after %v; want the busy timeout %v plus small slack", took, busyFor)
	}
}

// A hung server (SIGSTOP) answers no probe either: it is declared dead with
// ErrHealthTimeout within twice the health timeout.
func TestHungServerDeclaredDeadDespiteProbes(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	const health = 300 * time.Millisecond
	c := dial(t, s, conn.Options{HealthTimeout: health, BusyTimeout: 10 * time.Second})
	mustDo(t, c, "SET", "k", "v")
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Resume() }()
	paused := time.Now()
	_, err := c.Do(context.Background(), "GET", "k")
	detected := time.Since(paused)
	if !errors.Is(err, conn.ErrConnLost) || !errors.Is(err, conn.ErrHealthTimeout) {
		t.Fatalf("err = %v; want ErrConnLost caused by ErrHealthTimeout", err)
	}
	t.Logf("hung server declared dead %v after the pause (health timeout %v, probed)", detected, health)
	if detected > 2*health+400*time.Millisecond {
		t.Fatalf("declared dead after %v; want twice the health timeout %v plus small slack", detected, health)
	}
}

// Reads queued behind a write held by CLIENT PAUSE WRITE are handed back
// (ErrDiverted) long before the pause ends, so they can go on another
// connection, which the server serves; replies stay in step afterwards.
func TestReadsDivertedFromWritePausedConnection(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	admin := dial(t, s, conn.Options{})
	c := dial(t, s, conn.Options{HealthTimeout: 300 * time.Millisecond, BusyTimeout: 10 * time.Second, DivertReadsAfter: 50 * time.Millisecond})
	mustDo(t, admin, "SET", "k", "before")
	const pause = time.Second
	mustDo(t, admin, "CLIENT", "PAUSE", strconv.Itoa(int(pause.Milliseconds())), "WRITE")
	paused := time.Now()

	wrote := make(chan error, 1)
	go func() { _, err := c.Do(context.Background(), "SET", "k", "after"); wrote <- err }()
	testutil.WaitFor(t, time.Second, "the write is in flight", func() bool { return c.InFlight() > 0 })
	var wg sync.WaitGroup
	var diverted atomic.Int64
	for range 5 { // queued behind the write before the stall is noticed
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.DoRead(context.Background(), "GET", "k")
			if !errors.Is(err, conn.ErrDiverted) {
				t.Errorf("read behind a paused write: %v %v; want ErrDiverted", v, err)
				return
			}
			diverted.Add(1)
			// Elsewhere the server serves the read during the pause.
			if got, err := admin.Do(context.Background(), "GET", "k"); err != nil || got.Str != "before" {
				t.Errorf("diverted read on another connection: %v %v", got, err)
			}
		}()
	}
	wg.Wait()
	handedBack := time.Since(paused)
	if !c.Diverting() {
		t.Fatal("not diverting while the write is held")
	}
	if _, err := c.DoRead(context.Background(), "GET", "k"); !errors.Is(err, conn.ErrDiverted) {
		t.Fatalf("new read while diverting: %v; want ErrDiverted at once", err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the paused write: %v", err)
	}
	t.Logf("%d reads handed back %v after the pause began (pause %v); the write answered after %v", diverted.Load(), handedBack, pause, time.Since(paused))
	if handedBack > pause/2 {
		t.Fatalf("reads handed back after %v; want well within the %v pause", handedBack, pause)
	}
	// The stand-ins' replies were dropped: the next reply is the next read's.
	testutil.WaitFor(t, time.Second, "diverting stops", func() bool { return !c.Diverting() })
	for range 3 {
		if v, err := c.DoRead(context.Background(), "GET", "k"); err != nil || v.Str != "after" {
			t.Fatalf("read after the pause: %v %v; want \"after\"", v, err)
		}
	}
}

// probedServer is a scripted server whose first connection answers the
// handshake and then nothing, and whose later connections (probes) answer
// every command with probeReply, or nothing when it is empty. It counts the
// probe connections.
func probedServer(t *testing.T, probeReply string) (addr string, probes *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	probes = new(atomic.Int64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, nc := range conns {
			_ = nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for first := true; ; first = false {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			if !first {
				probes.Add(1)
			}
			wg.Add(1)
			go func(first bool) {
				defer wg.Done()
				rd := resp.NewReader(nc, resp.Limits{})
				for n := 0; ; n++ {
					if _, err := rd.Read(); err != nil {
						return
					}
					switch {
					case first && n == 0:
						_, _ = io.WriteString(nc, helloOK)
					case !first && probeReply != "":
						_, _ = io.WriteString(nc, probeReply)
					}
				}
			}(first)
		}
	}()
	return ln.Addr().String(), probes
}

// A server that answers probes, even with an error (BUSY, as one running a
// long script does), is busy: the connection is kept until BusyTimeout.
// One that answers no probe is hung: ErrHealthTimeout.
func TestProbeVerdicts(t *testing.T) {
	const health, busyFor = 100 * time.Millisecond, 600 * time.Millisecond
	cases := []struct {
		name, probeReply string
		cause            error
		atLeast          time.Duration
	}{
		{"busy error reply", "-BUSY Redis is busy running a script\r\n", conn.ErrBusyTimeout, busyFor},
		{"PONG", "+PONG\r\n", conn.ErrBusyTimeout, busyFor},
		{"no reply", "", conn.ErrHealthTimeout, 2 * health},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, probes := probedServer(t, tc.probeReply)
			var busy atomic.Int64
			c, err := conn.Dial(context.Background(), addr, conn.Options{HealthTimeout: health, BusyTimeout: busyFor,
				PingInterval: -1, OnBusy: func() { busy.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			began := time.Now()
			_, err = c.Do(context.Background(), "GET", "k")
			took := time.Since(began)
			if !errors.Is(err, tc.cause) {
				t.Fatalf("err = %v; want %v", err, tc.cause)
			}
			t.Logf("cut after %v, %d probes, %d answered", took, probes.Load(), busy.Load())
			if took < tc.atLeast || took > tc.atLeast+time.Second {
				t.Fatalf("cut after %v; want about %v", took, tc.atLeast)
			}
			if answered := tc.probeReply != ""; answered != (busy.Load() > 0) || probes.Load() == 0 {
				t.Fatalf("%d probes, %d answered; want probes, answered: %v", probes.Load(), busy.Load(), answered)
			}
		})
	}
}

// While a probe decides between busy and hung, OnDoubt reports the doubt:
// a busy verdict ends it, and a dead verdict ends it after OnClose, so a
// caller sees the connection fail before the doubt clears.
func TestOnDoubtReportsTheProbe(t *testing.T) {
	const health = 100 * time.Millisecond
	for _, tc := range []struct {
		name, probeReply string
		cause            error
	}{
		{"busy", "+PONG\r\n", conn.ErrBusyTimeout},
		{"hung", "", conn.ErrHealthTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := probedServer(t, tc.probeReply)
			var (
				mu     sync.Mutex
				events []string
			)
			record := func(ev string) {
				mu.Lock()
				events = append(events, ev)
				mu.Unlock()
			}
			c, err := conn.Dial(context.Background(), addr, conn.Options{HealthTimeout: health, BusyTimeout: 6 * health, PingInterval: -1,
				OnDoubt: func(on bool) {
					if on {
						record("doubt")
					} else {
						record("clear")
					}
				},
				OnClose: func(error) { record("close") }})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Do(context.Background(), "GET", "k"); !errors.Is(err, tc.cause) {
				t.Fatalf("err = %v; want %v", err, tc.cause)
			}
			var got []string
			testutil.WaitFor(t, 5*time.Second, "the doubt cleared after the close", func() bool {
				mu.Lock()
				defer mu.Unlock()
				got = slices.Clone(events)
				doubts, clears := 0, 0
				for _, ev := range got {
					switch ev {
					case "doubt":
						doubts++
					case "clear":
						clears++
					}
				}
				return slices.Contains(got, "close") && doubts == clears
			})
			t.Logf("events: %v", got)
			closes := 0
			for i, ev := range got {
				if ev == "close" {
					closes++
					continue
				}
				want := "doubt"
				if prev := slices.DeleteFunc(slices.Clone(got[:i]), func(s string) bool { return s == "close" }); len(prev)%2 == 1 {
					want = "clear"
				}
				if ev != want {
					t.Fatalf("event %d is %q, want %q: %v", i, ev, want, got)
				}
			}
			if closes != 1 || got[0] != "doubt" {
				t.Fatalf("events %v: want a doubt first and one close", got)
			}
			switch tc.name {
			case "busy":
				if got[1] != "clear" || got[2] == "close" {
					t.Fatalf("events %v: want the busy verdict to clear the doubt before the cut", got)
				}
			case "hung":
				if !slices.Equal(got, []string{"doubt", "close", "clear"}) {
					t.Fatalf("events %v: want doubt, close, clear", got)
				}
			}
		})
	}
}
