package lab

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// waitEvent polls w's events until one satisfies match, and returns it.
func waitEvent(ctx context.Context, t *testing.T, w *Watcher, what string, match func(WatchEvent) bool) WatchEvent {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if i := slices.IndexFunc(w.Events(), match); i >= 0 {
			return w.Events()[i]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s event: %v; events %v", what, ctx.Err(), w.Events())
		case <-tick.C:
		}
	}
}

func firstSlotsOf(topo Topology) []int {
	var out []int
	for _, sh := range topo.Shards {
		out = append(out, sh.Slots[0].Start)
	}
	return out
}

func TestWatchTargetKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slots := firstSlotsOf(topo)
	lw, err := c.Watch(ctx, WatchOptions{Slots: slots})
	if err != nil {
		t.Fatal(err)
	}
	defer lw.Close()
	// No slots: the watcher discovers the first slot of each shard itself.
	w, err := WatchTarget(ctx, Target{Seeds: c.Addrs()[:1]}, WatchOptions{Interval: 50 * time.Millisecond, ProbeTimeout: 200 * time.Millisecond, MembersEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	initial := w.Events()
	for i, sh := range topo.Shards {
		if !slices.ContainsFunc(initial, func(e WatchEvent) bool {
			return e.Kind == "served" && e.Slot == slots[i] && e.Node == sh.Primary.Addr()
		}) {
			t.Errorf("no initial served event for slot %d by %s: %v", slots[i], sh.Primary.Addr(), initial)
		}
	}
	for _, n := range c.Nodes() {
		if !slices.ContainsFunc(initial, func(e WatchEvent) bool { return e.Kind == "role" && e.Node == n.Addr() }) {
			t.Errorf("no initial role event for %s: %v", n, initial)
		}
	}

	p, r := topo.Shards[0].Primary, topo.Shards[0].Replicas[0]
	step, err := c.Kill(p)
	if err != nil {
		t.Fatal(err)
	}
	slot := slots[0]
	after := func(kind string) func(WatchEvent) bool {
		return func(e WatchEvent) bool { return e.Kind == kind && e.Slot == slot && !e.At.Before(step.Began) }
	}
	served := waitEvent(ctx, t, w, "served", after("served"))
	unserved := waitEvent(ctx, t, w, "unserved", after("unserved"))
	if served.Node != r.Addr() || unserved.At.After(served.At) {
		t.Errorf("after the kill: %+v then %+v, want unserved then served by the replica %s", unserved, served, r.Addr())
	}
	waitEvent(ctx, t, w, "role master", func(e WatchEvent) bool {
		return e.Kind == "role" && e.Node == r.Addr() && e.Detail == "master" && !e.At.Before(step.Began)
	})
	labAt, labNode, err := lw.WaitServed(ctx, slot, step.Began)
	if err != nil {
		t.Fatal(err)
	}
	diff := served.At.Sub(labAt)
	t.Logf("kill → unserved after %v, served by %s after %v; lab's watcher: by %s after %v (difference %v)",
		unserved.At.Sub(step.Began), served.Node, served.At.Sub(step.Began), labNode, labAt.Sub(step.Began), diff)
	if labNode != served.Node || diff.Abs() > 300*time.Millisecond {
		t.Errorf("served by %s at %v, lab's watcher says %s at %v", served.Node, served.At, labNode, labAt)
	}
	for _, e := range w.Events() {
		if e.Kind != "role" && e.Slot != slot && !e.At.Before(step.Began) {
			t.Errorf("event for another shard after the kill: %+v", e)
		}
	}

	lw.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Close() // idempotent
	goleak.VerifyNone(t, ignore)
}

// TestWatchTargetNewAddresses restarts the whole cluster on new addresses,
// found only through the seed's name.
func TestWatchTargetNewAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := StartClusterT(t, ClusterOptions{Shards: 3, DistinctHosts: true})
	dns, err := c.ServeDNS("cluster.drill.test")
	if err != nil {
		t.Fatal(err)
	}
	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	old := c.Addrs()
	w, err := WatchTarget(ctx, Target{Seeds: []string{c.Seed()}, Resolver: dns.Resolver()},
		WatchOptions{Interval: 50 * time.Millisecond, ProbeTimeout: 200 * time.Millisecond, MembersEvery: 200 * time.Millisecond, Slots: []int{0, 16383}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	step, err := c.RestartAll(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range []int{0, 16383} {
		e := waitEvent(ctx, t, w, fmt.Sprint("served ", slot), func(e WatchEvent) bool {
			return e.Kind == "served" && e.Slot == slot && !e.At.Before(step.Began) && !slices.Contains(old, e.Node)
		})
		t.Logf("slot %d served by %s at %v after the restart began (restart took %v)", slot, e.Node, e.At.Sub(step.Began), step.Took())
	}
	// The old members are forgotten and every new one has reported its role.
	want := c.Addrs()
	slices.Sort(want)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		w.mu.Lock()
		var known []string
		for addr := range w.roles {
			known = append(known, addr)
		}
		w.mu.Unlock()
		slices.Sort(known)
		if slices.Equal(known, want) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("members with a role: %v, want %v", known, want)
		case <-tick.C:
		}
	}
	w.Close()
	// RestartAll started new redis-server processes, with their waiters.
	goleak.VerifyNone(t, ignore, goleak.IgnoreAnyFunction("github.com/keel-go/keel/lab.launch.func1"))
}
