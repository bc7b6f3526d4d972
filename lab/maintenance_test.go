package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// dialNodeT opens a raw connection to n that lives as long as ctx.
func dialNodeT(t *testing.T, ctx context.Context, n *Node) *rawConn {
	t.Helper()
	rc, err := dialRaw(ctx, n.Addr(), n.c.adminTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

// valueOf is the value the tests store under key.
func valueOf(key string) string { return "value of " + key }

// keysOverSlots returns count keys spread evenly over every slot.
func keysOverSlots(count int) []string {
	var keys []string
	for i := range count {
		keys = append(keys, KeyInSlot(i*16384/count, "k"+strconv.Itoa(i)))
	}
	return keys
}

// writeKeysT stores valueOf(key) under every key, on the primary serving it.
func writeKeysT(t *testing.T, ctx context.Context, c *Cluster, keys []string) {
	t.Helper()
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[*Node]*rawConn{}
	for _, k := range keys {
		sh, ok := top.ShardFor(KeySlot(k))
		if !ok || sh.Primary == nil {
			t.Fatalf("no primary serves %q", k)
		}
		if conns[sh.Primary] == nil {
			conns[sh.Primary] = dialNodeT(t, ctx, sh.Primary)
		}
		if _, err := conns[sh.Primary].call("SET", k, valueOf(k)); err != nil {
			t.Fatalf("SET %s on %s: %v", k, sh.Primary, err)
		}
	}
}

// lostKeys reads every key from the primary serving it and returns those
// missing or with a wrong value.
func lostKeys(t *testing.T, ctx context.Context, c *Cluster, keys []string) []string {
	t.Helper()
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[*Node]*rawConn{}
	var lost []string
	for _, k := range keys {
		sh, ok := top.ShardFor(KeySlot(k))
		if !ok || sh.Primary == nil {
			t.Fatalf("no primary serves %q", k)
		}
		if conns[sh.Primary] == nil {
			conns[sh.Primary] = dialNodeT(t, ctx, sh.Primary)
		}
		if v, err := conns[sh.Primary].call("GET", k); err != nil || v != valueOf(k) {
			lost = append(lost, k)
		}
	}
	return lost
}

// assertForgotten fails unless no running member's CLUSTER NODES mentions
// old, by id or by address.
func assertForgotten(t *testing.T, ctx context.Context, c *Cluster, old *Node) {
	t.Helper()
	if slices.Contains(c.Nodes(), old) {
		t.Errorf("%s is still a member", old)
	}
	for _, n := range c.Nodes() {
		if !n.Running() {
			continue
		}
		text, err := n.callString(ctx, "CLUSTER", "NODES")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, old.ID()) || strings.Contains(text, old.Addr()+"@") {
			t.Errorf("%s still mentions %s:\n%s", n, old, text)
		}
	}
}

// readStats counts the replies a reader got.
type readStats struct {
	reads, values, asks, moves int
	err                        error // the first unexpected reply
}

// readUntil GETs keys from n over and over until stop is closed, and
// classifies the replies. firstPass is closed once it has read every key
// once (or given up); result gets its counts when it ends.
func readUntil(ctx context.Context, n *Node, keys []string, stop <-chan struct{}) (firstPass <-chan struct{}, result <-chan readStats) {
	first := make(chan struct{})
	var once sync.Once
	passed := func() { once.Do(func() { close(first) }) }
	out := make(chan readStats, 1)
	go func() {
		var st readStats
		defer func() { passed(); out <- st }()
		rc, err := dialRaw(ctx, n.Addr(), n.c.adminTLS())
		if err != nil {
			st.err = err
			return
		}
		defer rc.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, k := range keys {
				v, err := rc.call("GET", k)
				st.reads++
				var reply ReplyError
				switch {
				case err == nil && v == valueOf(k):
					st.values++
				case errors.As(err, &reply) && strings.HasPrefix(string(reply), "ASK "):
					st.asks++
				case errors.As(err, &reply) && strings.HasPrefix(string(reply), "MOVED "):
					st.moves++
				default:
					st.err = fmt.Errorf("GET %s: %v, %v", k, v, err)
					return
				}
			}
			passed()
		}
	}()
	return first, out
}

