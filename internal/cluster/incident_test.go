package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// The probe interval is jittered within [base/2, base] for the first
// incidentFastPhase, then doubles every second up to incidentSlowProbe.
func TestProbeIntervalBacksOff(t *testing.T) {
	const base = 50 * time.Millisecond
	for _, tc := range []struct {
		into     time.Duration // how long the incident has lasted
		min, max time.Duration
	}{
		{0, base / 2, base},
		{4 * time.Second, base / 2, base},
		{incidentFastPhase + 1500*time.Millisecond, 2 * base, 4 * base}, // 200 ms, jittered
		{time.Minute, incidentSlowProbe / 2, incidentSlowProbe},
	} {
		s := incidentState{began: time.Now().Add(-tc.into)}
		seen := map[time.Duration]bool{}
		for range 200 {
			d := s.probeInterval(base)
			if d < tc.min || d > tc.max {
				t.Fatalf("%v into an incident: probe interval %v, want within [%v, %v]", tc.into, d, tc.min, tc.max)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("%v into an incident: only %d distinct intervals in 200: not jittered", tc.into, len(seen))
		}
	}
}

// refuseRole makes every node of fc answer ROLE as to a user without @admin.
func refuseRole(fc *fakeCluster) {
	for _, n := range fc.nodes {
		n.Handle("ROLE", func([]string) resptest.Reply {
			return resptest.Err("NOPERM User u has no permissions to run the 'role' command")
		})
	}
}

// A user without @admin gets NOPERM for ROLE: the probes become full
// queries of one node, and the failover is still found.
func TestEngineIncidentWithoutRole(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	refuseRole(fc)
	fc.nodes[0].Handle("GET", bulkFrom("p"))
	fc.nodes[1].Handle("GET", bulkFrom("r"))
	e := newFakeEngine(t, fc, Options{})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-p" {
		t.Fatalf("GET before the incident = %v, %v", v, err)
	}
	fc.nodes[0].Freeze()
	replica := fc.nodes[1]
	before := replica.Count("CLUSTER SHARDS")
	done := getAsync(t, e, "k")
	testutil.WaitFor(t, 5*time.Second, "the replica is asked for the topology 3 times", func() bool {
		return replica.Count("CLUSTER SHARDS") >= before+3
	})
	fc.setView(oneShard(2, r, p), 1)
	wantGet(t, done, "from-r", 5*time.Second, "the request did not move to the new primary")
}

// Without ROLE there are no probes to dial a suspect primary, so requests
// dial it themselves: one that returns without a failover (a shard without
// replicas, or a hang shorter than the cluster's node timeout) serves again.
func TestEngineSuspectReturnsWithoutRole(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	refuseRole(fc)
	fc.nodes[0].Handle("GET", bulkFrom("p"))
	e := newFakeEngine(t, fc, Options{})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-p" {
		t.Fatalf("GET before the incident = %v, %v", v, err)
	}
	fc.nodes[0].Freeze()
	done := getAsync(t, e, "k") // held by the frozen primary until it is suspect
	testutil.WaitFor(t, 5*time.Second, "the primary is suspect and ROLE found refused", func() bool {
		return e.Stats().IncidentMode && e.roleUnusable.Load()
	})
	fc.nodes[0].Thaw()
	wantGet(t, done, "from-p", 5*time.Second, "the request never reached the returned primary")
}

// Requests failing against a dead primary, again and again, do not turn
// into topology queries: while the probes show no change, the incident
// costs at most one full query per second.
func TestEngineIncidentFullQueriesBounded(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	fc.nodes[1].Handle("GET", bulkFrom("r"))
	e := newFakeEngine(t, fc, Options{})
	fc.nodes[0].Close() // dials are refused: every request fails fast
	start := fc.count("CLUSTER SHARDS")
	began := time.Now()
	probes := fc.nodes[1].Count("ROLE")
	requests := 0
	for time.Since(began) < 1500*time.Millisecond {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		_, _ = e.Do(ctx, "GET", "k")
		cancel()
		requests++
	}
	if requests < 20 {
		t.Fatalf("only %d requests in 1.5 s", requests)
	}
	if !e.Stats().IncidentMode {
		t.Fatal("not in incident mode with the primary's dials refused")
	}
	if full := fc.count("CLUSTER SHARDS") - start; full > 2 {
		t.Errorf("%d full topology queries in 1.5 s of failing requests, want at most 2", full)
	}
	if n := fc.nodes[1].Count("ROLE") - probes; n < 10 {
		t.Errorf("%d ROLE probes of the replica in 1.5 s, want about one per 15 ms (IncidentInterval 20 ms)", n)
	}
}

// A probe that finds the suspect shard's replica answering master moves
// waiting requests there at once: they do not wait for the full topology
// query that follows, here one the new primary is slow to answer.
func TestEngineIncidentPromotesAtProbe(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	fc.nodes[0].Handle("GET", bulkFrom("p"))
	fc.nodes[1].Handle("GET", bulkFrom("r"))
	e := newFakeEngine(t, fc, Options{RefreshTimeout: 5 * time.Second})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-p" {
		t.Fatalf("GET before the incident = %v, %v", v, err)
	}
	fc.nodes[0].Close()
	done := getAsync(t, e, "k")
	testutil.WaitFor(t, 5*time.Second, "the replica is probed", func() bool { return fc.nodes[1].Count("ROLE") > 0 })
	shardsDone := make(chan struct{})
	t.Cleanup(func() { close(shardsDone) })
	fc.nodes[1].Handle("CLUSTER SHARDS", func([]string) resptest.Reply {
		<-shardsDone // the full query never answers within the test
		return resptest.Err("ERR test over")
	})
	fc.setView(oneShard(2, r, p), 1) // ROLE on the replica: master
	wantGet(t, done, "from-r", 3*time.Second, "the request did not move to the promoted replica before the full query answered")
}

