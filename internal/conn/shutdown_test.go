package conn_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// WAIT 1 <ms> holds the connection's replies for that long on a server
// without replicas, which keeps a request in flight for a known time.

func TestShutdownLetsInFlightFinish(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	var closes atomic.Int32
	c := dial(t, s, conn.Options{OnClose: func(error) { closes.Add(1) }})
	result := make(chan error, 1)
	go func() {
		v, err := c.Do(context.Background(), "WAIT", "1", "200")
		if err == nil && v.Int != 0 {
			err = errors.New("WAIT answered an unexpected count")
		}
		result <- err
	}()
	waitInFlight(t, s)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-result; err != nil {
		t.Fatalf("in-flight request during Shutdown: %v", err)
	}
	if _, err := c.Do(context.Background(), "PING"); !errors.Is(err, conn.ErrClosed) || conn.MayHaveRun(err) {
		t.Fatalf("Do after Shutdown = %v; want ErrClosed, not sent", err)
	}
	if n := closes.Load(); n != 1 {
		t.Fatalf("OnClose called %d times, want 1", n)
	}
}

func TestShutdownCutsOffAtDeadline(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	result := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), "WAIT", "1", "5000")
		result <- err
	}()
	waitInFlight(t, s)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if err := <-result; !errors.Is(err, conn.ErrClosed) || !conn.MayHaveRun(err) {
		t.Fatalf("cut-off request: %v; want ErrClosed, sent", err)
	}
}

// waitInFlight polls the server until a client is blocked in WAIT.
func waitInFlight(t *testing.T, s *lab.Server) {
	t.Helper()
	probe := dial(t, s, conn.Options{})
	testutil.WaitFor(t, 5*time.Second, "a request is blocked on the server", func() bool {
		v, err := probe.Do(context.Background(), "INFO", "clients")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := v.Text()
		return !strings.Contains(text, "blocked_clients:0")
	})
}