func TestMigrateSlots(t *testing.T) {
	skipIfShort(t)
	ctx := testCtx(t, 2*time.Minute)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from, to := top.Shards[0].Primary, top.Shards[1].Primary
	var slots []int
	for s := range 100 {
		slots = append(slots, s)
	}
	var keys []string
	for i := range 500 {
		keys = append(keys, KeyInSlot(slots[i%len(slots)], "k"+strconv.Itoa(i)))
	}
	writeKeysT(t, ctx, c, keys)

	t.Run("rejects", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"same node": func() error {
				_, err := c.MigrateSlots(ctx, slots, from, from, MigrateOptions{})
				return err
			},
			"slot out of range": func() error {
				_, err := c.MigrateSlots(ctx, []int{16384}, from, to, MigrateOptions{})
				return err
			},
			"slot not served by from": func() error {
				_, err := c.MigrateSlots(ctx, []int{0, 16383}, from, to, MigrateOptions{})
				return err
			},
			"from is a replica": func() error {
				_, err := c.MigrateSlots(ctx, slots, top.Shards[0].Replicas[0], to, MigrateOptions{})
				return err
			},
		} {
			if err := call(); err == nil {
				t.Errorf("%s: no error", name)
			} else {
				t.Logf("%s: %v", name, err)
			}
		}
	})

	stop := make(chan struct{})
	firstPass, result := readUntil(ctx, from, keys, stop)
	<-firstPass
	step, err := c.MigrateSlots(ctx, slots, from, to, MigrateOptions{BatchSize: 2, Pause: 5 * time.Millisecond})
	close(stop)
	st := <-result
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated %d keys in %d slots in %v (%s); reader during it: %d reads, %d values, %d ASK, %d MOVED",
		len(keys), len(slots), step.Took(), step.Detail, st.reads, st.values, st.asks, st.moves)
	if st.err != nil {
		t.Errorf("reader: %v", st.err)
	}
	if st.asks == 0 {
		t.Errorf("the reader never got ASK during the migration")
	}
	if want := "slots 0-99 " + from.Name() + "→" + to.Name(); step.Action != "migrate" || step.Detail != want || step.Done.IsZero() {
		t.Errorf("step = %+v, want Action migrate, Detail %q and a Done time", step, want)
	}

	src, dst := dialNodeT(t, ctx, from), dialNodeT(t, ctx, to)
	for _, k := range keys {
		if v, err := dst.call("GET", k); err != nil || v != valueOf(k) {
			t.Fatalf("GET %s on the target = %v, %v; want %q", k, v, err, valueOf(k))
		}
		want := fmt.Sprintf("MOVED %d %s", KeySlot(k), to.Addr())
		if _, err := src.call("GET", k); err == nil || err.Error() != want {
			t.Fatalf("GET %s on the source = %v, want %q", k, err, want)
		}
	}
	for _, n := range c.Nodes() {
		view, err := n.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		owners := view.Owners()
		for _, s := range slots {
			if owners[s] != to.ID() {
				t.Fatalf("%s gives slot %d to %s, want %s", n, s, owners[s], to)
			}
		}
	}
}

// openSlots returns the slots the running nodes import or migrate, in
// their own views.
func openSlots(t *testing.T, ctx context.Context, c *Cluster) []int {
	t.Helper()
	var open []int
	for _, n := range c.Nodes() {
		if !n.Running() {
			continue
		}
		view, err := n.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		self, _ := view.Self()
		open = append(append(open, self.Importing...), self.Migrating...)
	}
	return open
}

