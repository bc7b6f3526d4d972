package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
)

// A small request that finds another in flight on the node's shared
// connection, while the client has few requests in progress, goes on an
// idle bulk connection of the node: reads and writes are answered there
// while the other still waits. The spare is free again after each, an
// error reply's included.
func TestSecondCallerGoesOnASpareConnection(t *testing.T) {
	e, addr, slow := spareSetup(t)
	ctx := testCtx(t)
	if v, err := e.Do(ctx, "GET", "k"); err != nil || v.Str != "v" {
		t.Fatalf("GET beside the slow one = %v, %v", v, err)
	}
	if v, err := e.Do(ctx, "SET", "k", "v"); err != nil || v.Str != "OK" {
		t.Fatalf("SET beside the slow GET = %v, %v", v, err)
	}
	if _, err := e.Do(ctx, "INCR", "k"); err == nil {
		t.Fatal("INCR beside the slow GET: no error, want the server's error reply")
	}
	select {
	case s := <-slow:
		t.Fatalf("the slow GET was answered (%q) before its release", s)
	default:
	}
	for _, b := range bulkConns(e, addr) {
		if n := b.busy.Load(); n != 0 {
			t.Errorf("a spare connection is still counted in use by %d requests", n)
		}
	}
}

// A spare is used while at most spareCallers requests are in progress
// (the slow GET, the new one and the others begun here), not beyond.
func TestSpareOnlyWithFewRequestsInProgress(t *testing.T) {
	for _, inProgress := range []int{spareCallers, spareCallers + 1} {
		t.Run(fmt.Sprint(inProgress), func(t *testing.T) {
			e, addr, _ := spareSetup(t)
			for range inProgress - 2 {
				if !e.begin() {
					t.Fatal("engine closed")
				}
				defer e.end()
			}
			err := getBehind(t, e)
			if inProgress <= spareCallers {
				if err != nil {
					t.Fatalf("GET with %d requests in progress = %v, want it answered on the spare", inProgress, err)
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("GET with %d requests in progress = %v, want it to wait behind the slow one", inProgress, err)
			}
			for _, b := range bulkConns(e, addr) {
				if n := b.c.InFlight(); n != 0 {
					t.Errorf("a spare connection has %d requests in flight, want 0", n)
				}
			}
		})
	}
}

// The first request that finds another in flight dials a spare and waits
// on the shared connection. Abandoned there (its context ends), it keeps
// the next requests behind it although the spare is open: they may be its
// caller's, and must not run before it.
func TestFirstRequestBesideAnotherDialsASpare(t *testing.T) {
	e, addr, _ := startSlow(t)
	if err := getBehind(t, e); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first GET beside the slow one = %v, want it to wait behind it on the shared connection", err)
	}
	waitSpare(t, e)
	if err := getBehind(t, e); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET after an abandoned one = %v, want it to wait behind it on the shared connection", err)
	}
	if n := nodeInFlight(e, addr); n != 3 {
		t.Fatalf("%d requests in flight to the node, want the 3 on the shared connection", n)
	}
}

// The periodic refresh closes the bulk connections unused for
// bulkIdleClose, and only those.
func TestIdleBulkConnectionsClose(t *testing.T) {
	e, addr, _ := spareSetup(t)
	ctx := testCtx(t)
	if _, err := e.Do(ctx, "GET", "k"); err != nil {
		t.Fatal(err)
	}
	p := e.pool
	spare := bulkConns(e, addr)[0]
	p.closeIdleBulk()
	if !alive(spare.c) {
		t.Fatal("a bulk connection used just now was closed")
	}
	spare.lastUsed.Add(-int64(bulkIdleClose))
	p.closeIdleBulk()
	testutil.WaitFor(t, 2*time.Second, "the idle bulk connection closes", func() bool { return !alive(spare.c) })
	if n := len(bulkConns(e, addr)); n != 0 {
		t.Fatalf("%d bulk connections kept, want 0", n)
	}
}

// spareSetup is startSlow with a spare connection open.
func spareSetup(t *testing.T) (e *Engine, addr string, slow <-chan string) {
	t.Helper()
	e, addr, slow = startSlow(t)
	if b := e.pool.idleBulk(addr); b != nil {
		t.Fatal("idleBulk found a spare before any was dialled")
	}
	waitSpare(t, e)
	return e, addr, slow
}

// startSlow starts a one-node engine whose node holds "GET slow" until the
// test ends, and sends one; slow delivers its reply.
func startSlow(t *testing.T) (e *Engine, addr string, slow <-chan string) {
	t.Helper()
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	e = newFakeEngine(t, fc, Options{Conn: conn.Options{HealthTimeout: -1}})
	holdSlow(t, fc.nodes[0], "GET", resptest.Bulk("v")) // released as the test ends
	fc.nodes[0].Handle("SET", func([]string) resptest.Reply { return resptest.OK() })
	fc.nodes[0].Handle("INCR", func([]string) resptest.Reply { return resptest.Err("ERR value is not an integer") })
	addr = fc.addr(0)
	slow = getAsync(t, e, "slow")
	testutil.WaitFor(t, 2*time.Second, "the slow GET is in flight", func() bool { return nodeInFlight(e, addr) == 1 })
	return e, addr, slow
}

// waitSpare waits for the node's spare connection to open.
func waitSpare(t *testing.T, e *Engine) {
	t.Helper()
	testutil.WaitFor(t, 2*time.Second, "a spare connection opens", func() bool { return e.Stats().ConnectionsAlive == 2 })
}

// bulkConns returns addr's bulk connections.
func bulkConns(e *Engine, addr string) []*bulkConn {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	return slices.Clone(e.pool.nodes[addr].bulk)
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
