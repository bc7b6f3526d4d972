package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
)

// A primary that stops answering: its connection fails at the health
// timeout, the engine probes the replica with ROLE about every
// IncidentInterval (the steady interval is an hour here), asking for the
// full topology only once at the start, and the waiting request moves to
// the replica at the first probe after it answers master.
func TestEngineIncidentPollsUntilFailover(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	fc.nodes[0].Handle("GET", bulkFrom("p"))
	fc.nodes[1].Handle("GET", bulkFrom("r"))
	e := newFakeEngine(t, fc, Options{})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-p" {
		t.Fatalf("GET before the incident = %v, %v", v, err)
	}

	replica := fc.nodes[1]
	fullBefore := fc.count("CLUSTER SHARDS")
	fc.nodes[0].Freeze()
	done := getAsync(t, e, "k")
	testutil.WaitFor(t, 5*time.Second, "the primary is suspect (Stats.IncidentMode)", func() bool {
		return e.Stats().IncidentMode
	})
	before := replica.Count("ROLE")
	testutil.WaitFor(t, 5*time.Second, "the replica is probed 3 times in incident mode", func() bool {
		return replica.Count("ROLE") >= before+3
	})
	if full := fc.count("CLUSTER SHARDS") - fullBefore; full > 1 {
		t.Errorf("%d full topology queries while the probes showed no change, want at most 1 (the suspicion's)", full)
	}
	atSwitch := replica.Count("ROLE")
	fc.setView(oneShard(2, r, p), 1) // the replica won the election
	var got string
	select {
	case got = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not move to the new primary")
	}
	if got != "from-r" {
		t.Fatalf("GET during the incident = %q, want the new primary's reply", got)
	}
	if polls := replica.Count("ROLE") - atSwitch; polls < 1 || polls > 3 {
		t.Errorf("%d probes between the failover and the request moving, want 1 (at most 3)", polls)
	}
	testutil.WaitFor(t, 5*time.Second, "incident mode ends once the suspect node is no primary", func() bool {
		return !e.Stats().IncidentMode
	})
}

// Two nodes disagree about who serves the slots: the view with the higher
// cluster epoch wins, whichever answers first.
func TestEngineHigherEpochWins(t *testing.T) {
	for _, slowNewer := range []bool{false, true} {
		name := "newer first"
		if slowNewer {
			name = "newer last"
		}
		t.Run(name, func(t *testing.T) {
			fc := newFakeCluster(t, 3)
			older, newer, owner := fc.addr(0), fc.addr(1), fc.addr(2)
			fc.setView(oneShard(3, older), 0)
			fc.setView(oneShard(5, owner), 1)
			if slowNewer {
				srv := fc.nodes[1]
				srv.Handle("CLUSTER SHARDS", func([]string) resptest.Reply {
					r := resptest.Value(resptest.ShardsReply(fc.view(newer)))
					r.Delay = 50 * time.Millisecond
					return r
				})
			}
			for i, n := range []string{"older", "newer", "owner"} {
				fc.nodes[i].Handle("GET", bulkFrom(n))
			}
			e := newFakeEngine(t, fc, Options{Seeds: []string{older, newer}})
			if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-owner" {
				t.Fatalf("GET = %v, %v; want the higher epoch's primary", v, err)
			}
		})
	}
}

// After a failover, the old primary comes back as a zombie still claiming
// the slots with its older epoch. Refreshes that hear its view — alongside
// the new primary's, or alone — must not route to it again.
func TestEngineZombieViewDoesNotOverrideNewer(t *testing.T) {
	fc := newFakeCluster(t, 2)
	zombie, newP := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(5, newP, zombie), 1)
	fc.setView(oneShard(4, zombie, newP), 0)
	fc.nodes[0].Handle("GET", bulkFrom("zombie"))
	fc.nodes[1].Handle("GET", bulkFrom("new"))
	e := newFakeEngine(t, fc, Options{Seeds: []string{newP}, RefreshInterval: 10 * time.Millisecond})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-new" {
		t.Fatalf("GET = %v, %v; want the new primary", v, err)
	}

	// Both answer; the zombie's view arrives last.
	fc.nodes[0].Handle("CLUSTER SHARDS", func([]string) resptest.Reply {
		r := resptest.Value(resptest.ShardsReply(fc.view(zombie)))
		r.Delay = 20 * time.Millisecond
		return r
	})
	heard := fc.nodes[0].Count("CLUSTER SHARDS")
	testutil.WaitFor(t, 5*time.Second, "three refreshes hear the zombie", func() bool { return fc.nodes[0].Count("CLUSTER SHARDS") >= heard+3 })
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-new" {
		t.Fatalf("GET after the zombie's view arrived last = %v, %v; want the new primary", v, err)
	}

	// Only the zombie answers (the new primary's answer is lost).
	fc.nodes[1].Handle("CLUSTER SHARDS", func([]string) resptest.Reply { return resptest.Err("ERR busy elsewhere") })
	heard = fc.nodes[0].Count("CLUSTER SHARDS")
	testutil.WaitFor(t, 5*time.Second, "three refreshes hear only the zombie", func() bool { return fc.nodes[0].Count("CLUSTER SHARDS") >= heard+3 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v, err := e.Do(ctx, "GET", "k"); err != nil || v.Str != "from-new" {
		t.Fatalf("GET after only the zombie answered = %v, %v; want the new primary", v, err)
	}
	if n := fc.nodes[0].Count("GET"); n != 0 {
		t.Errorf("the zombie served %d GETs", n)
	}
}

// A cluster created anew on other addresses (a full replacement behind the
// seeds) starts its epochs again: its lower-epoch view, from nodes keel never
// knew, must replace the old one, unlike a zombie's.
func TestEngineTakesClusterCreatedAnew(t *testing.T) {
	fc := newFakeCluster(t, 3)
	oldP, oldR, fresh := fc.addr(0), fc.addr(1), fc.addr(2)
	fc.setView(oneShard(10, oldP, oldR), 0, 1)
	fc.setView(oneShard(1, fresh), 2)
	fc.nodes[0].Handle("GET", bulkFrom("old"))
	fc.nodes[2].Handle("GET", bulkFrom("fresh"))
	e := newFakeEngine(t, fc, Options{Seeds: []string{oldP, fresh}, RefreshInterval: 10 * time.Millisecond})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-old" {
		t.Fatalf("GET = %v, %v; want the old cluster's primary", v, err)
	}

	fc.nodes[0].Close()
	fc.nodes[1].Close()
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-fresh" {
		t.Fatalf("GET after the old cluster went away = %v, %v; want the new cluster's primary", v, err)
	}
}
