package keel_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// nextMessage takes the next message, failing the test after a few seconds.
func nextMessage(t *testing.T, s *keel.Subscription) keel.Message {
	t.Helper()
	select {
	case m, ok := <-s.Messages():
		if !ok {
			t.Fatal("Messages closed")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return keel.Message{}
}

// publishOn publishes through one node, so that the messages keep their
// order on the way to any subscriber.
func publishOn(t *testing.T, n *keel.Node, channel, payload string) {
	t.Helper()
	if _, err := keel.Run(testutil.Context(t, 5*time.Second), n, keel.Publish(channel, payload)); err != nil {
		t.Fatal(err)
	}
}

func TestPubSubChannelsInOrder(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{ClientName: "pubsub-order"})
	ctx := testutil.Context(t, 10*time.Second)
	s, err := cl.Subscribe(ctx, "ps-a", "ps-b", "ps-x", "ps-y", "ps-z")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if conns := subscriberConns(t, cl, "pubsub-order"); len(conns) != 1 {
		t.Fatalf("%d subscriber connections for channels, want 1", len(conns))
	}
	n := cl.Nodes()[0]
	for i := range 20 {
		publishOn(t, n, []string{"ps-a", "ps-b"}[i%2], fmt.Sprint(i))
	}
	for i := range 20 {
		want := keel.Message{Channel: []string{"ps-a", "ps-b"}[i%2], Payload: fmt.Sprint(i)}
		if m := nextMessage(t, s); m != want {
			t.Fatalf("message %d = %+v, want %+v", i, m, want)
		}
	}

	// Add one, remove one: the removed channel's messages stop, in order
	// with the others.
	if err := s.Subscribe(ctx, "ps-c"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, "ps-a"); err != nil {
		t.Fatal(err)
	}
	publishOn(t, n, "ps-a", "gone")
	publishOn(t, n, "ps-c", "c1")
	publishOn(t, n, "ps-b", "b1")
	for _, want := range []keel.Message{{Channel: "ps-c", Payload: "c1"}, {Channel: "ps-b", Payload: "b1"}} {
		if m := nextMessage(t, s); m != want {
			t.Fatalf("got %+v, want %+v", m, want)
		}
	}
	// Unsubscribing twice, or a channel never subscribed: no error, as Redis.
	for range 2 {
		if err := s.Unsubscribe(ctx, "ps-a", "never"); err != nil {
			t.Fatalf("Unsubscribe again: %v", err)
		}
	}
	// The count is the receivers on the node that ran it, maybe not ours.
	if _, err := cl.Publish(ctx, "ps-b", "b2"); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, s); m.Payload != "b2" {
		t.Fatalf("got %+v after Client.Publish", m)
	}
	if s.Dropped() != 0 {
		t.Fatalf("Dropped = %d, want 0", s.Dropped())
	}
}

func TestPubSubPatterns(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := testutil.Context(t, 10*time.Second)
	s, err := cl.PSubscribe(ctx, "pat.*")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := cl.Nodes()[1]
	publishOn(t, n, "other", "x")
	publishOn(t, n, "pat.one", "1")
	publishOn(t, n, "pat.two", "2")
	for _, want := range []keel.Message{{Channel: "pat.one", Pattern: "pat.*", Payload: "1"}, {Channel: "pat.two", Pattern: "pat.*", Payload: "2"}} {
		if m := nextMessage(t, s); m != want {
			t.Fatalf("got %+v, want %+v", m, want)
		}
	}
	if err := s.Unsubscribe(ctx, "pat.*"); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx, "pot.*"); err != nil {
		t.Fatal(err)
	}
	publishOn(t, n, "pat.three", "3")
	publishOn(t, n, "pot.one", "p1")
	if m := nextMessage(t, s); m.Pattern != "pot.*" || m.Payload != "p1" {
		t.Fatalf("got %+v, want pot.one from pot.*", m)
	}
}