// TestFinishMigrations leaves a slot half-migrated, as a MigrateSlots that
// fails halfway does (on a slow machine a call gets no reply in time, or a
// node stalls past the node timeout and is failed over), and checks that
// the cluster cannot settle until FinishMigrations moves the rest of the
// slot, keys and all, to the primary of the shard it was going to.
func TestFinishMigrations(t *testing.T) {
	skipIfShort(t)
	ctx := testCtx(t, 3*time.Minute)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	failOver := func(t *testing.T, primary *Node) {
		t.Helper()
		replicas, err := c.ReplicasOf(ctx, primary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Failover(ctx, replicas[0], FailoverGraceful); err != nil {
			t.Fatal(err)
		}
	}
	for i, tc := range []struct {
		name string
		// failOver is "from", "to" or "": the node failed over once half
		// of the slot's keys have moved.
		failOver string
	}{
		{"call failed", ""},
		{"source failed over", "from"},
		{"target failed over", "to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A slot of the first shard goes to the last shard.
			slot := 100 + i
			from, err := c.PrimaryFor(ctx, slot)
			if err != nil {
				t.Fatal(err)
			}
			to, err := c.PrimaryFor(ctx, 16383)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range 20 {
				keys = append(keys, KeyInSlot(slot, "open"+strconv.Itoa(k)))
			}
			writeKeysT(t, ctx, c, keys)
			s := strconv.Itoa(slot)
			for _, cmd := range []struct {
				n    *Node
				args []string
			}{
				{to, []string{"CLUSTER", "SETSLOT", s, "IMPORTING", from.ID()}},
				{from, []string{"CLUSTER", "SETSLOT", s, "MIGRATING", to.ID()}},
				{from, append([]string{"MIGRATE", to.host, strconv.Itoa(to.port), "", "0", migrateTimeout, "KEYS"}, keys[:10]...)},
			} {
				if _, err := cmd.n.call(ctx, cmd.args...); err != nil {
					t.Fatal(err)
				}
			}
			want := to // where the slot ends: the target's shard
			switch tc.failOver {
			case "from":
				failOver(t, from)
				// The target ignores claims to a slot it imports and drops
				// the slots of the primary failed over: it knows no owner of
				// the slot any more, and refuses its keys until told one.
				err := poll(ctx, to.Name()+" to forget the owner", func() error {
					view, err := to.View(ctx)
					if err != nil {
						return err
					}
					if id := view.Owners()[slot]; id != "" {
						return fmt.Errorf("%s gives slot %d to %s", to, slot, id)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			case "to":
				failOver(t, to)
				if want, err = c.PrimaryFor(ctx, 16383); err != nil {
					t.Fatal(err)
				}
			}
			// Left so, it would stay open: WaitStable could never succeed.
			if open := openSlots(t, ctx, c); !slices.Contains(open, slot) {
				t.Fatalf("open slots %v, want %d among them", open, slot)
			}

			if err := c.FinishMigrations(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitStable(ctx); err != nil {
				t.Fatal(err)
			}
			if owner, err := c.PrimaryFor(ctx, slot); err != nil || owner != want {
				t.Errorf("slot %d is served by %v (%v), want %s", slot, owner, err, want)
			}
			if lost := lostKeys(t, ctx, c, keys); len(lost) > 0 {
				t.Errorf("lost %d keys: %v", len(lost), lost)
			}
		})
	}
}

func TestReplaceNode(t *testing.T) {
	skipIfShort(t)
	ctx := testCtx(t, 3*time.Minute)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	keys := keysOverSlots(300)
	writeKeysT(t, ctx, c, keys)
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("primary", func(t *testing.T) {
		old := top.Shards[0].Primary
		var before int64
		for _, m := range c.Nodes() {
			before = max(before, currentEpoch(t, ctx, m))
		}
		step, n, err := c.ReplaceNode(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("replaced primary %s by %s in %v", old, n, step.Took())
		// The new node won its first election: it knew every primary when
		// it asked for their votes (a failed round bumps the epoch again).
		if after := currentEpoch(t, ctx, n); after != before+1 {
			t.Errorf("current epoch %d before the replacement, %d after: want one election", before, after)
		}
		if step.Action != "replace" || step.Node != old.Addr() || step.Detail != n.Addr() || step.Done.IsZero() {
			t.Errorf("step = %+v, want replace of %s by %s, done", step, old.Addr(), n.Addr())
		}
		assertForgotten(t, ctx, c, old)
		if p, err := c.PrimaryFor(ctx, 0); err != nil || p != n {
			t.Errorf("primary of slot 0 = %v, %v; want %s", p, err, n)
		}
		if lost := lostKeys(t, ctx, c, keys); len(lost) > 0 {
			t.Errorf("%d of %d keys lost, such as %q", len(lost), len(keys), lost[0])
		}
		if err := c.WaitStable(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("replica", func(t *testing.T) {
		primary, old := top.Shards[1].Primary, top.Shards[1].Replicas[0]
		step, n, err := c.ReplaceNode(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("replaced replica %s by %s in %v", old, n, step.Took())
		assertForgotten(t, ctx, c, old)
		now, err := c.Topology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sh, _ := now.ShardFor(top.Shards[1].Slots[0].Start); sh.Primary != primary || !slices.Equal(sh.Replicas, []*Node{n}) {
			t.Errorf("shard 1 = %s with replicas %v, want %s with replica %s", sh.Primary, sh.Replicas, primary, n)
		}
		want, err1 := primary.call(ctx, "DBSIZE")
		got, err2 := n.call(ctx, "DBSIZE")
		if err1 != nil || err2 != nil || got != want || want == int64(0) {
			t.Errorf("DBSIZE of the new replica = %v (%v), of its primary %v (%v)", got, err2, want, err1)
		}
		if err := c.WaitStable(ctx); err != nil {
			t.Error(err)
		}
	})

	// A dead primary without a replica: the new node takes over without
	// syncing, so the shard's keys are gone but its slots are served again.
	t.Run("dead primary", func(t *testing.T) {
		old, replica := top.Shards[2].Primary, top.Shards[2].Replicas[0]
		if err := replica.stop(); err != nil {
			t.Fatal(err)
		}
		if err := old.stop(); err != nil {
			t.Fatal(err)
		}
		step, n, err := c.ReplaceNode(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("replaced dead primary %s by %s in %v", old, n, step.Took())
		assertForgotten(t, ctx, c, old)
		for _, r := range top.Shards[2].Slots {
			for _, s := range []int{r.Start, r.End} {
				if p, err := c.PrimaryFor(ctx, s); err != nil || p != n {
					t.Errorf("primary of slot %d = %v, %v; want %s", s, p, err, n)
				}
			}
		}
		if err := c.WaitStable(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestRestartAll(t *testing.T) {
	skipIfShort(t)
	ctx := testCtx(t, 3*time.Minute)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1})
	before := c.Nodes()
	addrs := c.Addrs()
	writeKeysT(t, ctx, c, keysOverSlots(30))

	t.Run("same addresses", func(t *testing.T) {
		step, err := c.RestartAll(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("restarted %d nodes on their addresses in %v", len(before), step.Took())
		if step.Action != "restart-all" || step.Done.IsZero() {
			t.Errorf("step = %+v, want restart-all, done", step)
		}
		if got := c.Addrs(); !slices.Equal(got, addrs) {
			t.Errorf("addresses = %v, want %v", got, addrs)
		}
		for _, n := range before {
			if !n.Running() {
				t.Errorf("%s is not running", n)
			}
			if size, err := n.call(ctx, "DBSIZE"); err != nil || size != int64(0) {
				t.Errorf("DBSIZE of %s = %v, %v; want 0: persistence is off", n, size, err)
			}
		}
		if err := c.WaitStable(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("new addresses", func(t *testing.T) {
		step, err := c.RestartAll(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("replaced %d nodes by a new cluster in %v", len(before), step.Took())
		assertNewShape(t, ctx, c, before, 3, 1)
	})
}

// TestRestartAllDistinctHosts checks that with DistinctHosts the new
// cluster is on new 127.x hosts, on the same shared port.
func TestRestartAllDistinctHosts(t *testing.T) {
	skipIfShort(t)
	ctx := testCtx(t, 2*time.Minute)
	c := StartClusterT(t, ClusterOptions{Shards: 3, DistinctHosts: true})
	dns, err := c.ServeDNS("cluster.keel.test")
	if err != nil {
		t.Fatal(err)
	}
	before := c.Nodes()
	assertResolves(t, ctx, dns, c)
	step, err := c.RestartAll(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replaced %d nodes by a new cluster on new hosts in %v: %v → %v", len(before), step.Took(), addrsOf(before), c.Addrs())
	assertNewShape(t, ctx, c, before, 3, 0)
	oldHosts := map[string]bool{}
	for _, n := range before {
		oldHosts[n.Host()] = true
	}
	for _, n := range c.Nodes() {
		if oldHosts[n.Host()] {
			t.Errorf("%s reuses an old host", n)
		}
		if n.Port() != before[0].Port() {
			t.Errorf("%s is not on the shared port %d", n, before[0].Port())
		}
	}
	// The DNS name follows the cluster to its new hosts.
	assertResolves(t, ctx, dns, c)
	if want := "cluster.keel.test:" + strconv.Itoa(before[0].Port()); c.Seed() != want {
		t.Errorf("Seed() = %q, want %q", c.Seed(), want)
	}
}

// assertResolves fails unless the DNS name resolves to exactly the hosts of
// the cluster's members.
func assertResolves(t *testing.T, ctx context.Context, dns *DNSServer, c *Cluster) {
	t.Helper()
	got, err := dns.Resolver().LookupHost(ctx, dns.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := c.hostsOf(c.Nodes())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s resolves to %v, want the members' hosts %v", dns.Name(), got, want)
	}
}

// assertNewShape fails unless the cluster's members are all new nodes, on
// new addresses, running as shards primaries with replicas each, stable.
func assertNewShape(t *testing.T, ctx context.Context, c *Cluster, before []*Node, shards, replicas int) {
	t.Helper()
	oldAddrs := map[string]bool{}
	for _, n := range before {
		oldAddrs[n.Addr()] = true
		if n.Running() {
			t.Errorf("old node %s is still running", n)
		}
	}
	nodes := c.Nodes()
	if len(nodes) != shards*(1+replicas) {
		t.Errorf("%d nodes, want %d", len(nodes), shards*(1+replicas))
	}
	for _, n := range nodes {
		if slices.Contains(before, n) || oldAddrs[n.Addr()] {
			t.Errorf("%s is not a new node on a new address", n)
		}
	}
	if err := c.WaitStable(ctx); err != nil {
		t.Fatal(err)
	}
	top, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Shards) != shards {
		t.Errorf("%d shards, want %d", len(top.Shards), shards)
	}
	for _, sh := range top.Shards {
		if sh.Primary == nil || len(sh.Replicas) != replicas {
			t.Errorf("shard %v: primary %v with %d replicas, want a member with %d", sh.Slots, sh.Primary, len(sh.Replicas), replicas)
		}
	}
}

func addrsOf(nodes []*Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Addr())
	}
	return out
}

// currentEpoch returns n's cluster_current_epoch (CLUSTER INFO).
func currentEpoch(t *testing.T, ctx context.Context, n *Node) int64 {
	t.Helper()
	info, err := n.callString(ctx, "CLUSTER", "INFO")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_current_epoch:"); ok {
			epoch, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return epoch
		}
	}
	t.Fatalf("no cluster_current_epoch in CLUSTER INFO of %s", n)
	return 0
}
