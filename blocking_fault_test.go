package keel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// TestBlockingFaults blocks calls through faults on a cluster of its own,
// in turn: a lost connection, a slot migration, a graceful failover, a hung
// primary and a killed one. Next to keel's call, a raw connection blocked the same
// way shows what Redis 7.0 itself sends to a blocked client.
func TestBlockingFaults(t *testing.T) {
	testutil.SkipIfShort(t)
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 2, Replicas: 1})
	cl := newClient(t, c, keel.Options{})
	ctx := testutil.Context(t, 2*time.Minute)
	key := func(name string) string { return lab.KeyInSlot(blockSlot, t.Name()+":"+name) }
	owner := func() *lab.Node {
		n, err := c.PrimaryFor(ctx, blockSlot)
		must(t, err)
		return n
	}

	t.Run("ConnLost", func(t *testing.T) {
		addr := owner().Addr()
		list, stream := key("lost"), key("stream")
		pop := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, list) })
		waitBlocked(ctx, t, cl, addr, 1)
		killBlockedConn(ctx, t, cl, addr, "blpop")
		r := receive(t, pop, 10*time.Second, "BLPOP on a killed connection")
		if !errors.Is(r.err, keel.ErrUnknownOutcome) {
			t.Errorf("BLPOP on a killed connection = %+v, %v; want ErrUnknownOutcome", r.v, r.err)
		}
		// XREAD takes nothing: it is sent again, and served.
		read := goRun(func() ([]keel.XStream, error) {
			return cl.XRead(ctx, keel.XReadArgs{Streams: []string{stream}, IDs: []string{"$"}, Block: keel.BlockForever})
		})
		waitBlocked(ctx, t, cl, addr, 1)
		killBlockedConn(ctx, t, cl, addr, "xread")
		waitBlocked(ctx, t, cl, addr, 1) // re-issued
		_, err := cl.XAdd(ctx, keel.XAddArgs{Stream: stream, Values: []any{"f", "v"}})
		must(t, err)
		if r := receive(t, read, 10*time.Second, "XREAD after its connection was killed"); r.err != nil || len(r.v) != 1 {
			t.Errorf("XREAD re-issued = %+v, %v; want the entry", r.v, r.err)
		}
	})

	t.Run("SlotMigration", func(t *testing.T) {
		from := owner()
		list := key("migrated")
		raw := rawBlock(ctx, t, from.Addr(), list)
		pop := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, list) })
		waitBlocked(ctx, t, cl, from.Addr(), 2)
		primaries, err := c.Primaries(ctx)
		must(t, err)
		to := primaries[0]
		if to == from {
			to = primaries[1]
		}
		_, err = c.MigrateSlots(ctx, []int{blockSlot}, from, to, lab.MigrateOptions{})
		must(t, err)
		// Redis redirects a client blocked on a slot it no longer serves.
		rr := receive(t, raw, 10*time.Second, "raw BLPOP at migration")
		t.Logf("Redis 7.0 to a client blocked on a migrated slot: %v, %v", rr.v, rr.err)
		if !errors.Is(rr.err, resp.ErrMoved) {
			t.Errorf("raw BLPOP at migration: %v, %v; want MOVED", rr.v, rr.err)
		}
		waitBlocked(ctx, t, cl, to.Addr(), 1) // keel re-issued it on the new owner
		_, err = cl.RPush(ctx, list, "x")
		must(t, err)
		if r := receive(t, pop, 10*time.Second, "BLPOP across a migration"); r.err != nil || r.v.Value != "x" {
			t.Errorf("BLPOP across a migration = %+v, %v; want x", r.v, r.err)
		}
	})

	t.Run("Failover", func(t *testing.T) {
		old := owner()
		list := key("failover")
		raw := rawBlock(ctx, t, old.Addr(), list)
		pop := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, list) })
		waitBlocked(ctx, t, cl, old.Addr(), 2)
		replicas, err := c.ReplicasOf(ctx, old)
		must(t, err)
		_, err = c.Failover(ctx, replicas[0], lab.FailoverGraceful)
		must(t, err)
		rr := receive(t, raw, 10*time.Second, "raw BLPOP at failover")
		t.Logf("Redis 7.0 to a client blocked on a primary failed over: %v, %v", rr.v, rr.err)
		if rr.err == nil || !strings.HasPrefix(rr.err.Error(), "UNBLOCKED") {
			t.Errorf("raw BLPOP at failover: %v, %v; want UNBLOCKED", rr.v, rr.err)
		}
		waitBlocked(ctx, t, cl, replicas[0].Addr(), 1) // re-issued on the new primary
		_, err = cl.RPush(ctx, list, "y")
		must(t, err)
		if r := receive(t, pop, 10*time.Second, "BLPOP across a failover"); r.err != nil || r.v.Value != "y" {
			t.Errorf("BLPOP across a failover = %+v, %v; want y", r.v, r.err)
		}
	})

	t.Run("HungPrimary", func(t *testing.T) {
		// A hung node keeps its connections open: keel notices through its
		// shared connection's health check, suspects the node and closes
		// the blocked call's connection rather than wait on it.
		primary := owner()
		list := key("hung")
		pop := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, list) })
		waitBlocked(ctx, t, cl, primary.Addr(), 1)
		start := time.Now()
		_, err := c.Pause(primary)
		must(t, err)
		r := receive(t, pop, 10*time.Second, "BLPOP on a hung primary")
		t.Logf("BLPOP on a hung primary returned after %v: %v", time.Since(start), r.err)
		_, rerr := c.Resume(primary)
		must(t, rerr)
		if !errors.Is(r.err, keel.ErrUnknownOutcome) {
			t.Errorf("BLPOP on a hung primary = %+v, %v; want ErrUnknownOutcome", r.v, r.err)
		}
		must(t, c.WaitStable(ctx))
	})

	t.Run("KilledPrimary", func(t *testing.T) {
		primary := owner()
		list := key("killed")
		pop := goRun(func() (keel.KeyValue, error) { return cl.BLPop(ctx, 0, list) })
		waitBlocked(ctx, t, cl, primary.Addr(), 1)
		start := time.Now()
		_, err := c.Kill(primary)
		must(t, err)
		r := receive(t, pop, 10*time.Second, "BLPOP on a killed primary")
		if !errors.Is(r.err, keel.ErrUnknownOutcome) {
			t.Errorf("BLPOP on a killed primary = %+v, %v; want ErrUnknownOutcome", r.v, r.err)
		}
		t.Logf("BLPOP on a killed primary returned after %v", time.Since(start))
	})
}

