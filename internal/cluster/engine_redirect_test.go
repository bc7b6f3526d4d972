package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/resptest"
)

func bulkFrom(name string) resptest.Handler {
	return func([]string) resptest.Reply { return resptest.Bulk("from-" + name) }
}

// A MOVED to a node that is migrating the slot and ASKs to a third: the
// request follows both, sends ASKING before the command on the third, and
// the MOVED (not the ASK) changes where the slot's next request goes.
func TestEngineFollowsMovedThenAsk(t *testing.T) {
	fc := newFakeCluster(t, 3)
	a, b, c := fc.addr(0), fc.addr(1), fc.addr(2)
	fc.setView(oneShard(1, a))
	slot := Slot("k")
	fc.nodes[0].Handle("GET", func([]string) resptest.Reply {
		fc.setView(oneShard(2, b)) // the cluster moved the slots, then answers MOVED
		return resptest.Err(fmt.Sprintf("MOVED %d %s", slot, b))
	})
	var askingFirst atomic.Bool
	fc.nodes[1].Handle("GET", func([]string) resptest.Reply {
		return resptest.Err(fmt.Sprintf("ASK %d %s", slot, c))
	})
	fc.nodes[2].Handle("GET", func([]string) resptest.Reply {
		askingFirst.Store(fc.nodes[2].Count("ASKING") == 1)
		return resptest.Bulk("from-c")
	})
	e := newFakeEngine(t, fc, Options{})
	v, err := e.Do(testCtx(t), "GET", "k")
	if err != nil || v.Str != "from-c" {
		t.Fatalf("GET = %v, %v; want the third node's reply", v, err)
	}
	if !askingFirst.Load() {
		t.Error("the third node got GET without ASKING before it")
	}
	for i, want := range []int{1, 1, 1} {
		if got := fc.nodes[i].Count("GET"); got != want {
			t.Errorf("node %d received %d GETs, want %d", i, got, want)
		}
	}
	if s := e.Stats(); s.Moved != 1 || s.Asked != 1 {
		t.Errorf("stats: moved %d, asked %d; want 1 and 1", s.Moved, s.Asked)
	}
	// The next request for the slot goes straight to the MOVED target,
	// which ASKs again (the migration is still in progress).
	fc.nodes[1].Handle("GET", bulkFrom("b"))
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-b" {
		t.Fatalf("second GET = %v, %v; want the MOVED target's reply", v, err)
	}
	if got := fc.nodes[0].Count("GET"); got != 1 {
		t.Errorf("the old owner received %d GETs, want only the first", got)
	}
}

// Two nodes that redirect to each other: the request gives up after
// MaxRedirects with ErrTooManyRedirects, having sent exactly one try per
// redirect plus the first.
func TestEngineRedirectLimit(t *testing.T) {
	fc := newFakeCluster(t, 2)
	fc.setView(oneShard(1, fc.addr(0), fc.addr(1)))
	slot := Slot("k")
	for i := range fc.nodes {
		other := fc.addr(1 - i)
		fc.nodes[i].Handle("GET", func([]string) resptest.Reply {
			return resptest.Err(fmt.Sprintf("MOVED %d %s", slot, other))
		})
	}
	const limit = 3
	e := newFakeEngine(t, fc, Options{MaxRedirects: limit})
	_, err := e.Do(testCtx(t), "GET", "k")
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("err = %v, want ErrTooManyRedirects", err)
	}
	if got := fc.count("GET"); got != limit+1 {
		t.Errorf("%d GETs sent, want %d (the first and one per redirect)", got, limit+1)
	}
}