// shardedChannels returns one channel per primary of c, each in the slot
// range of a different shard.
func shardedChannels(t *testing.T, c *lab.Cluster, prefix string) []string {
	t.Helper()
	topo, err := c.Topology(testutil.Context(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var chans []string
	for _, sh := range topo.Shards {
		chans = append(chans, lab.KeyInSlot(sh.Slots[0].Start, prefix))
	}
	return chans
}

func TestPubSubShardedAcrossShards(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := testutil.Context(t, 10*time.Second)
	chans := shardedChannels(t, c, "sps")
	if len(chans) < 2 {
		t.Fatalf("want several shards, got %d", len(chans))
	}
	s, err := cl.SSubscribe(ctx, chans...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Per channel, messages arrive in order; across shards, in any order.
	const each = 10
	for i := range each {
		for _, ch := range chans {
			if got, err := cl.SPublish(ctx, ch, fmt.Sprint(i)); err != nil || got != 1 {
				t.Fatalf("SPublish %s = %d, %v; want 1 receiver", ch, got, err)
			}
		}
	}
	next := map[string]int{}
	for range each * len(chans) {
		m := nextMessage(t, s)
		if m.Payload != fmt.Sprint(next[m.Channel]) {
			t.Fatalf("channel %s: got %q, want %d", m.Channel, m.Payload, next[m.Channel])
		}
		next[m.Channel]++
	}
	// Removing one channel leaves the others served.
	if err := s.Unsubscribe(ctx, chans[0]); err != nil {
		t.Fatal(err)
	}
	if got, err := cl.SPublish(ctx, chans[0], "gone"); err != nil || got != 0 {
		t.Fatalf("SPublish to the removed channel = %d, %v; want 0 receivers", got, err)
	}
	if _, err := cl.SPublish(ctx, chans[1], "still"); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, s); m.Channel != chans[1] || m.Payload != "still" {
		t.Fatalf("got %+v", m)
	}
}

// events collects a client's events.
type events struct {
	mu   sync.Mutex
	list []keel.Event
}

func (e *events) add(ev keel.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

// resubscribed returns the EventResubscribed events so far.
func (e *events) resubscribed() []keel.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []keel.Event
	for _, ev := range e.list {
		if ev.Kind == keel.EventResubscribed {
			out = append(out, ev)
		}
	}
	return out
}

// awaitDelivery publishes on channel until a message reaches s, and returns
// it: during a gap, Pub/Sub messages are lost, so one is not enough.
func awaitDelivery(t *testing.T, s *keel.Subscription, publish func(payload string) error) keel.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		if err := publish(fmt.Sprint("probe-", i)); err != nil && time.Now().After(deadline) {
			t.Fatalf("publish: %v", err)
		}
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatal("Messages closed")
			}
			return m
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no message delivered within 20s")
		}
	}
}

// subscriberConn is one Pub/Sub connection a node lists.
type subscriberConn struct {
	node *keel.Node
	id   string
}

// subscriberConns lists, on every node, the Pub/Sub connections of the
// clients named name.
func subscriberConns(t *testing.T, cl *keel.Client, name string) []subscriberConn {
	t.Helper()
	ctx := testutil.Context(t, 5*time.Second)
	var conns []subscriberConn
	for _, n := range cl.Nodes() {
		v, err := n.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub")
		if err != nil {
			t.Fatal(err)
		}
		list, _ := v.Text()
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, " name="+name+" ") {
				conns = append(conns, subscriberConn{n, strings.TrimPrefix(strings.Fields(line)[0], "id=")})
			}
		}
	}
	return conns
}

// killSubscribers closes the Pub/Sub connections of the clients named name
// that exist when it is called (not those opened since to replace them),
// and returns how many it closed.
func killSubscribers(t *testing.T, cl *keel.Client, name string) int {
	t.Helper()
	ctx := testutil.Context(t, 5*time.Second)
	conns := subscriberConns(t, cl, name)
	for _, c := range conns {
		if _, err := c.node.Do(ctx, "CLIENT", "KILL", "ID", c.id); err != nil {
			t.Fatal(err)
		}
	}
	return len(conns)
}

func TestPubSubResubscribeAfterClientKill(t *testing.T) {
	c := sharedCluster(t)
	var evs events
	cl := newClient(t, c, keel.Options{ClientName: "pubsub-kill", OnEvent: evs.add})
	ctx := testutil.Context(t, 30*time.Second)
	for _, tc := range []struct {
		name      string
		subscribe func() (*keel.Subscription, error)
		publish   func(string) error
	}{
		{"classic", func() (*keel.Subscription, error) { return cl.Subscribe(ctx, "kill-ch") },
			func(p string) error { _, err := cl.Publish(ctx, "kill-ch", p); return err }},
		{"sharded", func() (*keel.Subscription, error) { return cl.SSubscribe(ctx, "kill-sch") },
			func(p string) error { _, err := cl.SPublish(ctx, "kill-sch", p); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.subscribe()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			before := len(evs.resubscribed())
			if n := killSubscribers(t, cl, "pubsub-kill"); n != 1 {
				t.Fatalf("killed %d subscriber connections, want 1", n)
			}
			awaitDelivery(t, s, tc.publish)
			testutil.WaitFor(t, 5*time.Second, "EventResubscribed", func() bool { return len(evs.resubscribed()) > before })
			ev := evs.resubscribed()[before]
			if ev.Gap <= 0 || ev.Node == "" || !strings.Contains(ev.Cause, "connection lost") {
				t.Fatalf("event %+v: want a positive Gap, a Node, a connection-lost Cause", ev)
			}
			t.Logf("%s: resubscribed on %s after %v (%s)", tc.name, ev.Node, ev.Gap, ev.Cause)
		})
	}
}

