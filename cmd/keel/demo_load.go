package main

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// demoLoad is closed-loop SET/GET traffic from many goroutines sharing one
// keel.Client, each caller on one key of one shard. Each caller keeps its own
// tallies; they are read only after stop, except lastOK, which the demo polls.
type demoLoad struct {
	callers []*demoCaller
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	began   time.Time
	ended   time.Time
}

type demoCaller struct {
	shard  int
	key    string
	lastOK atomic.Int64 // UnixNano of the latest success

	ok, failed int64
	firstErr   error
	// longestWait is the longest time the caller went without a success (from
	// the start of the load or its previous success); servedAgain is when the
	// success that ended it arrived.
	longestWait time.Duration
	servedAgain time.Time
}

// startDemoLoad starts goroutines callers spread over the shards whose first
// slots are given, in turn.
func startDemoLoad(ctx context.Context, cl *keel.Client, slots []int, goroutines int) *demoLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &demoLoad{cancel: cancel, began: time.Now()}
	for g := range goroutines {
		shard := g % len(slots)
		c := &demoCaller{shard: shard, key: lab.KeyInSlot(slots[shard], "demo:"+strconv.Itoa(g))}
		l.callers = append(l.callers, c)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c.run(ctx, cl, l.began)
		}()
	}
	return l
}

func (c *demoCaller) run(ctx context.Context, cl *keel.Client, began time.Time) {
	prevOK := began
	for i := 0; ; i++ {
		var err error
		if i%2 == 0 {
			err = cl.Set(ctx, c.key, i)
		} else if _, err = cl.Get(ctx, c.key); errors.Is(err, keel.ErrNil) {
			err = nil // a promoted replica may lack the last SET: still an answer
		}
		if ctx.Err() != nil {
			return // the load was stopped: not an outcome
		}
		now := time.Now()
		if err != nil {
			c.failed++
			if c.firstErr == nil {
				c.firstErr = err
			}
			continue
		}
		c.ok++
		if wait := now.Sub(prevOK); wait > c.longestWait {
			c.longestWait, c.servedAgain = wait, now
		}
		prevOK = now
		c.lastOK.Store(now.UnixNano())
	}
}

// waitServed polls until every caller on shard (every caller, for shard -1)
// has had a success after t, for at most within.
func (l *demoLoad) waitServed(ctx context.Context, shard int, t time.Time, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		waiting := 0
		for _, c := range l.callers {
			if (shard < 0 || c.shard == shard) && c.lastOK.Load() <= t.UnixNano() {
				waiting++
			}
		}
		if waiting == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("demo: " + strconv.Itoa(waiting) + " callers not served within " + within.String())
		case <-tick.C:
		}
	}
}

// stop ends the load and waits for every caller to return.
func (l *demoLoad) stop() {
	l.cancel()
	l.wg.Wait()
	l.ended = time.Now()
}

// shardTally sums the callers of the shards for which in returns true.
type shardTally struct {
	callers     int
	ok, failed  int64
	firstErr    error
	longestWait time.Duration
	lastServed  time.Time // the latest servedAgain among the callers
}

func (l *demoLoad) tally(in func(shard int) bool) shardTally {
	var t shardTally
	for _, c := range l.callers {
		if !in(c.shard) {
			continue
		}
		t.callers++
		t.ok += c.ok
		t.failed += c.failed
		if t.firstErr == nil {
			t.firstErr = c.firstErr
		}
		t.longestWait = max(t.longestWait, c.longestWait)
		if c.servedAgain.After(t.lastServed) {
			t.lastServed = c.servedAgain
		}
	}
	return t
}
