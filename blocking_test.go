package keel_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// blockSlot is the slot of the blocking tests' keys, so they know which
// node their calls block on.
const blockSlot = 4242

// blockEnv is cmdEnv with keys in blockSlot and the address of its primary.
func blockEnv(t *testing.T, c *lab.Cluster, opts keel.Options) (*keel.Client, context.Context, func(string) string, string) {
	t.Helper()
	cl := newClient(t, c, opts)
	ctx := testutil.Context(t, 60*time.Second)
	prefix := fmt.Sprintf("%s:%d:", t.Name(), time.Now().UnixNano())
	n, err := c.PrimaryFor(ctx, blockSlot)
	must(t, err)
	return cl, ctx, func(name string) string { return lab.KeyInSlot(blockSlot, prefix+name) }, n.Addr()
}

// clientsField reads one field of INFO clients on the node at addr.
func clientsField(ctx context.Context, t *testing.T, cl *keel.Client, addr, field string) int {
	t.Helper()
	n, err := cl.Node(addr)
	must(t, err)
	v, err := n.Do(ctx, "INFO", "clients")
	must(t, err)
	s, _ := v.Text()
	m := regexp.MustCompile(field + `:(\d+)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("INFO clients on %s has no %s: %q", addr, field, s)
	}
	k, _ := strconv.Atoi(m[1])
	return k
}

// waitBlocked waits until n clients are blocked on the node at addr.
func waitBlocked(ctx context.Context, t *testing.T, cl *keel.Client, addr string, n int) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, fmt.Sprintf("%d blocked clients on %s", n, addr), func() bool {
		return clientsField(ctx, t, cl, addr, "blocked_clients") >= n
	})
}

type callResult[T any] struct {
	v   T
	err error
}

// goRun runs call on a goroutine of the test's; its result comes on the channel.
func goRun[T any](call func() (T, error)) <-chan callResult[T] {
	ch := make(chan callResult[T], 1)
	go func() {
		v, err := call()
		ch <- callResult[T]{v, err}
	}()
	return ch
}

// receive waits for a call's result, failing the test after within.
func receive[T any](t *testing.T, ch <-chan callResult[T], within time.Duration, what string) callResult[T] {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(within):
		t.Fatalf("%s: no result within %v", what, within)
	}
	panic("unreachable")
}

// TestBlockingCommandsServe runs each blocking command twice: once blocked
// until data arrives (it returns the data), once until its timeout (ErrNil
// for the pops, nothing for the stream reads).
func TestBlockingCommandsServe(t *testing.T) {
	cl, ctx, k, addr := blockEnv(t, sharedCluster(t), keel.Options{})
	short := 50 * time.Millisecond
	type blockCase struct {
		name    string
		block   func(timeout time.Duration) (string, error) // the call, its result as text
		feed    func() error                                // makes the call return
		want    string
		timeout func(err error, got string) bool // the result of a timeout
	}
	nilErr := func(err error, _ string) bool { return errors.Is(err, keel.ErrNil) }
	noStreams := func(err error, got string) bool { return err == nil && got == "[]" }
	list, zset, stream, dst := k("list"), k("zset"), k("stream"), k("dst")
	must(t, cl.XGroupCreateWith(ctx, stream, "g", "$", keel.XGroupCreateOptions{MkStream: true}))
	push := func() error { _, err := cl.RPush(ctx, list, "a"); return err }
	zadd := func() error { _, err := cl.ZAdd(ctx, zset, keel.Z{Member: "m", Score: 1}); return err }
	var lastID string
	xadd := func() (err error) {
		lastID, err = cl.XAdd(ctx, keel.XAddArgs{Stream: stream, Values: []any{"f", "v"}})
		return err
	}
	text := func(v any, err error) (string, error) { return fmt.Sprint(v), err }
	forever := func(d time.Duration) time.Duration { // the pops' 0 is Block's BlockForever
		if d == 0 {
			return keel.BlockForever
		}
		return d
	}
	streamText := func(ss []keel.XStream, err error) (string, error) {
		if len(ss) == 1 && len(ss[0].Messages) == 1 {
			return ss[0].Stream + " " + ss[0].Messages[0].Fields[0].Value, err
		}
		return fmt.Sprint(ss), err
	}
	cases := []blockCase{
		{"BLPOP", func(d time.Duration) (string, error) { return text(cl.BLPop(ctx, d, k("other"), list)) }, push, fmt.Sprint(keel.KeyValue{Key: list, Value: "a"}), nilErr},
		{"BRPOP", func(d time.Duration) (string, error) { return text(cl.BRPop(ctx, d, list)) }, push, fmt.Sprint(keel.KeyValue{Key: list, Value: "a"}), nilErr},
		{"BLMOVE", func(d time.Duration) (string, error) { return cl.BLMove(ctx, list, dst, keel.Left, keel.Right, d) }, push, "a", nilErr},
		{"BLMPOP", func(d time.Duration) (string, error) { return text(cl.BLMPop(ctx, d, keel.Left, 5, list)) }, push, fmt.Sprint(keel.KeyValues{Key: list, Values: []string{"a"}}), nilErr},
		{"BZPOPMIN", func(d time.Duration) (string, error) { return text(cl.BZPopMin(ctx, d, zset)) }, zadd, fmt.Sprint(keel.KeyZ{Key: zset, Z: keel.Z{Member: "m", Score: 1}}), nilErr},
		{"BZPOPMAX", func(d time.Duration) (string, error) { return text(cl.BZPopMax(ctx, d, zset)) }, zadd, fmt.Sprint(keel.KeyZ{Key: zset, Z: keel.Z{Member: "m", Score: 1}}), nilErr},
		{"BZMPOP", func(d time.Duration) (string, error) { return text(cl.BZMPop(ctx, d, keel.ZMax, 2, zset)) }, zadd, fmt.Sprint(keel.KeyZs{Key: zset, Members: []keel.Z{{Member: "m", Score: 1}}}), nilErr},
		{"XREADGROUP", func(d time.Duration) (string, error) {
			return streamText(cl.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{stream}, Block: forever(d)}))
		}, xadd, stream + " v", noStreams},
		{"XREAD", func(d time.Duration) (string, error) {
			return streamText(cl.XRead(ctx, keel.XReadArgs{Streams: []string{stream}, IDs: []string{"$"}, Block: forever(d)}))
		}, xadd, stream + " v", noStreams},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := goRun(func() (string, error) { return tc.block(0) }) // 0: no limit
			waitBlocked(ctx, t, cl, addr, 1)
			must(t, tc.feed())
			r := receive(t, ch, 10*time.Second, tc.name)
			if r.err != nil || r.v != tc.want {
				t.Errorf("%s after data = %q, %v; want %q", tc.name, r.v, r.err, tc.want)
			}
			if got, err := tc.block(short); !tc.timeout(err, got) {
				t.Errorf("%s on its timeout = %q, %v", tc.name, got, err)
			}
		})
	}
	// The same command through Do and Run, untyped and typed.
	must(t, push())
	if v, err := cl.Do(ctx, "BLPOP", list, 1); err != nil || v.String() == "" {
		t.Errorf("Do BLPOP = %v, %v", v, err)
	}
	must(t, push())
	if kv, err := keel.Run(ctx, cl, keel.BRPop(time.Second, list)); err != nil || kv.Value != "a" {
		t.Errorf("Run BRPop = %+v, %v", kv, err)
	}
	_ = lastID
}

// TestBlockingCancel cancels blocked pops: each returns ctx's error at
// once, takes nothing (what is pushed afterwards is still in the list), and
// its connection is reused, so the node's connection count stays flat.
func TestBlockingCancel(t *testing.T) {
	cl, ctx, k, addr := blockEnv(t, sharedCluster(t), keel.Options{})
	list := k("list")
	var before int
	for i := range 20 {
		callCtx, cancel := context.WithCancel(ctx)
		ch := goRun(func() (keel.KeyValue, error) { return cl.BLPop(callCtx, 0, list) })
		waitBlocked(ctx, t, cl, addr, 1)
		if i == 0 {
			before = clientsField(ctx, t, cl, addr, "connected_clients")
		}
		start := time.Now()
		cancel()
		r := receive(t, ch, 5*time.Second, "cancelled BLPOP")
		if !errors.Is(r.err, context.Canceled) || errors.Is(r.err, keel.ErrUnknownOutcome) {
			t.Fatalf("cancelled BLPOP = %+v, %v; want context.Canceled, outcome known", r.v, r.err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("cancelled BLPOP returned after %v", d)
		}
	}
	if _, err := cl.RPush(ctx, list, "x"); err != nil {
		t.Fatal(err)
	}
	if n, err := cl.LLen(ctx, list); err != nil || n != 1 {
		t.Errorf("LLEN after the cancelled pops and a push = %d, %v; want 1 (nothing taken)", n, err)
	}
	if after := clientsField(ctx, t, cl, addr, "connected_clients"); after > before {
		t.Errorf("connected clients grew from %d to %d over 20 cancels", before, after)
	}

	// A deadline shorter than the command's timeout works the same way.
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := cl.BLPop(dctx, 0, k("empty")); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, keel.ErrUnknownOutcome) {
		t.Errorf("BLPOP past its ctx deadline: %v, want DeadlineExceeded", err)
	}
}

// TestBlockingPoolBound checks BlockingConnsPerNode: with one connection
// busy, a second call waits for it until its context ends, sending nothing.
func TestBlockingPoolBound(t *testing.T) {
	cl, ctx, k, addr := blockEnv(t, sharedCluster(t), keel.Options{BlockingConnsPerNode: 1})
	first := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, k("a")) })
	waitBlocked(ctx, t, cl, addr, 1)
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := cl.BLPop(wctx, 0, k("b")); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, keel.ErrUnknownOutcome) {
		t.Errorf("BLPOP with the pool busy: %v, want DeadlineExceeded", err)
	}
	if n := clientsField(ctx, t, cl, addr, "blocked_clients"); n != 1 {
		t.Errorf("blocked clients = %d, want 1: the second call must not have been sent", n)
	}
	second := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, k("b")) })
	_, err := cl.RPush(ctx, k("a"), "1")
	must(t, err)
	if r := receive(t, first, 10*time.Second, "first BLPOP"); r.err != nil {
		t.Fatal(r.err)
	}
	waitBlocked(ctx, t, cl, addr, 1) // the second got the connection
	_, err = cl.RPush(ctx, k("b"), "2")
	must(t, err)
	if r := receive(t, second, 10*time.Second, "second BLPOP"); r.err != nil || r.v.Value != "2" {
		t.Errorf("second BLPOP = %+v, %v", r.v, r.err)
	}
}

// TestBlockingRefused checks where blocking commands are refused: in
// pipelines and transactions, and WAIT anywhere but on a Watch.
func TestBlockingRefused(t *testing.T) {
	cl, ctx, k, _ := blockEnv(t, sharedCluster(t), keel.Options{})
	p := cl.Pipeline()
	pop := keel.Queue(p, keel.BLPop(time.Second, k("l")))
	get := keel.Queue(p, keel.Get(k("s")))
	p.Exec(ctx)
	if !errors.Is(pop.Err(), keel.ErrBlocking) {
		t.Errorf("BLPOP in a pipeline: %v, want ErrBlocking", pop.Err())
	}
	if !errors.Is(get.Err(), keel.ErrNil) {
		t.Errorf("GET next to it: %v, want ErrNil (run)", get.Err())
	}
	tx := cl.Tx()
	keel.Queue(tx, keel.BLPop(time.Second, k("l")))
	if _, err := tx.Exec(ctx); !errors.Is(err, keel.ErrBlocking) {
		t.Errorf("BLPOP in a transaction: %v, want ErrBlocking", err)
	}
	for _, cmd := range []keel.Cmd[int64]{keel.Wait(1, 100*time.Millisecond)} {
		if _, err := keel.Run(ctx, cl, cmd); !errors.Is(err, keel.ErrBlocking) {
			t.Errorf("WAIT on the client: %v, want ErrBlocking", err)
		}
	}
	if _, err := cl.Do(ctx, "WAIT", 0, 0); !errors.Is(err, keel.ErrBlocking) {
		t.Errorf("Do WAIT: %v, want ErrBlocking", err)
	}
}

// TestWaitOnWatch runs WAIT where it means something: after a write through
// the same Watch, it counts the replica that acknowledged it.
func TestWaitOnWatch(t *testing.T) {
	cl, ctx, k, _ := blockEnv(t, sharedCluster(t), keel.Options{})
	key := k("w")
	err := cl.Watch(ctx, func(w *keel.Watch) error {
		if _, err := keel.Run(ctx, w, keel.Set(key, "v")); err != nil {
			return err
		}
		n, err := keel.Run(ctx, w, keel.Wait(1, 400*time.Millisecond))
		if err != nil || n != 1 {
			t.Errorf("WAIT 1 after a write = %d, %v; want 1", n, err)
		}
		if _, err := w.Do(ctx, "WAIT", 1, 0); !errors.Is(err, keel.ErrBlocking) {
			t.Errorf("WAIT 1 0 on a watch: %v, want ErrBlocking (would block forever)", err)
		}
		return nil
	}, key)
	must(t, err)
}

// TestBlockingClose closes a client with calls blocked: Close returns
// within its time, and the calls fail with ErrClosed.
func TestBlockingClose(t *testing.T) {
	c := sharedCluster(t)
	cl, err := keel.New(context.Background(), keel.Options{Seeds: c.Addrs()[:1]})
	must(t, err)
	ctx := testutil.Context(t, 30*time.Second)
	n, err := c.PrimaryFor(ctx, blockSlot)
	must(t, err)
	key := lab.KeyInSlot(blockSlot, t.Name())
	var calls []<-chan callResult[keel.KeyValue]
	for range 3 {
		calls = append(calls, goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, key) }))
	}
	waitBlocked(ctx, t, cl, n.Addr(), 3)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := cl.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown with calls blocked: %v", err)
	}
	for _, ch := range calls {
		if r := receive(t, ch, 5*time.Second, "BLPOP at Shutdown"); !errors.Is(r.err, keel.ErrClosed) {
			t.Errorf("BLPOP at Shutdown: %+v, %v; want ErrClosed", r.v, r.err)
		}
	}
}