func TestPubSubSlowReaderDrops(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{SubscriptionBuffer: 4})
	ctx := testutil.Context(t, 10*time.Second)
	s, err := cl.Subscribe(ctx, "slow-ch")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := cl.Nodes()[0]
	for i := range 20 {
		publishOn(t, n, "slow-ch", fmt.Sprint(i))
	}
	// The reader took nothing: 4 buffered, 16 dropped, and commands on the
	// client were never held up.
	testutil.WaitFor(t, 5*time.Second, "16 messages dropped", func() bool { return s.Dropped() == 16 })
	for i := range 4 {
		if m := nextMessage(t, s); m.Payload != fmt.Sprint(i) {
			t.Fatalf("buffered message %d = %q", i, m.Payload)
		}
	}
	publishOn(t, n, "slow-ch", "after")
	if m := nextMessage(t, s); m.Payload != "after" {
		t.Fatalf("after draining: %q", m.Payload)
	}
}

func TestPubSubOversizedMessage(t *testing.T) {
	c := sharedCluster(t)
	var evs events
	cl := newClient(t, c, keel.Options{MaxBulkBytes: 1024, OnEvent: evs.add})
	ctx := testutil.Context(t, 45*time.Second)
	s, err := cl.Subscribe(ctx, "big-ch")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Published again until one is counted: on a loaded machine the
	// subscription may be restoring (a node suspected, a PING late) when
	// one is published, and Pub/Sub keeps nothing for a gap.
	testutil.WaitFor(t, 15*time.Second, "an oversized message counted", func() bool {
		if s.Dropped() > 0 {
			return true
		}
		if _, err := cl.Publish(ctx, "big-ch", strings.Repeat("x", 4096)); err != nil {
			t.Fatal(err)
		}
		return false
	})
	// The subscription keeps running.
	m := awaitDelivery(t, s, func(p string) error { _, err := cl.Publish(ctx, "big-ch", p); return err })
	if !strings.HasPrefix(m.Payload, "probe-") {
		t.Fatalf("got %+v", m)
	}
	testutil.WaitFor(t, 5*time.Second, "EventResubscribed for the oversized message", func() bool {
		return slices.ContainsFunc(evs.resubscribed(), func(ev keel.Event) bool { return strings.Contains(ev.Cause, "reply limits") })
	})
}

func TestPubSubClose(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := testutil.Context(t, 10*time.Second)
	for _, bad := range []func() error{
		func() error { _, err := cl.Subscribe(ctx); return err },
		func() error { _, err := cl.PSubscribe(ctx); return err },
		func() error { _, err := cl.SSubscribe(ctx); return err },
	} {
		if err := bad(); !errors.Is(err, keel.ErrArgument) {
			t.Fatalf("no channels: %v, want ErrArgument", err)
		}
	}
	s, err := cl.Subscribe(ctx, "close-ch")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx); !errors.Is(err, keel.ErrArgument) {
		t.Fatalf("Subscription.Subscribe(): %v, want ErrArgument", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, ok := <-s.Messages(); ok {
		t.Fatal("Messages still open after Close")
	}
	if err := s.Subscribe(ctx, "more"); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
	if err := s.Unsubscribe(ctx, "close-ch"); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("Unsubscribe after Close: %v, want ErrClosed", err)
	}
}

