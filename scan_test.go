package keel_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// uniquePrefix returns a key prefix no other test or run uses, so that a scan
// with MATCH prefix* sees this test's keys only.
func uniquePrefix(name string) string {
	return fmt.Sprintf("%s-%x:", name, rand.Uint64())
}

// writeKeys sets n string keys prefix0 … prefix(n-1) with a pipeline and
// returns them.
func writeKeys(t *testing.T, cl *keel.Client, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	p := cl.Pipeline()
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
		p.Do("SET", keys[i], i)
	}
	for _, r := range p.Exec(context.Background()) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return keys
}

// collect ranges over seq and returns how often each element came; it fails
// the test on an error.
func collect[T comparable](t *testing.T, seq func(func(T, error) bool)) map[T]int {
	t.Helper()
	got := map[T]int{}
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got[v]++
	}
	return got
}

// checkAll fails the test unless every one of want was returned.
func checkAll(t *testing.T, got map[string]int, want []string) {
	t.Helper()
	missing := 0
	for _, k := range want {
		if got[k] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d keys missing from the scan (got %d distinct)", missing, len(want), len(got))
	}
}

func TestScanEveryShard(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	prefix := uniquePrefix("scan")
	keys := writeKeys(t, cl, prefix, 600)

	// The keys cover every shard, so a scan of one would not pass.
	top, err := c.Topology(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	perShard := map[*lab.Node]int{}
	for _, k := range keys {
		sh, _ := top.ShardFor(lab.KeySlot(k))
		perShard[sh.Primary]++
	}
	if len(perShard) != 3 {
		t.Fatalf("keys on %d shards, want 3", len(perShard))
	}

	for _, count := range []int64{0, 1, 1000} {
		t.Run("count="+strconv.FormatInt(count, 10), func(t *testing.T) {
			got := collect(t, cl.Scan(context.Background(), keel.ScanOptions{Match: prefix + "*", Count: count}))
			checkAll(t, got, keys)
			if len(got) != len(keys) {
				t.Fatalf("%d distinct keys, want %d: MATCH let others through", len(got), len(keys))
			}
		})
	}
}

func TestScanMatchAndType(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := context.Background()
	prefix := uniquePrefix("scantype")
	strs := writeKeys(t, cl, prefix+"s", 50)
	var hashes []string
	for i := range 50 {
		k := prefix + "h" + strconv.Itoa(i)
		if _, err := cl.HSet(ctx, k, "f", "v"); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, k)
	}

	got := collect(t, cl.Scan(ctx, keel.ScanOptions{Match: prefix + "*", Type: "hash", Count: 100}))
	checkAll(t, got, hashes)
	if len(got) != len(hashes) {
		t.Fatalf("TYPE hash gave %d keys, want the %d hashes", len(got), len(hashes))
	}

	got = collect(t, cl.Scan(ctx, keel.ScanOptions{Match: prefix + "s*", Count: 100}))
	checkAll(t, got, strs)
	if len(got) != len(strs) {
		t.Fatalf("MATCH %ss* gave %d keys, want the %d strings", prefix, len(got), len(strs))
	}

	got = collect(t, cl.Scan(ctx, keel.ScanOptions{Match: prefix + "nothing*"}))
	if len(got) != 0 {
		t.Fatalf("a pattern nothing matches gave %d keys", len(got))
	}
}

func TestScanBadOptions(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := context.Background()
	check := func(name string, seq func(func(string, error) bool)) {
		t.Helper()
		n := 0
		for _, err := range seq {
			n++
			if !errors.Is(err, keel.ErrArgument) {
				t.Fatalf("%s: got %v, want ErrArgument", name, err)
			}
		}
		if n != 1 {
			t.Fatalf("%s: %d yields, want the error once", name, n)
		}
	}
	check("negative Count", cl.Scan(ctx, keel.ScanOptions{Count: -1}))
	check("SScan with Type", cl.SScan(ctx, "k", keel.ScanOptions{Type: "set"}))
	for _, err := range cl.HScan(ctx, "k", keel.ScanOptions{Type: "hash"}) {
		if !errors.Is(err, keel.ErrArgument) {
			t.Fatalf("HScan with Type: %v, want ErrArgument", err)
		}
	}
}

