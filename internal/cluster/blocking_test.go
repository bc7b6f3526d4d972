package cluster

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// blockingNode is a one-node fake cluster whose BLPOP blocks until the
// test releases it with a reply (or the test ends), and whose CLIENT
// UNBLOCK answers as unblock says.
type blockingNode struct {
	fc      *fakeCluster
	release chan resp.Value // the reply BLPOP gives when released
	unblock func() resptest.Reply
}

func newBlockingNode(t *testing.T) *blockingNode {
	b := &blockingNode{fc: newFakeCluster(t, 1), release: make(chan resp.Value, 1)}
	b.fc.setView(oneShard(1, b.fc.addr(0)))
	ended := make(chan struct{})
	t.Cleanup(func() { close(ended) }) // runs before the server's Close
	srv := b.fc.nodes[0]
	srv.Handle("CLIENT ID", func([]string) resptest.Reply { return resptest.Int(7) })
	srv.Handle("BLPOP", func([]string) resptest.Reply {
		return resptest.Stream(func(w io.Writer) {
			select {
			case v := <-b.release:
				_, _ = w.Write(resp.AppendValue(nil, v))
			case <-ended:
			}
		})
	})
	srv.Handle("CLIENT UNBLOCK", func([]string) resptest.Reply { return b.unblock() })
	return b
}

func array(elems ...string) resp.Value {
	v := resp.Value{Kind: resp.KindArray}
	for _, e := range elems {
		v.Elems = append(v.Elems, resp.Value{Kind: resp.KindBulkString, Str: e})
	}
	return v
}

// blockedDo runs BLPOP on a goroutine and waits (polling the fake server's
// count, which has no event) until the node has it.
func blockedDo(t *testing.T, ctx context.Context, e *Engine, b *blockingNode) <-chan error {
	t.Helper()
	before := b.fc.count("BLPOP")
	done := make(chan error, 1)
	go func() {
		_, err := e.Do(ctx, "BLPOP", "k", "0")
		done <- err
	}()
	testutil.WaitFor(t, 5*time.Second, "BLPOP at the node", func() bool { return b.fc.count("BLPOP") > before })
	return done
}

// cancelBlocked runs BLPOP, cancels it once the node has it, and returns
// its result.
func cancelBlocked(t *testing.T, e *Engine, b *blockingNode) (resp.Value, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	type result struct {
		v   resp.Value
		err error
	}
	before := b.fc.count("BLPOP")
	done := make(chan result, 1)
	go func() {
		v, err := e.Do(ctx, "BLPOP", "k", "0")
		done <- result{v, err}
	}()
	testutil.WaitFor(t, 5*time.Second, "BLPOP at the node", func() bool { return b.fc.count("BLPOP") > before })
	cancel()
	r := <-done
	return r.v, r.err
}

// TestBlockingCancelUnblocked: the node answers CLIENT UNBLOCK and the call
// gets UNBLOCKED: ctx's error, outcome known, and the connection is reused.
func TestBlockingCancelUnblocked(t *testing.T) {
	b := newBlockingNode(t)
	b.unblock = func() resptest.Reply {
		b.release <- resp.Value{Kind: resp.KindError, Str: "UNBLOCKED client unblocked via CLIENT UNBLOCK"}
		return resptest.Int(1)
	}
	e := newFakeEngine(t, b.fc, Options{})
	for range 2 {
		_, err := cancelBlocked(t, e, b)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnknownOutcome) {
			t.Fatalf("cancelled BLPOP: %v, want context.Canceled alone", err)
		}
	}
	if n := b.fc.count("CLIENT ID"); n != 1 {
		t.Errorf("%d blocking connections dialled for two calls, want 1 (reused)", n)
	}
}

// TestBlockingCancelRaced: an element served as the call was cancelled is
// returned, with no error: it was taken.
func TestBlockingCancelRaced(t *testing.T) {
	b := newBlockingNode(t)
	b.unblock = func() resptest.Reply {
		b.release <- array("k", "elem")
		return resptest.Int(0) // too late: it was no longer blocked
	}
	e := newFakeEngine(t, b.fc, Options{})
	v, err := cancelBlocked(t, e, b)
	if err != nil || len(v.Elems) != 2 || v.Elems[1].Str != "elem" {
		t.Errorf("BLPOP served while cancelled = %v, %v; want [k elem], nil", v, err)
	}
}

