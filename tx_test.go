package keel_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

// Typed commands queued in a transaction give typed results, and the
// transaction runs as a unit on the keys' node.
func TestTxTypedResults(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	tx := cl.Tx()
	set := keel.Queue(tx, keel.Set("{tx1}a", "v"))
	incr := keel.Queue(tx, keel.Incr("{tx1}n"))
	get := keel.Queue(tx, keel.Get("{tx1}a"))
	tx.Do("PING") // keyless commands may join keyed ones
	results, err := tx.Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 || results[3].Value.Str != "PONG" {
		t.Fatalf("results = %v", results)
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := incr.Result(); err != nil || n != 1 {
		t.Fatalf("INCR = %d, %v; want 1", n, err)
	}
	if v, err := get.Result(); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v; want v", v, err)
	}
	if tx.Len() != 0 {
		t.Fatalf("Len after Exec = %d", tx.Len())
	}
}

// A command failing while the transaction runs fails alone, in its Result.
func TestTxCommandErrorAtRunTime(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	if err := cl.Set(ctx, "{tx2}s", "text"); err != nil {
		t.Fatal(err)
	}
	tx := cl.Tx()
	bad := keel.Queue(tx, keel.Incr("{tx2}s"))
	good := keel.Queue(tx, keel.Incr("{tx2}n"))
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bad.Err(); err == nil {
		t.Fatal("INCR of a string succeeded")
	}
	if n, err := good.Result(); err != nil || n != 1 {
		t.Fatalf("INCR = %d, %v; want 1", n, err)
	}
}

// Keys in several slots are refused before anything is sent: no key is
// touched, and the client's request counter does not move.
func TestTxCrossSlotRefusedBeforeSending(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	before := cl.Stats().Requests
	tx := cl.Tx()
	first := keel.Queue(tx, keel.Incr("{txa}n"))
	tx.Do("INCR", "{txb}n")
	results, err := tx.Exec(ctx)
	if !errors.Is(err, keel.ErrCrossSlot) {
		t.Fatalf("err = %v, want ErrCrossSlot", err)
	}
	if len(results) != 2 || !errors.Is(results[1].Err, keel.ErrCrossSlot) || !errors.Is(first.Err(), keel.ErrCrossSlot) {
		t.Fatalf("results = %v, future = %v", results, first.Err())
	}
	if after := cl.Stats().Requests; after != before {
		t.Fatalf("requests %d -> %d: something was sent", before, after)
	}
	for _, k := range []string{"{txa}n", "{txb}n"} {
		if n, err := cl.Exists(ctx, k); err != nil || n != 0 {
			t.Fatalf("EXISTS %s = %d, %v; want 0", k, n, err)
		}
	}
}

// Bad transactions fail with ErrArgument without being sent.
func TestTxBadInput(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	cases := map[string]*keel.Tx{
		"empty":      cl.Tx(),
		"no key":     cl.Tx().Do("PING"),
		"nested":     cl.Tx().Do("SET", "{tx3}k", 1).Do("EXEC"),
		"watch":      cl.Tx().Do("WATCH", "{tx3}k"),
		"bad arg":    cl.Tx().Do("SET", "{tx3}k", nil),
		"empty args": cl.Tx().Do(),
	}
	for name, tx := range cases {
		if _, err := tx.Exec(ctx); !errors.Is(err, keel.ErrArgument) {
			t.Errorf("%s: err = %v, want ErrArgument", name, err)
		}
	}
	// Commands that would change the shared connection's state are refused
	// inside a transaction too: they would run at EXEC (AUTH, CLIENT
	// TRACKING), or at once (RESET).
	for _, args := range [][]any{{"AUTH", "x"}, {"CLIENT", "TRACKING", "on"}, {"RESET"}, {"SELECT", 1}} {
		if _, err := cl.Tx().Do("SET", "{tx3}k", 1).Do(args...).Exec(ctx); !errors.Is(err, keel.ErrConnState) {
			t.Errorf("a transaction with %v: err = %v, want ErrConnState", args, err)
		}
	}
	if n, err := cl.Exists(ctx, "{tx3}k"); err != nil || n != 0 {
		t.Fatalf("EXISTS = %d, %v; want 0", n, err)
	}
}

// A queued command the server refuses discards the whole transaction
// (EXECABORT): ErrTxDiscarded, the refusal in that command's Result, and
// nothing ran.
func TestTxDiscardedOnRefusedCommand(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	tx := cl.Tx()
	incr := keel.Queue(tx, keel.Incr("{tx4}n"))
	tx.Do("SET", "{tx4}k") // missing its value: refused at queueing
	results, err := tx.Exec(ctx)
	if !errors.Is(err, keel.ErrTxDiscarded) {
		t.Fatalf("err = %v, want ErrTxDiscarded", err)
	}
	if !errors.Is(incr.Err(), keel.ErrTxDiscarded) {
		t.Fatalf("INCR's error = %v, want ErrTxDiscarded", incr.Err())
	}
	var re *resp.Error
	if !errors.As(results[1].Err, &re) || errors.Is(results[1].Err, keel.ErrTxDiscarded) {
		t.Fatalf("SET's error = %v, want the server's refusal", results[1].Err)
	}
	if n, err := cl.Exists(ctx, "{tx4}n"); err != nil || n != 0 {
		t.Fatalf("EXISTS = %d, %v: the discarded INCR ran", n, err)
	}
}

// Transactions from many goroutines share the connection with each other
// and with plain commands without mixing: the second INCR of each
// transaction returns the first's value plus one.
func TestTxConcurrentAreAtomic(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				tx := cl.Tx()
				a := keel.Queue(tx, keel.Incr("{tx5}n"))
				b := keel.Queue(tx, keel.Incr("{tx5}n"))
				if _, err := cl.Incr(ctx, "{tx5}other"); err != nil { // a plain command on the same connection
					errs <- err
					return
				}
				if _, err := tx.Exec(ctx); err != nil {
					errs <- err
					return
				}
				if b.Val() != a.Val()+1 {
					errs <- errors.New("INCRs of one transaction not adjacent: " + strconv.FormatInt(a.Val(), 10) + ", " + strconv.FormatInt(b.Val(), 10))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, _ := cl.Get(ctx, "{tx5}n"); n != "1600" {
		t.Fatalf("n = %s, want 1600", n)
	}
}

// A cancelled context sends nothing; a closed client refuses at once.
func TestTxCancelledAndClosed(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tx := cl.Tx().Do("INCR", "{tx6}n")
	if _, err := tx.Exec(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, keel.ErrUnknownOutcome) {
		t.Fatalf("err = %v, want Canceled (and nothing sent)", err)
	}
	if n, err := cl.Exists(context.Background(), "{tx6}n"); err != nil || n != 0 {
		t.Fatalf("EXISTS = %d, %v: the cancelled transaction ran", n, err)
	}
	if err := cl.Watch(ctx, func(w *keel.Watch) error { return nil }, "{tx6}n"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch err = %v, want Canceled", err)
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Tx().Do("INCR", "{tx6}n").Exec(context.Background()); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("after Close: err = %v, want ErrClosed", err)
	}
	if err := cl.Watch(context.Background(), func(w *keel.Watch) error { return nil }, "{tx6}n"); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("Watch after Close: err = %v, want ErrClosed", err)
	}
}