// killBlockedConn kills, with CLIENT KILL, the connection on which the
// node at addr runs the blocked command cmd (lower case, as CLIENT LIST
// shows it).
func killBlockedConn(ctx context.Context, t *testing.T, cl *keel.Client, addr, cmd string) {
	t.Helper()
	n, err := cl.Node(addr)
	must(t, err)
	v, err := n.Do(ctx, "CLIENT", "LIST")
	must(t, err)
	list, _ := v.Text()
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " cmd="+cmd+" ") && strings.HasPrefix(line, "id=") {
			id := strings.Fields(line)[0][len("id="):]
			_, err := n.Do(ctx, "CLIENT", "KILL", "ID", id)
			must(t, err)
			return
		}
	}
	t.Fatalf("no connection running %s on %s:\n%s", cmd, addr, list)
}

// rawBlock blocks BLPOP key 0 on a plain connection to addr, which keel's
// routing does not manage: its reply is what Redis sends.
func rawBlock(ctx context.Context, t *testing.T, addr, key string) <-chan callResult[resp.Value] {
	t.Helper()
	rc, err := conn.Dial(ctx, addr, conn.Options{HealthTimeout: -1})
	must(t, err)
	t.Cleanup(func() { _ = rc.Close() })
	return goRun(func() (resp.Value, error) { return rc.Do(ctx, "BLPOP", key, "0") })
}
