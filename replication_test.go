package keel_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// writers appends to one list per writer, each value once, until stop is
// closed, and records what was acknowledged and every error.
type writers struct {
	acked [][]string
	ackAt [][]time.Time // when each acknowledgement arrived
	mu    sync.Mutex
	errs  []error
	errAt []time.Time // when each error was returned
	wrote atomic.Int64
	// slowest is the longest a write took to be acknowledged, in ns.
	slowest atomic.Int64
	done    chan struct{} // closed when every writer has returned
}

func runWriters(ctx context.Context, c *keel.Client, n int, stop <-chan struct{}) *writers {
	w := &writers{acked: make([][]string, n), ackAt: make([][]time.Time, n), done: make(chan struct{})}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("log:%d", i)
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				v := strconv.Itoa(seq)
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				began := time.Now()
				_, err := c.Do(cctx, "RPUSH", key, v)
				cancel()
				for took := int64(time.Since(began)); err == nil; {
					if s := w.slowest.Load(); took <= s || w.slowest.CompareAndSwap(s, took) {
						break
					}
				}
				if err != nil {
					w.mu.Lock()
					w.errs = append(w.errs, err)
					w.errAt = append(w.errAt, time.Now())
					w.mu.Unlock()
					continue
				}
				w.acked[i] = append(w.acked[i], v)
				w.ackAt[i] = append(w.ackAt[i], time.Now())
				w.wrote.Add(1)
			}
		}()
	}
	go func() { wg.Wait(); close(w.done) }()
	return w
}

// writeThrough runs writers through fault, until they have written a
// hundred values more after it, and checks that c found newPrimary.
func writeThrough(ctx context.Context, t *testing.T, c *keel.Client, newPrimary *lab.Server, fault func() (lab.Step, error)) (*writers, lab.Step) {
	t.Helper()
	stop := make(chan struct{})
	w := runWriters(ctx, c, 4, stop)
	defer func() { close(stop); <-w.done }()
	waitFor(t, "writes before the fault", func() bool { return w.wrote.Load() > 100 })
	step, err := fault()
	if err != nil {
		t.Fatal(err)
	}
	after := w.wrote.Load()
	waitFor(t, "writes after the fault", func() bool { return w.wrote.Load() > after+100 })
	if got := c.Primaries(); len(got) != 1 || got[0].Addr() != newPrimary.Addr() {
		t.Fatalf("Primaries after the fault = %v, want %s", got, newPrimary.Addr())
	}
	return w, step
}

// replicationGroup starts a group of a primary and n replicas, and a client
// of its primary endpoint.
func replicationGroup(t *testing.T, n int) (*lab.ReplicationGroup, *keel.Client) {
	t.Helper()
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{Replicas: n})
	// Failover pauses writes on the old primary for a little longer than
	// its repointing delay (more on a loaded machine): a health timeout
	// above that keeps the writes waiting there from being taken for a
	// hung node's, whose outcome would be unknown.
	c := newClient(t, nil, keel.Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(),
		Mode: keel.ModeReplication, HealthTimeout: 5 * time.Second})
	return g, c
}

func TestReplicationFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, c := replicationGroup(t, 2)
	if got := c.Primaries(); len(got) != 1 || got[0].Addr() != g.Primary().Addr() {
		t.Fatalf("Primaries = %v, want %s", got, g.Primary().Addr())
	}
	if got := len(c.Replicas()); got != 2 {
		t.Fatalf("%d replicas known, want 2", got)
	}

	newPrimary := g.Replicas()[0]
	w, step := writeThrough(ctx, t, c, newPrimary, func() (lab.Step, error) {
		return g.Failover(ctx, newPrimary, 200*time.Millisecond)
	})

	for _, err := range w.errs {
		if errors.Is(err, resp.ErrReadOnly) {
			t.Errorf("READONLY surfaced: %v", err)
		}
	}
	if len(w.errs) > 0 {
		t.Fatalf("%d writes failed, first: %v", len(w.errs), w.errs[0])
	}
	// Every acknowledged write is on the new primary, once, in order.
	for i, want := range w.acked {
		v, err := c.Do(ctx, "LRANGE", fmt.Sprintf("log:%d", i), 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := v.Strings()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("log:%d holds %d values, %d acknowledged (lost or duplicated)", i, len(got), len(want))
		}
	}
	if c.Stats().Retries == 0 {
		t.Fatal("no write was retried: the failover went unseen")
	}
	t.Logf("%d writes, %d refreshes, %d retries; slowest write %v (the old primary paused writes for %v)",
		w.wrote.Load(), c.Stats().Refreshes, c.Stats().Retries, time.Duration(w.slowest.Load()), step.Done.Sub(step.Began))
}

func TestReplicationPrimaryKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, c := replicationGroup(t, 2)

	newPrimary := g.Replicas()[1]
	w, step := writeThrough(ctx, t, c, newPrimary, func() (lab.Step, error) {
		return g.KillPrimary(ctx, newPrimary, time.Second)
	})
	// The promoted replica is found among the known nodes before the name
	// is repointed: writes are acknowledged between the kill (and the
	// replies already on their way) and the repointing.
	found := false
	var longest time.Duration // the longest wait of a writer between two acknowledgements
	for _, times := range w.ackAt {
		for j, at := range times {
			found = found || at.After(step.Began.Add(50*time.Millisecond)) && at.Before(step.Done)
			if j > 0 {
				longest = max(longest, at.Sub(times[j-1]))
			}
		}
	}
	if !found {
		t.Fatalf("no write acknowledged between the kill and the repointing %v later", step.Took())
	}

	// Writes in flight when the primary died may have run: they fail with
	// ErrUnknownOutcome (RPUSH is not idempotent). Nothing fails once the
	// name points at the new primary, and READONLY never surfaces.
	for i, err := range w.errs {
		switch {
		case errors.Is(err, resp.ErrReadOnly):
			t.Errorf("READONLY surfaced: %v", err)
		case w.errAt[i].After(step.Done):
			t.Errorf("a write failed %v after the name was repointed: %v", w.errAt[i].Sub(step.Done), err)
		case !errors.Is(err, keel.ErrUnknownOutcome):
			t.Errorf("a write failed during the failover with %v, want ErrUnknownOutcome", err)
		}
	}
	t.Logf("%d writes, %d unknown outcomes, %d refreshes, %d retries; longest wait between acknowledgements %v",
		w.wrote.Load(), len(w.errs), c.Stats().Refreshes, c.Stats().Retries, longest)
}

// TestReplicationFollowsTheName: with no write to be refused, the periodic
// refresh finds the name repointed and the node behind it a master.
func TestReplicationFollowsTheName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{Replicas: 1})
	c := newClient(t, nil, keel.Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(),
		RefreshInterval: 50 * time.Millisecond})
	newPrimary := g.Replicas()[0]
	if _, err := g.Failover(ctx, newPrimary, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new primary", func() bool {
		p := c.Primaries()
		return len(p) == 1 && p[0].Addr() == newPrimary.Addr()
	})
	if s := c.Stats(); s.Retries != 0 || s.Errors != 0 {
		t.Fatalf("%d retries, %d errors: want none, nothing was sent", s.Retries, s.Errors)
	}
}
