package keel_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// busyCluster starts a cluster whose nodes accept DEBUG, with a node timeout
// long enough that the cluster itself does not fail a busy primary over.
func busyCluster(t *testing.T) *lab.Cluster {
	return lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, NodeTimeout: 5 * time.Second,
		Args: []string{"--enable-debug-command", "yes"}})
}

// rwOp is one operation of a readWriteLoad.
type rwOp struct {
	write      bool
	start, end time.Time
	err        error
}

// readWriteLoad runs, on keys of one slot, writers doing INCR (which keel
// never retries once sent: a cut connection shows as ErrUnknownOutcome) and
// readers doing GET, each operation with its own deadline, and records them all.
type readWriteLoad struct {
	mu     sync.Mutex
	ops    []rwOp
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startReadWriteLoad(cl *keel.Client, slot int, writeTimeout, readTimeout time.Duration) *readWriteLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &readWriteLoad{cancel: cancel}
	for w := range 8 {
		write := w%2 == 0
		key := lab.KeyInSlot(slot, fmt.Sprintf("busy:%d", w/2))
		timeout := readTimeout
		if write {
			timeout = writeTimeout
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				opCtx, opCancel := context.WithTimeout(ctx, timeout)
				start := time.Now()
				var err error
				if write {
					_, err = cl.Do(opCtx, "INCR", key)
				} else {
					_, err = cl.Do(opCtx, "GET", key)
				}
				opCancel()
				if ctx.Err() != nil {
					return
				}
				l.mu.Lock()
				l.ops = append(l.ops, rwOp{write: write, start: start, end: time.Now(), err: err})
				l.mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *readWriteLoad) stop() []rwOp {
	l.cancel()
	l.wg.Wait()
	return l.ops
}

// suspectCounter counts EventNodeSuspect.
func suspectCounter() (*atomic.Int64, func(keel.Event)) {
	var n atomic.Int64
	return &n, func(ev keel.Event) {
		if ev.Kind == keel.EventNodeSuspect {
			n.Add(1)
		}
	}
}

// busyPrimaryUnderLoad starts a busyCluster, a client counting suspect
// events, and a readWriteLoad (5 s write deadlines, readTimeout for reads)
// on a slot of the primary it returns, once the load runs.
func busyPrimaryUnderLoad(t *testing.T, readTimeout time.Duration) (*keel.Client, *keel.Node, *atomic.Int64, *readWriteLoad) {
	c := busyCluster(t)
	suspects, onEvent := suspectCounter()
	cl := newClient(t, c, keel.Options{OnEvent: onEvent})
	slots, primaries := shardSlots(t, c)
	node, err := cl.Node(primaries[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	l := startReadWriteLoad(cl, slots[0], 5*time.Second, readTimeout)
	t.Cleanup(func() { l.stop() })
	testutil.WaitFor(t, 5*time.Second, "the load runs", func() bool { return cl.Stats().Requests > 100 })
	return cl, node, suspects, l
}

// A primary busy for 1.5 s with one slow command (over the 1 s health
// timeout) answers the probe keel sends on a second connection once the
// sleep is over: no request fails, the node is never suspected.
func TestBusyPrimaryIsNotHung(t *testing.T) {
	testutil.SkipIfShort(t)
	cl, node, suspects, l := busyPrimaryUnderLoad(t, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	if _, err := node.Do(ctx, "DEBUG", "SLEEP", "1.5"); err != nil {
		t.Fatalf("DEBUG SLEEP 1.5: %v", err)
	}
	slept := time.Since(began)
	after := cl.Stats().Requests
	testutil.WaitFor(t, 5*time.Second, "the load runs after the sleep", func() bool { return cl.Stats().Requests > after+100 })
	ops := l.stop()

	failed := 0
	var first error
	for _, op := range ops {
		if op.err != nil {
			if failed++; first == nil {
				first = op.err
			}
		}
	}
	s := cl.Stats()
	t.Logf("DEBUG SLEEP 1.5 returned after %v; %d operations, %d failed; %d suspect events; stats %+v",
		slept, len(ops), failed, suspects.Load(), s)
	if slept < 1400*time.Millisecond {
		t.Fatalf("DEBUG SLEEP returned after %v: the node did not sleep", slept)
	}
	if failed > 0 {
		t.Errorf("%d operations failed on a busy primary, e.g. %v; want 0", failed, first)
	}
	if suspects.Load() > 0 || s.SuspectNodes > 0 {
		t.Errorf("%d suspect events, %d suspect nodes; want none for a busy node", suspects.Load(), s.SuspectNodes)
	}
	if s.BusyWaits == 0 {
		t.Errorf("Stats.BusyWaits = 0: no probe found the node busy")
	}
}

// CLIENT PAUSE WRITE (what a manual failover does) for 1.5 s: reads with 1 s
// deadlines are served during the pause (around the held writes, on a second
// connection), the writes complete after it, nothing fails, the node is
// never suspected.
func TestWritePausedPrimaryIsNotHung(t *testing.T) {
	testutil.SkipIfShort(t)
	cl, node, suspects, l := busyPrimaryUnderLoad(t, time.Second)

	const pause = 1500 * time.Millisecond
	paused := time.Now()
	if _, err := node.Do(context.Background(), "CLIENT", "PAUSE", pause.Milliseconds(), "WRITE"); err != nil {
		t.Fatal(err)
	}
	resumed := paused.Add(pause)
	testutil.WaitFor(t, 10*time.Second, "writes after the pause", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		n := 0
		for _, op := range l.ops {
			if op.write && op.err == nil && op.start.After(resumed) {
				n++
			}
		}
		return n >= 20
	})
	ops := l.stop()

	var failed, heldWrites, readsDuring int
	var first error
	for _, op := range ops {
		during := op.start.After(paused) && op.end.Before(resumed)
		switch {
		case op.err != nil:
			if failed++; first == nil {
				first = op.err
			}
		case op.write && op.start.After(paused) && op.start.Before(resumed) && op.end.After(resumed):
			heldWrites++
		case !op.write && during:
			readsDuring++
		}
	}
	s := cl.Stats()
	t.Logf("CLIENT PAUSE %v WRITE: %d operations, %d failed, %d writes held through the pause, %d reads served during it; %d suspect events; stats %+v",
		pause, len(ops), failed, heldWrites, readsDuring, suspects.Load(), s)
	if heldWrites == 0 {
		t.Fatal("no write was held by the pause")
	}
	if readsDuring < 100 || s.DivertedReads == 0 {
		t.Errorf("%d reads served during the pause, %d diverted; want reads to keep flowing around the held writes", readsDuring, s.DivertedReads)
	}
	if failed > 0 {
		t.Errorf("%d operations failed on a write-paused primary, e.g. %v; want 0", failed, first)
	}
	if suspects.Load() > 0 || s.SuspectNodes > 0 {
		t.Errorf("%d suspect events, %d suspect nodes; want none for a paused node", suspects.Load(), s.SuspectNodes)
	}
}