// TestBlockingCancelNoAnswer: the node does not answer CLIENT UNBLOCK: the
// call's connection is closed after the health timeout and a pop's outcome
// is unknown.
func TestBlockingCancelNoAnswer(t *testing.T) {
	b := newBlockingNode(t)
	b.unblock = resptest.Hang
	e := newFakeEngine(t, b.fc, Options{})
	start := time.Now()
	_, err := cancelBlocked(t, e, b)
	if !errors.Is(err, ErrUnknownOutcome) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled BLPOP, node silent: %v, want ErrUnknownOutcome and context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestBlockingSuspectAborts: a blocked call on a node that becomes suspect
// is cut off at once: its connection closes, and a pop's outcome is unknown.
func TestBlockingSuspectAborts(t *testing.T) {
	b := newBlockingNode(t)
	e := newFakeEngine(t, b.fc, Options{})
	ctx := testCtx(t)
	done := blockedDo(t, ctx, e, b)
	e.suspect(b.fc.addr(0), errors.New("test"))
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnknownOutcome) {
			t.Errorf("BLPOP on a suspect node: %v, want ErrUnknownOutcome", err)
		}
	case <-ctx.Done():
		t.Fatal("BLPOP on a suspect node did not return")
	}
}

// TestBlockingRefusedElsewhere: pipelines, transactions and WAIT outside a
// watch refuse blocking commands with ErrBlocking, before sending.
func TestBlockingRefusedElsewhere(t *testing.T) {
	b := newBlockingNode(t)
	e := newFakeEngine(t, b.fc, Options{})
	ctx := testCtx(t)
	res := e.Pipeline(ctx, [][]string{{"BLPOP", "k", "0"}})
	if !errors.Is(res[0].Err, ErrBlocking) {
		t.Errorf("BLPOP in a pipeline: %v", res[0].Err)
	}
	if _, _, err := TxSlot([][]string{{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}}); !errors.Is(err, ErrBlocking) {
		t.Errorf("XREAD BLOCK in a transaction: %v", err)
	}
	if _, err := e.Do(ctx, "WAIT", "1", "0"); !errors.Is(err, ErrBlocking) {
		t.Errorf("WAIT on the engine: %v", err)
	}
	if n := b.fc.count("BLPOP") + b.fc.count("WAIT"); n != 0 {
		t.Errorf("%d refused commands reached the node", n)
	}
}

// TestBlockingSlotMovedReissues: a new topology moving the call's slot
// unblocks it on the old owner (CLIENT UNBLOCK … ERROR: nothing taken) and
// sends it to the new one, which serves it.
func TestBlockingSlotMovedReissues(t *testing.T) {
	b := newBlockingNode(t)
	b.unblock = func() resptest.Reply {
		b.release <- resp.Value{Kind: resp.KindError, Str: "UNBLOCKED client unblocked via CLIENT UNBLOCK"}
		return resptest.Int(1)
	}
	other := resptest.New(t)
	other.Handle("CLIENT ID", func([]string) resptest.Reply { return resptest.Int(8) })
	other.Handle("BLPOP", func([]string) resptest.Reply { return resptest.Value(array("k", "there")) })
	e := newFakeEngine(t, b.fc, Options{})
	ctx := testCtx(t)
	before := b.fc.count("BLPOP")
	type result struct {
		v   resp.Value
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := e.Do(ctx, "BLPOP", "k", "0")
		done <- result{v, err}
	}()
	testutil.WaitFor(t, 5*time.Second, "BLPOP at the node", func() bool { return b.fc.count("BLPOP") > before })
	b.fc.setView(oneShard(2, other.Addr())) // what a refresh finds from now on
	e.patchSlot(Slot("k"), other.Addr())    // as a MOVED would
	r := <-done
	if r.err != nil || len(r.v.Elems) != 2 || r.v.Elems[1].Str != "there" {
		t.Errorf("BLPOP after its slot moved = %v, %v; want [k there] from the new owner", r.v, r.err)
	}
	if n := b.fc.count("CLIENT UNBLOCK"); n != 1 {
		t.Errorf("CLIENT UNBLOCK sent %d times, want 1", n)
	}
}

