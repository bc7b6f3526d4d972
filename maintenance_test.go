package keel_test

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// maintenanceTimeout is the load's per-operation deadline here. During a
// manual failover the old primary pauses writes until the replica is
// elected; that is normally milliseconds, but an election whose votes are
// refused is retried every 2 s (twice the node timeout) while writes stay
// paused — no client can finish a write sooner, so the deadline must
// outlast it for "latency, not errors" to be judged fairly.
const maintenanceTimeout = 5 * time.Second

// Planned maintenance — a graceful failover, a node replacement, a slot
// migration — must cost the application no errors at all, only latency.
func TestMaintenanceSurfacesNoErrors(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	cl := newClient(t, c, keel.Options{})
	slots, _ := shardSlots(t, c)
	l := startLoadWithTimeout(cl, slots, maintenanceTimeout)
	defer l.stop()
	for shard := range slots {
		waitSucceeds(t, l, shard, time.Now(), 10*time.Second)
	}
	all := []int{0, 1, 2}

	steps := []struct {
		name string
		run  func() (lab.Step, error)
	}{
		{"graceful failover of shard 0", func() (lab.Step, error) {
			p, err := c.PrimaryFor(ctx, slots[0])
			if err != nil {
				return lab.Step{}, err
			}
			replicas, err := c.ReplicasOf(ctx, p)
			if err != nil {
				return lab.Step{}, err
			}
			return c.Failover(ctx, replicas[0], lab.FailoverGraceful)
		}},
		{"replacement of shard 1's primary", func() (lab.Step, error) {
			p, err := c.PrimaryFor(ctx, slots[1])
			if err != nil {
				return lab.Step{}, err
			}
			step, _, err := c.ReplaceNode(ctx, p)
			return step, err
		}},
		{"migration of 100 slots (with the load's keys) from shard 2 to shard 0", func() (lab.Step, error) {
			from, err := c.PrimaryFor(ctx, slots[2])
			if err != nil {
				return lab.Step{}, err
			}
			to, err := c.PrimaryFor(ctx, slots[0])
			if err != nil {
				return lab.Step{}, err
			}
			var moving []int
			for s := slots[2]; s < slots[2]+100; s++ {
				moving = append(moving, s)
			}
			return c.MigrateSlots(ctx, moving, from, to, lab.MigrateOptions{BatchSize: 1, Pause: time.Millisecond})
		}},
	}
	for _, st := range steps {
		step, err := st.run()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// Judge a little past the step, so stragglers are counted too.
		waitSucceeds(t, l, 0, step.Done.Add(200*time.Millisecond), 10*time.Second)
		bad := errorsOn(l.snapshot(), all, step.Began, time.Now())
		t.Logf("%s: took %v, %d errors surfaced", st.name, step.Took().Round(time.Millisecond), len(bad))
		for i, op := range bad {
			if i == 3 {
				break
			}
			t.Errorf("%s: shard %d operation failed: %v", st.name, op.shard, op.err)
		}
	}
	s := cl.Stats()
	t.Logf("client stats: moved %d, asked %d, retries %d, topology changes %d", s.Moved, s.Asked, s.Retries, s.TopologyChanges)
	if s.Moved == 0 || s.Asked == 0 {
		t.Errorf("the maintenance should have caused MOVED and ASK redirects; saw %d and %d", s.Moved, s.Asked)
	}
}

// After the whole cluster comes back on new addresses, keel finds it again
// through the seed's DNS name, without being restarted.
func TestFindsClusterAgainThroughDNS(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, DistinctHosts: true})
	dns, err := c.ServeDNS("cluster.keel.test")
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, c, keel.Options{Seeds: []string{c.Seed()}, Resolver: dns.Resolver()})
	if _, err := cl.Do(ctx, "SET", "before", "1"); err != nil {
		t.Fatal(err)
	}
	step, err := c.RestartAll(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	opCtx, opCancel := context.WithTimeout(ctx, 15*time.Second)
	defer opCancel()
	if _, err := cl.Do(opCtx, "SET", "after", "2"); err != nil {
		t.Fatalf("SET after the cluster moved to %v: %v", c.Addrs(), err)
	}
	t.Logf("cluster moved to new addresses in %v; keel served a write %v after it was back",
		step.Took().Round(time.Millisecond), time.Since(step.Done).Round(time.Millisecond))
	for _, key := range []string{"a", "b", "c", "d"} { // keys on several shards
		if _, err := cl.Do(ctx, "SET", key, key); err != nil {
			t.Fatalf("SET %s on the moved cluster: %v", key, err)
		}
	}
	if s := cl.Stats(); s.KnownNodes != 3 {
		t.Errorf("keel knows %d nodes, want the 3 new ones", s.KnownNodes)
	}
}
