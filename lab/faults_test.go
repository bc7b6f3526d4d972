package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// These tests break real 3-shard clusters with one replica per shard and
// node timeout 1 s. Each test starts one cluster and injects several faults
// into it, because starting a cluster is the expensive part.

func TestClusterKillRestart(t *testing.T) {
	skipIfShort(t)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	ctx := testCtx(t, 90*time.Second)
	w := startWatcherT(t, c)
	p, r := shardNodes(t, ctx, c, 0)
	id := p.ID()

	step, err := c.Kill(p)
	if err != nil {
		t.Fatal(err)
	}
	if step.Action != "kill" || step.Node != p.Addr() || step.Done.Before(step.Began) {
		t.Fatalf("Kill step = %+v", step)
	}
	if p.Running() {
		t.Fatal("killed node still Running")
	}
	if _, err := c.Kill(p); err == nil {
		t.Fatal("Kill of a killed node succeeded")
	}
	at, addr, err := w.WaitServed(ctx, 0, step.Began)
	if err != nil {
		t.Fatal(err)
	}
	if addr != r.Addr() {
		t.Fatalf("slot 0 served by %s after the kill, want the replica %s", addr, r.Addr())
	}
	t.Logf("kill → slot 0 served by the replica after %v (node timeout %v)", at.Sub(step.Began), c.Options().NodeTimeout)
	if err := c.WaitStable(ctx); err != nil {
		t.Fatalf("WaitStable with a killed node: %v", err)
	}
	view, err := r.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pi, ok := view.byID(id); !ok || !pi.Has("fail") {
		t.Fatalf("new primary sees the killed node as %v, want fail", pi.Flags)
	}

	restart, err := c.Restart(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restart of the killed node took %v", restart.Took())
	if !p.Running() || p.ID() != id {
		t.Fatalf("after Restart: running %v, id %s, want running with id %s", p.Running(), p.ID(), id)
	}
	waitReplicaOf(t, ctx, c, p, r, "the restarted node")
	if err := c.WaitStable(ctx); err != nil {
		t.Fatal(err)
	}
	waitWatchEvent(t, ctx, w, "the restarted node to report role slave", func(e WatchEvent) bool {
		return e.Kind == "role" && e.Node == p.Addr() && e.Detail == "slave" && !e.At.Before(restart.Began)
	})
}

func TestClusterFailover(t *testing.T) {
	skipIfShort(t)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	ctx := testCtx(t, 120*time.Second)
	// Everything running now belongs to the cluster; the watcher must add
	// nothing that outlives its Close.
	beforeWatch := goleak.IgnoreCurrent()
	w, err := c.Watch(ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := c.Failover(ctx, top.Shards[0].Primary, FailoverGraceful); err == nil {
		t.Fatal("Failover of a primary succeeded")
	}

	t.Run("graceful under writes", func(t *testing.T) {
		p, r := shardNodes(t, ctx, c, 0)
		keys := keysAcross(top.Shards[0].Slots[0], 1000)
		started, failedOver := make(chan struct{}), make(chan struct{})
		type result struct {
			stats writeStats
			err   error
		}
		done := make(chan result, 1)
		go func() {
			stats, err := writeKeysPaced(ctx, p.Addr(), keys, started, failedOver)
			done <- result{stats, err}
		}()
		select {
		case <-started:
		case res := <-done:
			t.Fatalf("writer ended early: %v", res.err)
		}
		step, err := c.Failover(ctx, r, FailoverGraceful)
		close(failedOver)
		res := <-done
		if err != nil {
			t.Fatal(err)
		}
		if res.err != nil {
			t.Fatal(res.err)
		}
		t.Logf("graceful failover took %v; %d writes acknowledged, %d redirected by MOVED, %d retried",
			step.Took(), len(keys), res.stats.redirected, res.stats.retried)
		if step.Action != "failover" || step.Node != r.Addr() {
			t.Fatalf("step = %+v", step)
		}
		if lost := countLost(t, r.Addr(), keys); lost > 0 {
			t.Fatalf("%d of %d acknowledged writes are missing on the new primary", lost, len(keys))
		}
		if np, err := c.PrimaryFor(ctx, 0); err != nil || np != r {
			t.Fatalf("PrimaryFor(0) = %v, %v; want %v", np, err, r)
		}
		if _, addr, err := w.WaitServed(ctx, 0, step.Began); err != nil || addr != r.Addr() {
			t.Fatalf("WaitServed = %q, %v; want %s", addr, err, r.Addr())
		}
		waitWatchEvent(t, ctx, w, "the replica to report role master", func(e WatchEvent) bool {
			return e.Kind == "role" && e.Node == r.Addr() && e.Detail == "master" && !e.At.Before(step.Began)
		})
		waitWatchEvent(t, ctx, w, "the old primary to report role slave", func(e WatchEvent) bool {
			return e.Kind == "role" && e.Node == p.Addr() && e.Detail == "slave" && !e.At.Before(step.Began)
		})
		if err := c.WaitStable(ctx); err != nil {
			t.Fatal(err)
		}
	})

	for i, mode := range []FailoverMode{FailoverForce, FailoverTakeover} {
		t.Run(mode.String(), func(t *testing.T) {
			slot := top.Shards[i+1].Slots[0].Start
			_, r := shardNodes(t, ctx, c, slot)
			step, err := c.Failover(ctx, r, mode)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v took %v", mode, step.Took())
			if step.Action != mode.String() {
				t.Fatalf("Action = %q, want %q", step.Action, mode.String())
			}
			if np, err := c.PrimaryFor(ctx, slot); err != nil || np != r {
				t.Fatalf("PrimaryFor(%d) = %v, %v; want %v", slot, np, err, r)
			}
			if err := c.WaitStable(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("watcher close", func(t *testing.T) {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		goleak.VerifyNone(t, beforeWatch)
		if _, _, err := w.WaitServed(ctx, 0, time.Now()); err == nil {
			t.Fatal("WaitServed on a closed watcher succeeded")
		}
	})
}

func TestClusterPauseResume(t *testing.T) {
	skipIfShort(t)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	ctx := testCtx(t, 90*time.Second)
	w := startWatcherT(t, c)
	p, r := shardNodes(t, ctx, c, 0)

	pause, err := c.Pause(p)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Running() {
		t.Fatal("paused node not Running")
	}
	at, addr, err := w.WaitServed(ctx, 0, pause.Began)
	if err != nil {
		t.Fatal(err)
	}
	if addr != r.Addr() {
		t.Fatalf("slot 0 served by %s after the pause, want the replica %s", addr, r.Addr())
	}
	i := slices.IndexFunc(w.Events(), func(e WatchEvent) bool {
		return e.Kind == "unserved" && e.Slot == 0 && !e.At.Before(pause.Began) && !e.At.After(at)
	})
	if i < 0 {
		t.Fatalf("no unserved event for slot 0 between the pause and %v: %v", at, w.Events())
	}
	unserved := w.Events()[i].At
	t.Logf("pause → slot 0 unserved after %v, served by the replica after %v (node timeout %v)",
		unserved.Sub(pause.Began), at.Sub(pause.Began), c.Options().NodeTimeout)

	resume, err := c.Resume(p)
	if err != nil {
		t.Fatal(err)
	}
	waitReplicaOf(t, ctx, c, p, r, "the resumed node")
	t.Logf("resume → old primary is a replica after %v", time.Since(resume.Began))
	if err := c.WaitStable(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFailoverModeString(t *testing.T) {
	for mode, want := range map[FailoverMode]string{
		FailoverGraceful: "failover", FailoverForce: "failover-force", FailoverTakeover: "failover-takeover", 7: "FailoverMode(7)",
	} {
		if got := mode.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(mode), got, want)
		}
	}
}

// startWatcherT watches c with default options until the test ends.
func startWatcherT(t *testing.T, c *Cluster) *Watcher {
	t.Helper()
	w, err := c.Watch(context.Background(), WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// shardNodes returns the primary serving slot and its only replica.
func shardNodes(t *testing.T, ctx context.Context, c *Cluster, slot int) (primary, replica *Node) {
	t.Helper()
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sh, ok := top.ShardFor(slot)
	if !ok || sh.Primary == nil || len(sh.Replicas) != 1 {
		t.Fatalf("shard of slot %d = %+v, want a primary and one replica", slot, sh)
	}
	return sh.Primary, sh.Replicas[0]
}

// waitReplicaOf waits until node (named by what in the failure) is a
// replica of primary.
func waitReplicaOf(t *testing.T, ctx context.Context, c *Cluster, node, primary *Node, what string) {
	t.Helper()
	err := poll(ctx, what+" to replicate the new primary", func() error {
		replicas, err := c.ReplicasOf(ctx, primary)
		if err != nil {
			return err
		}
		if !slices.Contains(replicas, node) {
			return fmt.Errorf("replicas of %s are %v", primary, replicas)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitWatchEvent waits until the watcher has recorded an event matching want.
func waitWatchEvent(t *testing.T, ctx context.Context, w *Watcher, what string, want func(WatchEvent) bool) {
	t.Helper()
	err := poll(ctx, what, func() error {
		if slices.ContainsFunc(w.Events(), want) {
			return nil
		}
		return errors.New("no such event yet")
	})
	if err != nil {
		t.Fatalf("%v; events: %v", err, w.Events())
	}
}

// keysAcross returns count keys spread evenly over the slots of r.
func keysAcross(r SlotRange, count int) []string {
	keys := make([]string, count)
	for i := range keys {
		slot := r.Start + i*(r.End-r.Start+1)/count
		keys[i] = KeyInSlot(slot, "k"+strconv.Itoa(i))
	}
	return keys
}

type writeStats struct{ redirected, retried int }

// writeKeysPaced sets keys[i] to its index through the primary at addr,
// following MOVED and retrying other failures until each is acknowledged.
// After a third of the keys it closes started and then writes one key every
// 2 ms until done is closed, so the writes span the failover.
func writeKeysPaced(ctx context.Context, addr string, keys []string, started chan<- struct{}, done <-chan struct{}) (writeStats, error) {
	var stats writeStats
	var rc *rawConn
	defer func() {
		if rc != nil {
			rc.Close()
		}
	}()
	pace := time.NewTicker(2 * time.Millisecond)
	defer pace.Stop()
	for i, key := range keys {
		if i == len(keys)/3 {
			close(started)
		}
		if i > len(keys)/3 {
			select {
			case <-done:
			case <-pace.C:
			}
		}
		for {
			err := ctx.Err()
			if err == nil && rc == nil {
				rc, err = dialRaw(ctx, addr, nil)
			}
			if err == nil {
				_, err = callWithin(rc, "SET", key, strconv.Itoa(i))
			}
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return stats, fmt.Errorf("SET %s: %w", key, err)
			}
			if rc != nil {
				rc.Close()
				rc = nil
			}
			if to, ok := movedTo(err); ok {
				addr = to
				stats.redirected++
				continue
			}
			stats.retried++
			<-pace.C // do not spin while the cluster settles
		}
	}
	return stats, nil
}

// countLost reads keys from addr and counts those that do not hold the
// value writeKeysPaced gave them.
func countLost(t *testing.T, addr string, keys []string) int {
	t.Helper()
	rc, err := dialRaw(context.Background(), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lost := 0
	for i, key := range keys {
		v, err := callWithin(rc, "GET", key)
		if err != nil {
			t.Fatalf("GET %s from %s: %v", key, addr, err)
		}
		if v != strconv.Itoa(i) {
			lost++
		}
	}
	return lost
}

// callWithin is rawConn.call bounded by ioTimeout.
func callWithin(rc *rawConn, args ...string) (any, error) {
	if err := rc.conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return nil, err
	}
	return rc.call(args...)
}

// movedTo returns the address of a MOVED redirection.
func movedTo(err error) (string, bool) {
	var re ReplyError
	if !errors.As(err, &re) || !strings.HasPrefix(string(re), "MOVED ") {
		return "", false
	}
	f := strings.Fields(string(re))
	return f[len(f)-1], true
}