// TRYAGAIN (a multi-key command meeting a slot mid-migration) is retried on
// the same node until it succeeds.
func TestEngineRetriesTryAgain(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	var n atomic.Int32
	fc.nodes[0].Handle("MGET", func([]string) resptest.Reply {
		if n.Add(1) <= 2 {
			return resptest.Err("TRYAGAIN Multiple keys request during rehashing of slot")
		}
		return resptest.Value(arrayOf("1", "2"))
	})
	e := newFakeEngine(t, fc, Options{})
	v, err := e.Do(testCtx(t), "MGET", "{k}a", "{k}b")
	if err != nil || len(v.Elems) != 2 {
		t.Fatalf("MGET = %v, %v; want the third try's reply", v, err)
	}
	if got := fc.nodes[0].Count("MGET"); got != 3 {
		t.Errorf("MGET sent %d times, want 3", got)
	}
	if r := e.Stats().Retries; r != 2 {
		t.Errorf("Stats.Retries = %d, want 2", r)
	}
}

// A deadline that ends a try (not the wait between two) still reports why
// the tries before it failed, as one that ends the wait does.
func TestEngineDeadlineDuringATryKeepsTheLastError(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var n atomic.Int32
	fc.nodes[0].Handle("MGET", func([]string) resptest.Reply {
		if n.Add(1) == 1 {
			return resptest.Err("TRYAGAIN Multiple keys request during rehashing of slot")
		}
		<-release // the second try outlasts the caller's deadline
		return resptest.Err("ERR test over")
	})
	e := newFakeEngine(t, fc, Options{})
	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	_, err := e.Do(ctx, "MGET", "{k}a", "{k}b")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "TRYAGAIN") {
		t.Fatalf("MGET = %v, want the deadline, after TRYAGAIN", err)
	}
	if got := fc.nodes[0].Count("MGET"); got != 2 {
		t.Errorf("MGET sent %d times, want 2 (the deadline came during the second)", got)
	}
}

// CLUSTERDOWN, LOADING and MASTERDOWN make the engine refresh its topology
// before the retry: the node answers the error until it has been asked
// for the topology again, then serves the command.
func TestEngineRefreshesOnShardErrors(t *testing.T) {
	for _, msg := range []string{
		"CLUSTERDOWN The cluster is down",
		"LOADING Redis is loading the dataset in memory",
		"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
	} {
		code := strings.Fields(msg)[0]
		t.Run(code, func(t *testing.T) {
			fc := newFakeCluster(t, 1)
			node := fc.nodes[0]
			fc.setView(oneShard(1, fc.addr(0)))
			e := newFakeEngine(t, fc, Options{})
			queried := node.Count("CLUSTER SHARDS")
			node.Handle("GET", func([]string) resptest.Reply {
				if node.Count("CLUSTER SHARDS") == queried {
					return resptest.Err(msg)
				}
				return resptest.Bulk("v")
			})
			if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "v" {
				t.Fatalf("GET = %v, %v; want the reply after a refresh", v, err)
			}
			if got := node.Count("GET"); got < 2 {
				t.Errorf("GET sent %d times, want a retry", got)
			}
		})
	}
}

// READONLY (a write reached a node that is now a replica: a failover
// happened) refreshes the topology and sends the write to the new primary.
func TestEngineFollowsFailoverOnReadOnly(t *testing.T) {
	fc := newFakeCluster(t, 2)
	oldP, newP := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, oldP, newP))
	e := newFakeEngine(t, fc, Options{})
	fc.nodes[0].Handle("SET", func([]string) resptest.Reply {
		fc.setView(oneShard(2, newP, oldP))
		return resptest.Err("READONLY You can't write against a read only replica.")
	})
	fc.nodes[1].Handle("SET", func([]string) resptest.Reply { return resptest.OK() })
	if v, err := e.Do(testCtx(t), "SET", "k", "v"); err != nil || v.Str != "OK" {
		t.Fatalf("SET = %v, %v; want OK from the new primary", v, err)
	}
	// Retries may meet the old primary again until the refresh lands (each
	// is refused, so none ran); the write runs once, on the new primary.
	if a, b := fc.nodes[0].Count("SET"), fc.nodes[1].Count("SET"); a < 1 || b != 1 {
		t.Errorf("SET received by old primary %d, new primary %d; want at least 1 and exactly 1", a, b)
	}
}
