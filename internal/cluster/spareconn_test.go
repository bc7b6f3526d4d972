package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
)

// A small request that finds another in flight on the node's shared
// connection, while the client has few requests in progress, goes on an
// idle bulk connection of the node: the first such request dials one and
// waits on the shared connection, the next ones, reads and writes, go on
// the spare and are answered while the other still waits.
func TestSecondCallerGoesOnASpareConnection(t *testing.T) {
	e, addr, slow := spareSetup(t)
	ctx := testCtx(t)
	if v, err := e.Do(ctx, "GET", "k"); err != nil || v.Str != "v" {
		t.Fatalf("GET beside the slow one = %v, %v", v, err)
	}
	if v, err := e.Do(ctx, "SET", "k", "v"); err != nil || v.Str != "OK" {
		t.Fatalf("SET beside the slow GET = %v, %v", v, err)
	}
	select {
	case s := <-slow:
		t.Fatalf("the slow GET was answered (%q) before its release", s)
	default:
	}
	e.pool.mu.Lock()
	for _, b := range e.pool.nodes[addr].bulk {
		if n := b.busy.Load(); n != 0 {
			t.Errorf("a spare connection is still counted in use by %d requests", n)
		}
	}
	e.pool.mu.Unlock()
}

// With more than spareCallers requests in progress, a small request stays
// on the shared connection, behind the one in flight there, although an
// idle spare is open.
func TestManyCallersStayOnTheSharedConnection(t *testing.T) {
	e, addr, _ := spareSetup(t)
	for range spareCallers {
		if !e.begin() {
			t.Fatal("engine closed")
		}
		defer e.end()
	}
	if err := getBehind(t, e); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET with %d other requests in progress = %v, want it to wait behind the slow one", spareCallers+1, err)
	}
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	for _, b := range e.pool.nodes[addr].bulk {
		if n := b.c.InFlight(); n != 0 {
			t.Errorf("a spare connection has %d requests in flight, want 0", n)
		}
	}
}

// spareSetup starts a one-node engine whose node holds "GET slow" until the
// test ends, sends one, and opens a spare connection: the first GET beside
// it waits behind it on the shared connection (and ends with its context)
// while the spare is dialled. slow delivers the slow GET's reply.
func spareSetup(t *testing.T) (e *Engine, addr string, slow <-chan string) {
	t.Helper()
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	e = newFakeEngine(t, fc, Options{Conn: conn.Options{HealthTimeout: -1}})
	holdSlow(t, fc.nodes[0], "GET", resptest.Bulk("v")) // released as the test ends
	fc.nodes[0].Handle("SET", func([]string) resptest.Reply { return resptest.OK() })
	addr = fc.addr(0)
	slow = getAsync(t, e, "slow")
	testutil.WaitFor(t, 2*time.Second, "the slow GET is in flight", func() bool { return nodeInFlight(e, addr) == 1 })
	if err := getBehind(t, e); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first GET beside the slow one = %v, want it to wait behind it on the shared connection", err)
	}
	testutil.WaitFor(t, 2*time.Second, "a spare connection opens", func() bool { return e.Stats().ConnectionsAlive == 2 })
	return e, addr, slow
}

// getBehind sends GET k with a short deadline: it ends with the deadline
// when it waits behind the slow GET.
func getBehind(t *testing.T, e *Engine) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(testCtx(t), 50*time.Millisecond)
	defer cancel()
	_, err := e.Do(ctx, "GET", "k")
	return err
}
