package cluster

import (
	"fmt"
	"testing"

	"github.com/keel-go/keel/internal/resptest"
)

// A request redirected twice (MOVED, then ASK) is observed as three
// attempts, two redirects, served by the last node; each node's counters
// show its own share: a send each, a redirect from the first two, and
// retries on the second and third.
func TestObservationFollowsRedirects(t *testing.T) {
	fc := newFakeCluster(t, 3)
	a, b, c := fc.addr(0), fc.addr(1), fc.addr(2)
	fc.setView(oneShard(1, a))
	slot := Slot("k")
	fc.nodes[0].Handle("GET", func([]string) resptest.Reply {
		fc.setView(oneShard(2, b))
		return resptest.Err(fmt.Sprintf("MOVED %d %s", slot, b))
	})
	fc.nodes[1].Handle("GET", func([]string) resptest.Reply {
		return resptest.Err(fmt.Sprintf("ASK %d %s", slot, c))
	})
	fc.nodes[2].Handle("GET", bulkFrom("c"))
	e := newFakeEngine(t, fc, Options{})
	var obs Observation
	v, err := e.DoObserved(testCtx(t), &obs, []string{"GET", "k"})
	if err != nil || v.Str != "from-c" {
		t.Fatalf("GET = %v, %v; want the third node's reply", v, err)
	}
	if obs.Node != c || obs.Attempts != 3 || obs.Redirects != 2 {
		t.Errorf("observation = %+v; want node %s, 3 attempts, 2 redirects", obs, c)
	}
	want := map[string]NodeStats{
		a: {Addr: a, Requests: 1, Redirects: 1},
		b: {Addr: b, Requests: 1, Redirects: 1, Retries: 1},
		c: {Addr: c, Requests: 1, Retries: 1},
	}
	for _, s := range e.NodeStats() {
		w, ok := want[s.Addr]
		if !ok {
			continue
		}
		delete(want, s.Addr)
		if s.Requests != w.Requests || s.Redirects != w.Redirects || s.Retries != w.Retries || s.Errors != 0 {
			t.Errorf("node %s: %+v; want %+v", s.Addr, s, w)
		}
		if !s.Connected || s.Dials < 1 {
			t.Errorf("node %s: connected %v after %d dials; want connected", s.Addr, s.Connected, s.Dials)
		}
	}
	if len(want) > 0 {
		t.Errorf("NodeStats lacks %v", want)
	}
}

// A pipeline whose commands all go to one node is one attempt there; one
// whose command is redirected adds the redirect, and that command's own
// attempt and node.
func TestObservationOfPipeline(t *testing.T) {
	fc := newFakeCluster(t, 2)
	a, b := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, a))
	fc.nodes[0].Handle("GET", bulkFrom("a"))
	e := newFakeEngine(t, fc, Options{})
	var obs Observation
	results := e.PipelineObserved(testCtx(t), &obs, [][]string{{"GET", "k1"}, {"GET", "k2"}})
	for i, r := range results {
		if r.Err != nil || r.Value.Str != "from-a" {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if len(obs.Nodes) != 1 || obs.Nodes[0] != a || obs.Attempts != 1 || obs.Redirects != 0 {
		t.Errorf("observation = %+v; want one attempt on %s", obs, a)
	}

	slot := Slot("k3")
	fc.nodes[0].Handle("GET", func(args []string) resptest.Reply {
		if args[1] == "k3" {
			return resptest.Err(fmt.Sprintf("MOVED %d %s", slot, b))
		}
		return resptest.Bulk("from-a")
	})
	fc.nodes[1].Handle("GET", bulkFrom("b"))
	obs = Observation{}
	results = e.PipelineObserved(testCtx(t), &obs, [][]string{{"GET", "k1"}, {"GET", "k3"}})
	if results[1].Err != nil || results[1].Value.Str != "from-b" {
		t.Fatalf("redirected result = %+v", results[1])
	}
	if len(obs.Nodes) != 2 || obs.Nodes[0] != a || obs.Nodes[1] != b || obs.Attempts != 2 || obs.Redirects != 1 {
		t.Errorf("observation = %+v; want nodes [%s %s], 2 attempts (the batch, then k3 alone), 1 redirect", obs, a, b)
	}
}