// TestPubSubClientClose closes a client with subscriptions open: their
// Messages close, their goroutines end (TestMain's goleak check), and new
// subscriptions fail with ErrClosed.
func TestPubSubClientClose(t *testing.T) {
	c := sharedCluster(t)
	cl, err := keel.New(testutil.Context(t, 10*time.Second), keel.Options{Seeds: c.Addrs()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testutil.Context(t, 10*time.Second)
	a, err := cl.Subscribe(ctx, "cc-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.SSubscribe(ctx, shardedChannels(t, c, "cc")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*keel.Subscription{a, b} {
		if _, ok := <-s.Messages(); ok {
			t.Fatal("Messages open after the client closed")
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.Subscribe(ctx, "cc-b"); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("Subscribe on a closed client: %v, want ErrClosed", err)
	}
	if _, err := cl.SSubscribe(ctx, "cc-b"); !errors.Is(err, keel.ErrClosed) {
		t.Fatalf("SSubscribe on a closed client: %v, want ErrClosed", err)
	}
}

// The SUBSCRIBE family stays refused on the shared connections.
func TestPubSubRefusedThroughDo(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	_, err := cl.Do(testutil.Context(t, 5*time.Second), "SUBSCRIBE", "ch")
	if !errors.Is(err, keel.ErrConnState) || !strings.Contains(err.Error(), "Client.Subscribe") {
		t.Fatalf("Do SUBSCRIBE: %v, want ErrConnState pointing to Client.Subscribe", err)
	}
}

// A Publish with a value keel cannot convert fails before sending.
func TestPublishBadValue(t *testing.T) {
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	ctx := testutil.Context(t, 5*time.Second)
	if _, err := cl.Publish(ctx, "ch", nil); !errors.Is(err, keel.ErrArgument) {
		t.Fatalf("Publish nil: %v", err)
	}
	if _, err := cl.SPublish(ctx, "ch", struct{}{}); !errors.Is(err, keel.ErrArgument) {
		t.Fatalf("SPublish struct: %v", err)
	}
	var nilCtx context.Context
	if _, err := cl.Subscribe(nilCtx, "ch"); !errors.Is(err, keel.ErrNilContext) {
		t.Fatalf("Subscribe nil ctx: %v", err)
	}
}

// BenchmarkPubSubRoundTrip publishes a message and waits for it on a
// subscription of the same client: one op is a PUBLISH and a delivery.
// Sharded publishes to the channel's owner, which serves the subscriber;
// classic crosses the cluster bus when the subscriber is on another node.
func BenchmarkPubSubRoundTrip(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	ctx := context.Background()
	for _, kind := range []string{"classic", "sharded"} {
		b.Run(kind, func(b *testing.B) {
			subscribe, publish := cl.Subscribe, cl.Publish
			if kind == "sharded" {
				subscribe, publish = cl.SSubscribe, cl.SPublish
			}
			s, err := subscribe(ctx, "bench-"+kind)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := publish(ctx, "bench-"+kind, "0123456789abcdef"); err != nil {
					b.Fatal(err)
				}
				<-s.Messages()
			}
		})
	}
}

// PUBLISH's channel picks the node it leaves from but binds no slot: a
// transaction or a watch publishes beside keys of any slot, as the server
// allows, while SPUBLISH's channel is a key like any other.
func TestPublishBesideKeysOfAnySlot(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := testutil.Context(t, 10*time.Second)
	const channel = "events" // not in the slot of {txpub}
	if lab.KeySlot(channel) == lab.KeySlot("{txpub}k") {
		t.Fatal("pick a channel in another slot")
	}
	sub, err := cl.Subscribe(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	tx := cl.Tx()
	keel.Queue(tx, keel.Set("{txpub}k", "v"))
	published := keel.Queue(tx, keel.Publish(channel, "from-tx"))
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatalf("Tx with PUBLISH: %v", err)
	}
	// The count is of the receivers on the node it ran on: any number.
	if _, err := published.Result(); err != nil {
		t.Fatalf("PUBLISH in Tx: %v", err)
	}
	if m := nextMessage(t, sub); m.Payload != "from-tx" {
		t.Fatalf("message = %+v", m)
	}

	err = cl.Watch(ctx, func(w *keel.Watch) error {
		_, err := keel.Run(ctx, w, keel.Publish(channel, "from-watch"))
		return err
	}, "{txpub}k")
	if err != nil {
		t.Fatalf("PUBLISH in a Watch: %v", err)
	}
	if m := nextMessage(t, sub); m.Payload != "from-watch" {
		t.Fatalf("message = %+v", m)
	}

	tx = cl.Tx()
	keel.Queue(tx, keel.Set("{txpub}k", "v"))
	keel.Queue(tx, keel.SPublish(channel, "x"))
	if _, err := tx.Exec(ctx); !errors.Is(err, keel.ErrCrossSlot) {
		t.Fatalf("Tx with SPUBLISH of another slot: err = %v, want ErrCrossSlot", err)
	}
}