// TestBlockingCancelBeforeProcessed: the call is stopped before the node has
// processed it (CLIENT UNBLOCK answers 0, and only then does the BLPOP
// block): keel sends CLIENT UNBLOCK again until it takes, and the call
// returns ctx's error alone, its outcome known, its connection reused.
func TestBlockingCancelBeforeProcessed(t *testing.T) {
	b := newBlockingNode(t)
	var blocked atomic.Bool
	notYet := make(chan struct{}, 1) // a CLIENT UNBLOCK found nothing blocked
	b.unblock = func() resptest.Reply {
		if !blocked.Load() {
			select {
			case notYet <- struct{}{}:
			default:
			}
			return resptest.Int(0)
		}
		b.release <- resp.Value{Kind: resp.KindError, Str: "UNBLOCKED client unblocked via CLIENT UNBLOCK"}
		return resptest.Int(1)
	}
	srv := b.fc.nodes[0]
	ended := make(chan struct{})
	t.Cleanup(func() { close(ended) })
	srv.Handle("BLPOP", func([]string) resptest.Reply {
		return resptest.Stream(func(w io.Writer) {
			// The node processes the command only once a CLIENT UNBLOCK
			// has found it not blocked.
			select {
			case <-notYet:
			case <-ended:
				return
			}
			blocked.Store(true)
			select {
			case v := <-b.release:
				_, _ = w.Write(resp.AppendValue(nil, v))
			case <-ended:
			}
		})
	})
	e := newFakeEngine(t, b.fc, Options{})
	for range 2 {
		blocked.Store(false)
		_, err := cancelBlocked(t, e, b)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnknownOutcome) {
			t.Fatalf("BLPOP cancelled before the node processed it: %v, want context.Canceled alone", err)
		}
	}
	if n := b.fc.count("CLIENT ID"); n != 1 {
		t.Errorf("%d blocking connections dialled for two calls, want 1 (reused)", n)
	}
	if n := b.fc.count("CLIENT UNBLOCK"); n < 4 {
		t.Errorf("CLIENT UNBLOCK sent %d times for two calls, want at least 2 each", n)
	}
}

// TestBlockingMaxConnAge: an idle blocking connection older than MaxConnAge
// is not lent again: the next BLPOP gets a fresh connection (another CLIENT
// ID) and is served.
func TestBlockingMaxConnAge(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	srv := fc.nodes[0]
	var ids atomic.Int64
	srv.Handle("CLIENT ID", func([]string) resptest.Reply { return resptest.Int(ids.Add(1)) })
	srv.Handle("BLPOP", func([]string) resptest.Reply { return resptest.Value(array("k", "elem")) })
	const age = 50 * time.Millisecond
	e := newFakeEngine(t, fc, Options{MaxConnAge: age})
	ctx := testCtx(t)
	blpop := func() {
		t.Helper()
		v, err := e.Do(ctx, "BLPOP", "k", "0")
		if err != nil || len(v.Elems) != 2 || v.Elems[1].Str != "elem" {
			t.Fatalf("BLPOP = %v, %v; want [k elem]", v, err)
		}
	}
	blpop()
	first := e.blockers.idleConns(fc.addr(0))
	if len(first) != 1 {
		t.Fatalf("%d idle blocking connections after a BLPOP, want 1", len(first))
	}
	testutil.WaitFor(t, 5*time.Second, "the blocking connection past MaxConnAge", func() bool { return first[0].Age() >= age })
	blpop()
	if n := srv.Count("CLIENT ID"); n != 2 {
		t.Errorf("CLIENT ID asked %d times, want 2: a fresh connection after MaxConnAge", n)
	}
	if alive(first[0]) {
		t.Error("the blocking connection past MaxConnAge is still open")
	}
	if now := e.blockers.idleConns(fc.addr(0)); len(now) == 1 && now[0] == first[0] {
		t.Error("the old blocking connection is still idle in the pool")
	}
}

