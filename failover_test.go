package keel_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// failoverRounds is how many faults each failover test injects; set
// KEEL_FAILOVER_ROUNDS to measure more.
func failoverRounds() int {
	if n, err := strconv.Atoi(os.Getenv("KEEL_FAILOVER_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// counterAudit INCRs one counter per shard and counts what the client said.
type counterAudit struct {
	keys    []string
	acked   []atomic.Int64
	unknown []atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startAudit(cl *keel.Client, slots []int) *counterAudit {
	ctx, cancel := context.WithCancel(context.Background())
	a := &counterAudit{acked: make([]atomic.Int64, len(slots)), unknown: make([]atomic.Int64, len(slots)), cancel: cancel}
	for _, slot := range slots {
		a.keys = append(a.keys, lab.KeyInSlot(slot, "audit"))
	}
	for i, key := range a.keys {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			tick := time.NewTicker(opInterval)
			defer tick.Stop()
			for ctx.Err() == nil {
				<-tick.C
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				_, err := cl.Do(opCtx, "INCR", key)
				cancel()
				switch {
				case err == nil:
					a.acked[i].Add(1)
				case errors.Is(err, keel.ErrUnknownOutcome):
					a.unknown[i].Add(1)
				}
			}
		}()
	}
	return a
}

// check stops the INCRs and compares each counter with what was acknowledged:
// never more than acknowledged plus unknown (no duplicate), and it reports
// acknowledged INCRs lost to asynchronous replication.
func (a *counterAudit) check(t *testing.T, cl *keel.Client) {
	t.Helper()
	a.cancel()
	a.wg.Wait()
	for i, key := range a.keys {
		v, err := cl.Do(context.Background(), "GET", key)
		if err != nil {
			t.Fatalf("audit GET %s: %v", key, err)
		}
		final, _ := v.Int64()
		acked, unknown := a.acked[i].Load(), a.unknown[i].Load()
		t.Logf("INCR audit shard %d: counter %d, acknowledged %d, unknown outcome %d, lost %d", i, final, acked, unknown, max(acked-final, 0))
		if final > acked+unknown {
			t.Errorf("shard %d: counter %d > acknowledged %d + unknown %d: an INCR ran twice", i, final, acked, unknown)
		}
	}
}

type fault string

const (
	faultKill  fault = "kill"
	faultPause fault = "pause"
)

func TestKilledPrimaryRecovery(t *testing.T) {
	testutil.SkipIfShort(t)
	measureFailover(t, faultKill, 1*time.Second)
}

func TestPausedPrimaryRecovery(t *testing.T) {
	testutil.SkipIfShort(t)
	measureFailover(t, faultPause, 1*time.Second)
}

// measureFailover breaks shard 0's primary under load, round after round, and
// checks that keel serves the shard again soon after the cluster does, while
// the other shards never see an error.
func measureFailover(t *testing.T, f fault, bound time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	w, err := c.Watch(ctx, lab.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var suspects, changes atomic.Int64
	cl := newClient(t, c, keel.Options{OnEvent: func(ev keel.Event) {
		switch ev.Kind {
		case keel.EventNodeSuspect:
			suspects.Add(1)
		case keel.EventTopologyChanged:
			if ev.Cause != "discovery" {
				changes.Add(1)
			}
		}
	}})
	slots, _ := shardSlots(t, c)
	l := startLoad(cl, slots)
	defer l.stop()
	var audit *counterAudit
	if f == faultKill {
		audit = startAudit(cl, slots)
	}
	for shard := range slots {
		waitSucceeds(t, l, shard, time.Now(), 10*time.Second)
	}

	var lags []time.Duration
	for round := range failoverRounds() {
		primary, err := c.PrimaryFor(ctx, slots[0])
		if err != nil {
			t.Fatal(err)
		}
		var step lab.Step
		if f == faultKill {
			step, err = c.Kill(primary)
		} else {
			step, err = c.Pause(primary)
		}
		if err != nil {
			t.Fatal(err)
		}
		served, by, err := w.WaitServed(ctx, slots[0], step.Began)
		if err != nil {
			t.Fatal(err)
		}
		if f == faultPause {
			if _, err := c.Resume(primary); err != nil {
				t.Fatal(err)
			}
		}
		// Let the load run on the recovered shard before judging it.
		waitSucceeds(t, l, 0, served.Add(300*time.Millisecond), 10*time.Second)
		ops := l.snapshot()
		recovered, ok := recoveredAt(ops, 0, step.Began)
		if !ok {
			t.Fatalf("round %d: shard 0 never recovered", round)
		}
		lag := recovered.Sub(served)
		lags = append(lags, lag)
		t.Logf("round %d (%s %s): cluster served again by %s %v after the fault; keel %+v after that",
			round, f, primary.Addr(), by, served.Sub(step.Began).Round(time.Millisecond), lag.Round(time.Millisecond))
		if lag > bound {
			t.Errorf("round %d: keel recovered %v after the cluster served again; want under %v (target 100ms)", round, lag, bound)
		}
		if bad := errorsOn(ops, []int{1, 2}, step.Began, time.Now()); len(bad) > 0 {
			t.Errorf("round %d: %d operations failed on healthy shards, e.g. %v", round, len(bad), bad[0].err)
		}
		// The broken node rejoins as a replica of the new primary.
		if f == faultKill {
			if _, err := c.Restart(ctx, primary); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.WaitStable(ctx); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(lags)
	t.Logf("%s: keel recovery after the cluster served again over %d rounds: p50 %v, max %v",
		f, len(lags), lags[len(lags)/2].Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond))
	if audit != nil {
		audit.check(t, cl)
	}
	// A killed primary is always suspected; a paused one may not be: while
	// its connection is in doubt (busy or hung?), the replicas' ROLE probes
	// can find the promotion before the hung verdict, which is then moot.
	if (f == faultKill && suspects.Load() == 0) || changes.Load() < int64(len(lags)) {
		t.Errorf("events: %d node-suspect, %d topology changes; want at least one change per round, and suspects after a kill", suspects.Load(), changes.Load())
	}
	t.Logf("events: %d node-suspect, %d topology changes", suspects.Load(), changes.Load())
	s := cl.Stats()
	t.Logf("client stats: %+v", s)
}
