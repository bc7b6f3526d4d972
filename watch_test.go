package keel_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keel-go/keel"
)

// incrWithWatch adds one to key by reading it, then writing the value plus
// one in a transaction that runs only if key did not change meanwhile.
func incrWithWatch(ctx context.Context, cl *keel.Client, key string, runs *atomic.Int64) error {
	return cl.Watch(ctx, func(w *keel.Watch) error {
		runs.Add(1)
		v, err := keel.Run(ctx, w, keel.Get(key))
		if err != nil && !errors.Is(err, keel.ErrNil) {
			return err
		}
		n, _ := strconv.Atoi(v)
		tx := w.Tx()
		keel.Queue(tx, keel.Set(key, n+1))
		_, err = tx.Exec(ctx)
		return err
	}, key)
}

// N goroutines incrementing one counter with WATCH, GET and SET end at
// exactly N: a transaction whose read went stale fails with
// ErrWatchChanged and Watch runs the function again.
func TestWatchCounterUnderContention(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{WatchAttempts: 1000})
	ctx := context.Background()
	const n = 12
	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := incrWithWatch(ctx, cl, "{w1}counter", &runs); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, err := cl.Get(ctx, "{w1}counter"); err != nil || got != strconv.Itoa(n) {
		t.Fatalf("counter = %q, %v; want %d", got, err, n)
	}
	t.Logf("%d increments took %d runs of the function", n, runs.Load())
}

// A watched key changed by someone else makes the transaction fail with
// ErrWatchChanged, and Watch gives up after WatchAttempts runs.
func TestWatchChangedGivesUpAfterAttempts(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{WatchAttempts: 3})
	ctx := context.Background()
	runs := 0
	err := cl.Watch(ctx, func(w *keel.Watch) error {
		runs++
		if _, err := cl.Incr(ctx, "{w2}k"); err != nil { // another connection changes the key
			return err
		}
		tx := w.Tx()
		tx.Do("SET", "{w2}mine", runs)
		_, err := tx.Exec(ctx)
		return err
	}, "{w2}k")
	if !errors.Is(err, keel.ErrWatchChanged) || runs != 3 {
		t.Fatalf("err = %v after %d runs; want ErrWatchChanged after 3", err, runs)
	}
	if n, _ := cl.Exists(ctx, "{w2}mine"); n != 0 {
		t.Fatal("a transaction ran although its watched key changed")
	}
}

// fn's own error aborts the watch and is returned as it is, once; the
// connection goes back without its WATCH, so the next watch on it is not
// failed by a key the first one watched.
func TestWatchFunctionErrorLeavesNothingBehind(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	mine := errors.New("mine")
	runs := 0
	err := cl.Watch(ctx, func(w *keel.Watch) error {
		runs++
		if _, err := w.Do(ctx, "GET", "{w3}a"); err != nil && !errors.Is(err, keel.ErrNil) {
			return err
		}
		return mine
	}, "{w3}a")
	if !errors.Is(err, mine) || runs != 1 {
		t.Fatalf("err = %v after %d runs; want mine after 1", err, runs)
	}
	// {w3}a changes; a watch of {w3}b on the same pooled connection must
	// still commit (it would not if {w3}a were still watched).
	if _, err := cl.Incr(ctx, "{w3}a"); err != nil {
		t.Fatal(err)
	}
	runs = 0
	err = cl.Watch(ctx, func(w *keel.Watch) error {
		runs++
		_, err := w.Tx().Do("SET", "{w3}b", "done").Exec(ctx)
		return err
	}, "{w3}b")
	if err != nil || runs != 1 {
		t.Fatalf("err = %v after %d runs; want success at once", err, runs)
	}
}

// Commands on a Watch keep to its slot, and transaction framing commands
// are refused; neither breaks the watch.
func TestWatchRefusesOtherSlotsAndFraming(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	err := cl.Watch(ctx, func(w *keel.Watch) error {
		if _, err := w.Do(ctx, "GET", "{elsewhere}k"); !errors.Is(err, keel.ErrCrossSlot) {
			t.Errorf("GET in another slot: err = %v, want ErrCrossSlot", err)
		}
		if _, err := w.Do(ctx, "MULTI"); !errors.Is(err, keel.ErrArgument) {
			t.Errorf("MULTI: err = %v, want ErrArgument", err)
		}
		if _, err := w.Tx().Do("SET", "{elsewhere}k", 1).Exec(ctx); !errors.Is(err, keel.ErrCrossSlot) {
			t.Errorf("Tx in another slot: err = %v, want ErrCrossSlot", err)
		}
		if _, err := w.Do(ctx, "PING"); err != nil { // keyless: allowed
			return err
		}
		_, err := w.Tx().Do("SET", "{w4}k", 1).Exec(ctx)
		return err
	}, "{w4}k")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := cl.Exists(ctx, "{elsewhere}k"); n != 0 {
		t.Fatal("a command in another slot ran")
	}
}

// Bad arguments fail at once.
func TestWatchBadInput(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	ok := func(*keel.Watch) error { return nil }
	if err := cl.Watch(ctx, ok); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("no keys: err = %v, want ErrArgument", err)
	}
	if err := cl.Watch(ctx, nil, "k"); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("nil fn: err = %v, want ErrArgument", err)
	}
	if err := cl.Watch(ctx, ok, "{a}k", "{b}k"); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("keys in two slots: err = %v, want ErrCrossSlot", err)
	}
}

// A Watch used after its function returned fails instead of sending.
func TestWatchUsedAfterItEnded(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	var kept *keel.Watch
	if err := cl.Watch(ctx, func(w *keel.Watch) error { kept = w; return nil }, "{w5}k"); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Do(ctx, "SET", "{w5}k", 1); !errors.Is(err, keel.ErrWatchOver) {
		t.Fatalf("a command on an ended Watch: %v, want ErrWatchOver", err)
	}
}

// A watch's connection goes back to a pool: nothing may change its state,
// and a second transaction, which EXEC left unguarded, is refused.
func TestWatchKeepsItsConnectionClean(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	err := cl.Watch(ctx, func(w *keel.Watch) error {
		for _, args := range [][]any{{"CLIENT", "SETNAME", "x"}, {"HELLO", 2}, {"AUTH", "x"}, {"CLIENT", "TRACKING", "on"}} {
			if _, err := w.Do(ctx, args...); !errors.Is(err, keel.ErrConnState) {
				t.Errorf("Watch.Do%v: %v, want ErrConnState", args, err)
			}
		}
		if _, err := w.Tx().Do("SET", "{w6}k", 1).Exec(ctx); err != nil {
			return err
		}
		if _, err := w.Tx().Do("SET", "{w6}k", 2).Exec(ctx); !errors.Is(err, keel.ErrWatchOver) {
			t.Errorf("a second transaction on one watch: %v, want ErrWatchOver", err)
		}
		return nil
	}, "{w6}k")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := cl.Get(ctx, "{w6}k"); err != nil || v != "1" {
		t.Errorf("GET = %q, %v; want the first transaction's 1", v, err)
	}
}