// TestBlockingReauthIdle: an idle blocking connection due for
// re-authentication is re-authenticated when it is next lent, before the
// borrower's command, and reused: never redialled, and never missing from
// the pool while it re-authenticates.
func TestBlockingReauthIdle(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	srv := fc.nodes[0]
	srv.Handle("CLIENT ID", func([]string) resptest.Reply { return resptest.Int(7) })
	srv.Handle("BLPOP", func([]string) resptest.Reply { return resptest.Value(array("k", "elem")) })
	const interval = 20 * time.Millisecond
	opts := Options{ReauthInterval: interval, BlockingConnsPerNode: 1}
	opts.Conn.Credentials = func(context.Context) (string, string, error) { return "u", "p", nil }
	e := newFakeEngine(t, fc, opts)
	ctx := testCtx(t)
	for i := range 3 {
		auths := srv.Count("AUTH")
		v, err := e.Do(ctx, "BLPOP", "k", "0")
		if err != nil || len(v.Elems) != 2 {
			t.Fatalf("BLPOP %d = %v, %v; want [k elem]", i, v, err)
		}
		idle := e.blockers.idleConns(fc.addr(0))
		if len(idle) != 1 {
			t.Fatalf("%d idle blocking connections, want 1", len(idle))
		}
		if i > 0 && srv.Count("AUTH") <= auths {
			t.Fatalf("BLPOP %d: the idle connection, due, was lent without AUTH", i)
		}
		c := idle[0]
		testutil.WaitFor(t, 5*time.Second, "the idle connection due again", func() bool {
			return c.SinceAuth() > interval
		})
	}
	if n := srv.Count("CLIENT ID"); n != 1 {
		t.Errorf("%d blocking connections dialled, want 1 (re-authenticated, not replaced)", n)
	}
}

// idleConns returns addr's idle connections.
func (p *dedicatedPool) idleConns(addr string) []*conn.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.idle[addr])
}

// TestBlockingShutdownWaitsForReader: Shutdown returns only once the
// goroutines reading blocked calls' replies have exited.
func TestBlockingShutdownWaitsForReader(t *testing.T) {
	b := newBlockingNode(t)
	b.unblock = resptest.Hang
	e := newFakeEngine(t, b.fc, Options{})
	const calls = 8 // each a reader that could outlive Shutdown
	var done []<-chan error
	for range calls {
		done = append(done, blockedDo(t, testCtx(t), e, b))
	}
	cut, cancel := context.WithCancel(context.Background())
	cancel() // cut the blocked call off at once
	if err := e.Shutdown(cut); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with a blocked call and an ended context: %v, want context.Canceled", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "blockOnce.func") {
		t.Errorf("a blocked call's reader outlived Shutdown:\n%s", stacks)
	}
	for _, d := range done {
		<-d
	}
}

// TestBlockingSpawnCounted: a goroutine started by the blocking pool's
// spawn (a blocked call's reader) holds Shutdown until it ends, and none is
// started once the pool is closed.
func TestBlockingSpawnCounted(t *testing.T) {
	b := newBlockingNode(t)
	e := newFakeEngine(t, b.fc, Options{})
	release := make(chan struct{})
	if !e.blockers.spawn(func() { <-release }) {
		t.Fatal("spawn refused on an open pool")
	}
	shut := make(chan error, 1)
	go func() { shut <- e.Shutdown(context.Background()) }()
	testutil.WaitFor(t, 5*time.Second, "the blocking pool closed", func() bool {
		e.blockers.mu.Lock()
		defer e.blockers.mu.Unlock()
		return e.blockers.closed
	})
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a spawned reader ran", err)
	default:
	}
	close(release)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if e.blockers.spawn(func() { t.Error("spawned after close") }) {
		t.Error("spawn started a goroutine on a closed pool")
	}
}