func TestScanBreakEarly(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	prefix := uniquePrefix("scanbreak")
	writeKeys(t, cl, prefix, 100)
	n := 0
	for _, err := range cl.Scan(context.Background(), keel.ScanOptions{Match: prefix + "*", Count: 1000}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 3 {
			break // the iterator must not call yield again: range would panic
		}
	}
	if n != 3 {
		t.Fatalf("%d keys before the break, want 3", n)
	}
	// The client still works, and goleak checks after the tests that the
	// scan left nothing running.
	if err := cl.Set(context.Background(), prefix+"after", "1"); err != nil {
		t.Fatal(err)
	}
}

func TestScanCancelledContext(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for key, err := range cl.Scan(ctx, keel.ScanOptions{}) {
		if err == nil {
			t.Fatalf("key %q from a cancelled scan", key)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("errors %v, want context.Canceled once", errs)
	}
	for _, err := range cl.ZScan(ctx, "k", keel.ScanOptions{}) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("ZScan: %v, want context.Canceled", err)
		}
	}
}

func TestScanClosedClient(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range cl.Scan(context.Background(), keel.ScanOptions{}) {
		n++
		if !errors.Is(err, keel.ErrClosed) {
			t.Fatalf("Scan after Close: %v, want ErrClosed", err)
		}
	}
	for _, err := range cl.HScan(context.Background(), "k", keel.ScanOptions{}) {
		n++
		if !errors.Is(err, keel.ErrClosed) {
			t.Fatalf("HScan after Close: %v, want ErrClosed", err)
		}
	}
	if n != 2 {
		t.Fatalf("%d yields, want one error from each scan", n)
	}
}

func TestKeyScans(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := context.Background()
	prefix := uniquePrefix("keyscan")
	const n = 3000
	hash, set, zset := prefix+"h", prefix+"s", prefix+"z"
	p := cl.Pipeline()
	for i := range n {
		s := strconv.Itoa(i)
		p.Do("HSET", hash, "f"+s, "v"+s)
		p.Do("SADD", set, "m"+s)
		p.Do("ZADD", zset, i, "m"+s)
	}
	for _, r := range p.Exec(ctx) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	opts := keel.ScanOptions{Count: 100}

	fields := collect(t, cl.HScan(ctx, hash, opts))
	members := collect(t, cl.SScan(ctx, set, opts))
	zs := collect(t, cl.ZScan(ctx, zset, opts))
	for i := range n {
		s := strconv.Itoa(i)
		if fields[keel.HashField{Field: "f" + s, Value: "v" + s}] == 0 {
			t.Fatalf("HScan lacks field f%s=v%s (got %d fields)", s, s, len(fields))
		}
		if members["m"+s] == 0 {
			t.Fatalf("SScan lacks m%s (got %d members)", s, len(members))
		}
		if zs[keel.Z{Member: "m" + s, Score: float64(i)}] == 0 {
			t.Fatalf("ZScan lacks m%s with score %d (got %d members)", s, i, len(zs))
		}
	}
	if len(fields) != n || len(members) != n || len(zs) != n {
		t.Fatalf("distinct elements %d/%d/%d, want %d each", len(fields), len(members), len(zs), n)
	}

	got := collect(t, cl.SScan(ctx, set, keel.ScanOptions{Match: "m1??", Count: 500}))
	if len(got) != 100 {
		t.Fatalf("SScan MATCH m1?? gave %d members, want the 100 of m100…m199", len(got))
	}
	if got := collect(t, cl.HScan(ctx, prefix+"missing", opts)); len(got) != 0 {
		t.Fatalf("HScan of a missing key gave %d fields", len(got))
	}
}

