package keel_test

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// awaitRestored waits for an EventResubscribed on node (any node but
// paused, when node is "") after the first `after` events, and returns it.
func awaitRestored(t *testing.T, evs *events, after int, node, paused string) keel.Event {
	t.Helper()
	var found keel.Event
	testutil.WaitFor(t, 20*time.Second, "EventResubscribed on "+node, func() bool {
		for _, ev := range evs.resubscribed()[after:] {
			if ev.Node == node || node == "" && ev.Node != paused {
				found = ev
				return true
			}
		}
		return false
	})
	if found.Gap <= 0 || found.Cause == "" {
		t.Fatalf("event %+v: want a Gap and a Cause", found)
	}
	return found
}

// TestPubSubThroughMaintenance keeps a sharded and a classic subscription
// through a forced failover of the sharded channel's primary, a migration of
// its slot, and the death of its new owner: after each, the sharded
// subscription is restored on the slot's new owner (EventResubscribed with
// its gap) and messages flow again.
func TestPubSubThroughMaintenance(t *testing.T) {
	testutil.SkipIfShort(t)
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	var evs events
	cl := newClient(t, c, keel.Options{OnEvent: evs.add})
	ctx := testutil.Context(t, 90*time.Second)

	const slot = 100
	ch := lab.KeyInSlot(slot, "maint")
	sharded, err := cl.SSubscribe(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sharded.Close()
	classic, err := cl.Subscribe(ctx, "maint-classic")
	if err != nil {
		t.Fatal(err)
	}
	defer classic.Close()
	spublish := func(p string) error {
		opCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := cl.SPublish(opCtx, ch, p)
		return err
	}
	publish := func(p string) error {
		opCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := cl.Publish(opCtx, "maint-classic", p)
		return err
	}
	awaitDelivery(t, sharded, spublish)

	// A forced failover: the replica takes the slot.
	primary, err := c.PrimaryFor(ctx, slot)
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := c.ReplicasOf(ctx, primary)
	if err != nil || len(replicas) == 0 {
		t.Fatalf("replicas of %s: %v %v", primary, replicas, err)
	}
	before := len(evs.resubscribed())
	if _, err := c.Failover(ctx, replicas[0], lab.FailoverForce); err != nil {
		t.Fatal(err)
	}
	ev := awaitRestored(t, &evs, before, replicas[0].Addr(), "")
	t.Logf("failover: resubscribed on %s after %v (%s)", ev.Node, ev.Gap, ev.Cause)
	awaitDelivery(t, sharded, spublish)

	// A migration of the channel's slot to another primary.
	from := replicas[0]
	primaries, err := c.Primaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := primaries[0]
	if to == from {
		to = primaries[1]
	}
	before = len(evs.resubscribed())
	if _, err := c.MigrateSlots(ctx, []int{slot}, from, to, lab.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev = awaitRestored(t, &evs, before, to.Addr(), "")
	t.Logf("migration: resubscribed on %s after %v (%s)", ev.Node, ev.Gap, ev.Cause)
	awaitDelivery(t, sharded, spublish)

	// The new owner dies: its replica is promoted by the cluster.
	toReplicas, err := c.ReplicasOf(ctx, to)
	if err != nil || len(toReplicas) == 0 {
		t.Fatalf("replicas of %s: %v %v", to, toReplicas, err)
	}
	before = len(evs.resubscribed())
	if _, err := c.Kill(to); err != nil {
		t.Fatal(err)
	}
	ev = awaitRestored(t, &evs, before, toReplicas[0].Addr(), "")
	t.Logf("kill: resubscribed on %s after %v (%s)", ev.Node, ev.Gap, ev.Cause)
	awaitDelivery(t, sharded, spublish)

	// The classic subscription was kept (or moved off the dead node).
	awaitDelivery(t, classic, publish)
}

// TestPubSubPausedNode pauses the node of a classic subscription: the
// unanswered PING closes the connection within PingInterval+HealthTimeout,
// and the subscription moves to another node.
func TestPubSubPausedNode(t *testing.T) {
	testutil.SkipIfShort(t)
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3})
	var evs events
	cl := newClient(t, c, keel.Options{OnEvent: evs.add, PingInterval: 100 * time.Millisecond, HealthTimeout: 200 * time.Millisecond})
	ctx := testutil.Context(t, 30*time.Second)
	s, err := cl.Subscribe(ctx, "paused-ch")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Find the subscriber's node: the one counting a subscriber.
	var node *lab.Node
	for _, n := range c.Nodes() {
		kn, err := cl.Node(n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		v, err := kn.Do(ctx, "PUBSUB", "NUMSUB", "paused-ch")
		if err != nil {
			t.Fatal(err)
		}
		if v.Elems[1].Int == 1 {
			node = n
		}
	}
	if node == nil {
		t.Fatal("no node has the subscriber")
	}
	if _, err := c.Pause(node); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = c.Resume(node) }()
	ev := awaitRestored(t, &evs, 0, "", node.Addr())
	t.Logf("pause: resubscribed on %s after %v (%s)", ev.Node, ev.Gap, ev.Cause)
	// Published through a node still running: the channel's slot may be
	// the paused node's.
	var other *keel.Node
	for _, n := range cl.Nodes() {
		if n.Addr() != node.Addr() {
			other = n
		}
	}
	publish := func(p string) error {
		opCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, err := keel.Run(opCtx, other, keel.Publish("paused-ch", p))
		return err
	}
	awaitDelivery(t, s, publish)
}
