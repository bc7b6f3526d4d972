package keel_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
)

// Shutdown with 10,000 requests in flight while refreshes run back to back:
// it returns within its context, every request ends with its reply or
// ErrClosed, and nothing is left running (TestMain checks for goroutines).
func TestShutdownUnderLoadAndRefresh(t *testing.T) {
	c := sharedCluster(t)
	cl, err := keel.New(context.Background(), keel.Options{Seeds: c.Addrs()[:1], RefreshInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const callers = 10000
	var wg sync.WaitGroup
	var ok, closed atomic.Int64
	started := make(chan struct{})
	var startOnce sync.Once
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "shutdown:" + string(rune('a'+i%26))
			for {
				_, err := cl.Do(context.Background(), "INCR", key)
				switch {
				case err == nil:
					ok.Add(1)
					if ok.Load() > callers {
						startOnce.Do(func() { close(started) })
					}
					continue
				case errors.Is(err, keel.ErrClosed), errors.Is(err, keel.ErrUnknownOutcome):
					closed.Add(1)
				default:
					t.Errorf("request during shutdown: %v", err)
				}
				return
			}
		}()
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	err = cl.Shutdown(ctx)
	took := time.Since(began)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	t.Logf("Shutdown with %d callers took %v (%d replies, %d ended by the shutdown)", callers, took, ok.Load(), closed.Load())
	if took > 6*time.Second {
		t.Errorf("Shutdown took %v, beyond its 5s context", took)
	}
	if closed.Load() != callers {
		t.Errorf("%d callers ended by the shutdown, want all %d", closed.Load(), callers)
	}
	if _, err := cl.Do(context.Background(), "PING"); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("Do after Shutdown = %v, want ErrClosed", err)
	}
	if err := cl.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
}

// Many create / fault / shutdown cycles, with Close racing the client's own
// reconnects and refreshes, leak nothing and never hang.
func TestCreateFaultShutdownCycles(t *testing.T) {
	c := sharedCluster(t)
	for i := range 100 {
		cl, err := keel.New(context.Background(), keel.Options{Seeds: c.Addrs()[:1]})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := cl.Do(ctx, "SET", "cycle", "x"); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		// The fault: the server drops every client connection, so keel's
		// reconnects and an adaptive refresh are under way as it closes.
		primaries := cl.Primaries()
		_, _ = primaries[i%len(primaries)].Do(ctx, "CLIENT", "KILL", "TYPE", "normal")
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = cl.Do(ctx, "GET", "cycle")
			}()
		}
		if err := cl.Shutdown(ctx); err != nil {
			t.Fatalf("cycle %d: Shutdown: %v", i, err)
		}
		wg.Wait()
		cancel()
	}
}

func TestCloseIsIdempotentAndConcurrent(t *testing.T) {
	c := sharedCluster(t)
	cl, err := keel.New(context.Background(), keel.Options{Seeds: c.Addrs()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cl.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
	}
	wg.Wait()
	if _, err := cl.Get(context.Background(), "x"); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
}

func TestNewFailsClearlyWithoutCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := keel.New(ctx, keel.Options{Seeds: []string{"127.0.0.1:1"}})
	if !errors.Is(err, keel.ErrNoNode) {
		t.Fatalf("New with no reachable seed = %v, want ErrNoNode", err)
	}
	if _, err := keel.New(ctx, keel.Options{}); err == nil {
		t.Fatal("New without seeds succeeded")
	}
}