// TestScanThroughFailover forces a failover of the shard being scanned, in
// the middle of its scan: that shard's scan starts again on the new primary,
// so every key is still returned, some of them twice.
func TestScanThroughFailover(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	changed := make(chan struct{}, 1)
	cl := newClient(t, c, keel.Options{RefreshInterval: 50 * time.Millisecond, OnEvent: func(ev keel.Event) {
		if ev.Kind == keel.EventTopologyChanged && ev.Cause != "discovery" {
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}})
	prefix := uniquePrefix("scanfailover")
	keys := writeKeys(t, cl, prefix, 3000)
	waitReplicated(ctx, t, c, len(keys))

	got := map[string]int{}
	yielded := 0
	failedOver := false
	for key, err := range cl.Scan(ctx, keel.ScanOptions{Match: prefix + "*", Count: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		got[key]++
		yielded++
		if yielded != 100 {
			continue
		}
		// Fail over the shard of the key just returned: the one being
		// scanned. Then wait until the client has seen it, so that the
		// scan's next step goes to the new primary.
		primary, err := c.PrimaryFor(ctx, lab.KeySlot(key))
		if err != nil {
			t.Fatal(err)
		}
		replicas, err := c.ReplicasOf(ctx, primary)
		if err != nil || len(replicas) == 0 {
			t.Fatalf("replicas of %s: %v %v", primary, replicas, err)
		}
		for len(changed) > 0 {
			<-changed
		}
		if _, err := c.Failover(ctx, replicas[0], lab.FailoverForce); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("the client never saw the failover")
		}
		failedOver = true
	}
	if !failedOver {
		t.Fatal("the scan ended before the failover")
	}
	checkAll(t, got, keys)
	if yielded <= len(keys) {
		t.Fatalf("%d keys yielded for %d keys: the failed-over shard was not scanned again from the start", yielded, len(keys))
	}
	t.Logf("%d keys yielded for %d keys (%d repeated after the failover)", yielded, len(keys), yielded-len(keys))
}

// waitReplicated waits until every replica holds n keys, so that a forced
// failover loses none of them.
func waitReplicated(ctx context.Context, t *testing.T, c *lab.Cluster, n int) {
	t.Helper()
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keysOf := func(node *lab.Node) int {
		info, err := node.Info(ctx, "keyspace")
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(info, "db0:keys=")
		k, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		return k
	}
	for {
		total, synced := 0, true
		for _, sh := range top.Shards {
			p := keysOf(sh.Primary)
			total += p
			for _, r := range sh.Replicas {
				synced = synced && keysOf(r) == p
			}
		}
		if synced && total >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("replicas not in sync: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond): // poll the replicas
		}
	}
}

// TestScanThroughSlotMigration moves the slot of a key just returned to
// another shard in the middle of the scan: the documented guarantee is that
// every key whose slot stays put is still returned (the moved slot's keys may
// be missed), and that the scan goes on without an error.
func TestScanThroughSlotMigration(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3})
	cl := newClient(t, c, keel.Options{})
	prefix := uniquePrefix("scanmigrate")
	keys := writeKeys(t, cl, prefix, 3000)

	got := map[string]int{}
	moved := -1
	for key, err := range cl.Scan(ctx, keel.ScanOptions{Match: prefix + "*", Count: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		got[key]++
		if len(got) != 100 || moved >= 0 {
			continue
		}
		moved = lab.KeySlot(key)
		primaries, err := c.Primaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		from, err := c.PrimaryFor(ctx, moved)
		if err != nil {
			t.Fatal(err)
		}
		to := primaries[0]
		if to == from {
			to = primaries[1]
		}
		if _, err := c.MigrateSlots(ctx, []int{moved}, from, to, lab.MigrateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if moved < 0 {
		t.Fatal("the scan ended before the migration")
	}
	var stayed []string
	for _, k := range keys {
		if lab.KeySlot(k) != moved {
			stayed = append(stayed, k)
		}
	}
	checkAll(t, got, stayed)
	t.Logf("slot %d moved mid-scan; %d distinct keys returned of %d (%d outside the moved slot)", moved, len(got), len(keys), len(stayed))
}
