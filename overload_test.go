package keel_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// stormGoroutines and stormRounds size the overload storm: ten thousand
// callers, each with a 1 ms deadline, starve the client process of CPU.
const (
	stormGoroutines = 10_000
	stormRounds     = 20
	stormFor        = 3 * time.Second
	// stormHealthTimeout is short, so that the storm's starvation would
	// outlast it within seconds: the test then fails fast if starvation is
	// taken for a silent server.
	stormHealthTimeout = 200 * time.Millisecond
)

// TestClientOverloadIsNotANodeFailure floods a healthy cluster with callers
// whose deadlines are far too short for the client process to serve them.
// The starvation is the client's own: no node may be suspected, no incident
// entered, and the client must serve normally afterwards.
func TestClientOverloadIsNotANodeFailure(t *testing.T) {
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3})
	var (
		mu       sync.Mutex
		suspects []keel.Event
		incident atomic.Bool
	)
	cl := newClient(t, c, keel.Options{HealthTimeout: stormHealthTimeout, OnEvent: func(ev keel.Event) {
		if ev.Kind == keel.EventNodeSuspect {
			mu.Lock()
			suspects = append(suspects, ev)
			mu.Unlock()
		}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if cl.Stats().IncidentMode {
				incident.Store(true)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var ok, timedOut, other atomic.Int64
	var firstOther atomic.Value
	// One P starves the client's own goroutines the more, and leaves the
	// other core to the servers, whose own slowness is not under test.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	began := time.Now()
	var wg sync.WaitGroup
	for i := range stormGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range stormRounds {
				if time.Since(began) > stormFor {
					return
				}
				gctx, gcancel := context.WithTimeout(ctx, time.Millisecond)
				_, err := cl.Get(gctx, "storm:"+strconv.Itoa(i%512))
				gcancel()
				switch {
				case err == nil || errors.Is(err, keel.ErrNil):
					ok.Add(1)
				case errors.Is(err, context.DeadlineExceeded):
					timedOut.Add(1)
				default:
					other.Add(1)
					firstOther.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	watch.Wait()
	s := cl.Stats()
	t.Logf("storm: %d rounds × %d callers in %v: %d ok, %d deadline, %d other (%v); stats %+v",
		stormRounds, stormGoroutines, time.Since(began).Round(time.Millisecond), ok.Load(), timedOut.Load(), other.Load(), firstOther.Load(), s)
	mu.Lock()
	for _, ev := range suspects {
		t.Errorf("node-suspect during the storm: %s: %v", ev.Node, ev.Err)
	}
	mu.Unlock()
	if s.SuspectNodes != 0 {
		t.Errorf("SuspectNodes = %d after the storm; want 0", s.SuspectNodes)
	}
	if incident.Load() {
		t.Error("the client entered incident mode during the storm")
	}
	if s.DialFailures != 0 {
		t.Errorf("DialFailures = %d; want 0", s.DialFailures)
	}
	for i := range 100 {
		k := "after:" + strconv.Itoa(i)
		if err := cl.Set(ctx, k, "v"); err != nil {
			t.Fatalf("SET after the storm: %v", err)
		}
	}
}