// Requests for a suspect primary whose dials fail leave the dialling to the
// incident's probes: with probes a second or two apart, a request retrying
// for a second dials the dead node about once, not at every retry.
func TestEngineRequestsLeaveSuspectPrimaryToProbes(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	fc.nodes[0].Handle("GET", bulkFrom("p"))
	e := newFakeEngine(t, fc, Options{IncidentInterval: 2 * time.Second})
	if _, err := e.Do(testCtx(t), "GET", "k"); err != nil {
		t.Fatal(err)
	}
	fc.nodes[0].Close()
	testutil.WaitFor(t, 5*time.Second, "the primary is suspect", func() bool { return e.Stats().IncidentMode })
	dials := e.Stats().Dials
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := e.Do(ctx, "GET", "k")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errNodeSuspect) {
		t.Fatalf("GET against a dead primary = %v, want the deadline, after errNodeSuspect", err)
	}
	if st := e.Stats(); st.Retries < 3 || st.Dials-dials > 2 {
		t.Errorf("%d retries made %d dials, want at least 3 retries and at most 2 dials", st.Retries, st.Dials-dials)
	}
}

// A suspect primary that refuses connections (its process is gone) is
// dialled at most every two IncidentIntervals, not at every probe.
func TestEngineRefusingSuspectRedialledSparingly(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	const interval = 100 * time.Millisecond // probes every 50–100 ms
	e := newFakeEngine(t, fc, Options{IncidentInterval: interval})
	fc.nodes[0].Close()
	testutil.WaitFor(t, 5*time.Second, "the primary is suspect", func() bool { return e.Stats().IncidentMode })
	probes, dials := fc.nodes[1].Count("ROLE"), e.Stats().Dials
	time.Sleep(time.Second) // the window counted: no event ends it
	probes, dials = fc.nodes[1].Count("ROLE")-probes, e.Stats().Dials-dials
	if probes < 5 {
		t.Fatalf("only %d probes in 1 s", probes)
	}
	if limit := int64(time.Second/(2*interval)) + 1; dials > limit {
		t.Errorf("%d dials of the refusing primary in 1 s (%d probes), want at most %d", dials, probes, limit)
	}
}

// A primary that leaves a request without a reply for the health timeout is
// in doubt while a probe on a second connection decides whether it is busy:
// the shard's replica is probed with ROLE meanwhile, and its promotion is
// installed at once, with no node suspected and the connection kept.
func TestEngineDoubtFindsFailoverWithoutSuspect(t *testing.T) {
	fc := newFakeCluster(t, 2)
	p, r := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, p, r))
	var stalled atomic.Bool
	fc.nodes[0].Handle("GET", func([]string) resptest.Reply {
		if stalled.Load() {
			return resptest.Hang()
		}
		return resptest.Bulk("from-p")
	})
	// The probe's PING is answered late but within the health timeout: the
	// node is busy, never hung, and each probe is a doubt of 100 ms.
	fc.nodes[0].Handle("PING", func([]string) resptest.Reply {
		return resptest.Reply{Value: resp.Value{Kind: resp.KindSimpleString, Str: "PONG"}, Delay: 100 * time.Millisecond}
	})
	fc.nodes[1].Handle("GET", bulkFrom("r"))
	var suspects atomic.Int64
	e := newFakeEngine(t, fc, Options{
		Conn: conn.Options{HealthTimeout: 300 * time.Millisecond, BusyTimeout: time.Minute},
		OnEvent: func(ev Event) {
			if ev.Kind == NodeSuspect {
				suspects.Add(1)
			}
		},
	})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-p" {
		t.Fatalf("GET before the stall = %v, %v", v, err)
	}
	replica := fc.nodes[1]
	roles := replica.Count("ROLE")
	stalled.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stuck := make(chan error, 1)
	go func() {
		_, err := e.Do(ctx, "GET", "k")
		stuck <- err
	}()
	testutil.WaitFor(t, 5*time.Second, "the replica is probed with ROLE 3 times", func() bool {
		return replica.Count("ROLE") >= roles+3
	})
	fc.setView(oneShard(2, r, p)) // the cluster fails over
	testutil.WaitFor(t, 5*time.Second, "the replica's promotion is installed", func() bool {
		sh, ok := e.topo.Load().ShardFor(0)
		return ok && sh.Primary.Addr == r
	})
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-r" {
		t.Fatalf("GET after the promotion = %v, %v; want the new primary's reply", v, err)
	}
	testutil.WaitFor(t, 5*time.Second, "a probe finds the stalled node busy", func() bool {
		return e.Stats().BusyWaits > 0
	})
	st := e.Stats()
	if n := suspects.Load(); n > 0 || st.SuspectNodes > 0 || st.IncidentMode {
		t.Fatalf("%d suspect events, %d suspect nodes, incident mode %v; want none for a node in doubt", n, st.SuspectNodes, st.IncidentMode)
	}
	select {
	case err := <-stuck:
		t.Fatalf("the request on the stalled connection ended (%v); want it still waiting", err)
	default:
	}
}
