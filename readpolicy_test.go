package keel_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

var cmdstatGet = regexp.MustCompile(`cmdstat_get:calls=(\d+)`)

func TestReadReplicaPreferredReadsFromReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := sharedCluster(t)
	writer := newClient(t, c, keel.Options{})
	// keel reads only from replicas the cluster reports online; Redis 7.0
	// reports a fresh replica as loading until its replication offset has
	// been gossiped, so refresh often here to see that soon.
	reader := newClient(t, c, keel.Options{ReadPolicy: keel.ReadReplicaPreferred, RefreshInterval: 200 * time.Millisecond})
	key := lab.KeyInSlot(100, "replica-read")
	if err := writer.Set(ctx, key, "v"); err != nil {
		t.Fatal(err)
	}
	_, replica := primaryAndReplica(t, ctx, c, 100)
	testutil.WaitFor(t, 15*time.Second, "a read of the value reaches the replica", func() bool {
		before := nodeCalls(t, ctx, replica, cmdstatGet)
		v, err := reader.Get(ctx, key)
		return err == nil && v == "v" && nodeCalls(t, ctx, replica, cmdstatGet) > before
	})
	before := nodeCalls(t, ctx, replica, cmdstatGet)
	for range 50 {
		if _, err := reader.Get(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if served := nodeCalls(t, ctx, replica, cmdstatGet) - before; served < 50 {
		t.Fatalf("the replica served %d GETs, want at least 50", served)
	}
	nearest := newClient(t, c, keel.Options{ReadPolicy: keel.ReadNearest})
	if _, err := nearest.Get(ctx, key); err != nil {
		t.Fatalf("nearest read: %v", err)
	}
}

// With ReadPrimaryPreferred, reads keep working from a replica while the
// primary hangs, before the cluster has failed it over.
func TestReadPrimaryPreferredFallsBackWhilePrimarySuspect(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 1, Replicas: 1, NodeTimeout: 5 * time.Second})
	cl := newClient(t, c, keel.Options{ReadPolicy: keel.ReadPrimaryPreferred})
	if err := cl.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	p, replica := primaryAndReplica(t, ctx, c, 0)
	if err := c.WaitStable(ctx); err != nil { // the replica has the key
		t.Fatal(err)
	}
	step, err := c.Pause(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = c.Resume(p) }()
	readCtx, readCancel := context.WithTimeout(ctx, 3*time.Second) // well before the 5 s node timeout
	defer readCancel()
	v, err := cl.Get(readCtx, "k")
	if err != nil || v != "v" {
		t.Fatalf("read while the primary hangs: %q, %v", v, err)
	}
	t.Logf("read served %v after the primary hung (health timeout 1s), before any failover", time.Since(step.Began).Round(time.Millisecond))
	if gets := nodeCalls(t, ctx, replica, cmdstatGet); gets == 0 {
		t.Fatal("the replica served no GET")
	}
}

// primaryAndReplica returns the primary of slot and its first replica.
func primaryAndReplica(t *testing.T, ctx context.Context, c *lab.Cluster, slot int) (primary, replica *lab.Node) {
	t.Helper()
	p, err := c.PrimaryFor(ctx, slot)
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := c.ReplicasOf(ctx, p)
	if err != nil || len(replicas) == 0 {
		t.Fatalf("replicas of %s: %v, %v", p, replicas, err)
	}
	return p, replicas[0]
}

// nodeCalls reads from a node's INFO commandstats, asking the node itself
// through lab, the calls of the commands cmdstat matches (its one group is
// a calls= count), summed.
func nodeCalls(t *testing.T, ctx context.Context, n *lab.Node, cmdstat *regexp.Regexp) int64 {
	t.Helper()
	text, err := n.Info(ctx, "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, m := range cmdstat.FindAllStringSubmatch(text, -1) {
		calls, _ := strconv.ParseInt(m[1], 10, 64)
		total += calls
	}
	return total
}
