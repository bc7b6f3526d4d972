package keel_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// opRecord is one operation of a test load.
type opRecord struct {
	shard      int
	start, end time.Time
	err        error
}

// load drives SET/GET pairs at a steady pace on keys of every shard, each
// operation with its own deadline, and records every outcome.
type load struct {
	timeout time.Duration
	mu      sync.Mutex
	ops     []opRecord
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

const (
	workersPerShard = 4
	opInterval      = 2 * time.Millisecond
	opTimeout       = 500 * time.Millisecond
)

// startLoad starts the workers with opTimeout per operation; slots[i] is a
// slot served by shard i.
func startLoad(cl *keel.Client, slots []int) *load {
	return startLoadWithTimeout(cl, slots, opTimeout)
}

func startLoadWithTimeout(cl *keel.Client, slots []int, timeout time.Duration) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, timeout: timeout}
	for shard, slot := range slots {
		for w := range workersPerShard {
			key := lab.KeyInSlot(slot, fmt.Sprintf("load:%d", w))
			l.wg.Add(1)
			go l.work(ctx, cl, shard, key)
		}
	}
	return l
}

func (l *load) work(ctx context.Context, cl *keel.Client, shard int, key string) {
	defer l.wg.Done()
	tick := time.NewTicker(opInterval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		opCtx, cancel := context.WithTimeout(ctx, l.timeout)
		start := time.Now()
		var err error
		if i%2 == 0 {
			_, err = cl.Do(opCtx, "SET", key, strconv.Itoa(i))
		} else {
			_, err = cl.Do(opCtx, "GET", key)
		}
		cancel()
		if ctx.Err() != nil {
			return // the load was stopped: not an outcome
		}
		l.mu.Lock()
		l.ops = append(l.ops, opRecord{shard: shard, start: start, end: time.Now(), err: err})
		l.mu.Unlock()
	}
}

// snapshot returns the operations recorded so far.
func (l *load) snapshot() []opRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops)
}

// stop ends the load and returns every recorded operation.
func (l *load) stop() []opRecord {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops)
}

// recoveredAt returns when shard recovered after since: the end of its first
// successful operation after which no newly started operation failed.
func recoveredAt(ops []opRecord, shard int, since time.Time) (time.Time, bool) {
	lastBadStart := since
	for _, op := range ops {
		if op.shard == shard && op.err != nil && op.start.After(lastBadStart) {
			lastBadStart = op.start
		}
	}
	var first time.Time
	for _, op := range ops {
		if op.shard == shard && op.err == nil && !op.end.Before(lastBadStart) && (first.IsZero() || op.end.Before(first)) {
			first = op.end
		}
	}
	return first, !first.IsZero()
}

// errorsOn returns the failed operations on the given shards between from and to.
func errorsOn(ops []opRecord, shards []int, from, to time.Time) []opRecord {
	var out []opRecord
	for _, op := range ops {
		if op.err != nil && slices.Contains(shards, op.shard) && !op.end.Before(from) && !op.start.After(to) {
			out = append(out, op)
		}
	}
	return out
}

// shardSlots returns one slot of each shard, in shard order, and the shards'
// primaries.
func shardSlots(t *testing.T, c *lab.Cluster) ([]int, []*lab.Node) {
	t.Helper()
	top, err := c.Topology(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var slots []int
	var primaries []*lab.Node
	for _, sh := range top.Shards {
		slots = append(slots, sh.Slots[0].Start)
		primaries = append(primaries, sh.Primary)
	}
	return slots, primaries
}

// waitSucceeds polls until the shard has a successful operation after t0.
func waitSucceeds(t *testing.T, l *load, shard int, t0 time.Time, within time.Duration) {
	t.Helper()
	testutil.WaitFor(t, within, fmt.Sprintf("shard %d has a success", shard), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return slices.ContainsFunc(l.ops, func(op opRecord) bool {
			return op.shard == shard && op.err == nil && op.start.After(t0)
		})
	})
}
