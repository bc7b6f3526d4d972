package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// resp2 writes a RESP2 array of bulk strings, with an integer last when
// count is not negative: a confirmation ("subscribe", name, count) or a
// message ("message", channel, payload).
func resp2(count int, elems ...string) string {
	n := len(elems)
	if count >= 0 {
		n++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", n)
	for _, e := range elems {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(e), e)
	}
	if count >= 0 {
		fmt.Fprintf(&b, ":%d\r\n", count)
	}
	return b.String()
}

// inbox collects a Subscriber's messages.
type inbox struct {
	mu   sync.Mutex
	msgs []Message
}

func (b *inbox) deliver(m Message) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
}

func (b *inbox) payloads() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		out = append(out, m.Payload)
	}
	return out
}

// eventLog collects an engine's events.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func (l *eventLog) add(ev Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) of(kind EventKind) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, ev := range l.evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// TestSubscriberRESP2ShardedMoves follows a sharded channel, on RESP2, from
// a node that unsubscribes it (its slot migrated) and then answers MOVED,
// to the node MOVED names: messages from both arrive, and one
// EventResubscribed reports the gap on the new node.
func TestSubscriberRESP2ShardedMoves(t *testing.T) {
	fc := newFakeCluster(t, 2)
	old, moved := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, old))
	var calls atomic.Int32
	fc.nodes[0].Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
		if calls.Add(1) == 1 {
			return resptest.Raw(resp2(1, "ssubscribe", "ch") + resp2(-1, "smessage", "ch", "one") + resp2(0, "sunsubscribe", "ch"))
		}
		return resptest.Err(fmt.Sprintf("MOVED %d %s", Slot("ch"), moved))
	})
	fc.nodes[1].Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
		// A RESP2 subscribed connection's PONG, unasked here, is ignored.
		return resptest.Raw(resp2(1, "ssubscribe", "ch") + resp2(-1, "pong", "") + resp2(-1, "smessage", "ch", "two"))
	})
	setUnsubscribedHold(t, 0) // old answers MOVED to the next SSUBSCRIBE
	var log eventLog
	e := newFakeEngine(t, fc, Options{Conn: connOptions(2), OnEvent: log.add})
	var box inbox
	s, err := e.Subscribe(testCtx(t), SubSharded, []string{"ch"}, SubOptions{Deliver: box.deliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testutil.WaitFor(t, 5*time.Second, "both messages", func() bool { return len(box.payloads()) == 2 })
	if got := box.payloads(); got[0] != "one" || got[1] != "two" {
		t.Fatalf("messages %q", got)
	}
	testutil.WaitFor(t, 5*time.Second, "EventResubscribed", func() bool { return len(log.of(Resubscribed)) == 1 })
	ev := log.of(Resubscribed)[0]
	if ev.Node != moved || ev.Gap <= 0 || !strings.Contains(ev.Cause, "slot migrated") {
		t.Fatalf("event %+v: want Node %s, a Gap, the server's unsubscription as Cause", ev, moved)
	}
	if sh, _ := e.topo.Load().ShardFor(Slot("ch")); sh.Primary.Addr != moved {
		t.Fatalf("MOVED did not patch the slot: owner %s", sh.Primary.Addr)
	}
}

// connOptions speaks proto, without pings.
func connOptions(proto int) conn.Options { return conn.Options{Protocol: proto, PingInterval: -1} }

// TestSubscriberErrorReply: a subscription the server refuses for good
// (NOPERM) fails Subscribe with the server's error, and leaves nothing
// running (goleak).
func TestSubscriberErrorReply(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Err("NOPERM this user has no permissions to access one of the channels")
	})
	e := newFakeEngine(t, fc, Options{})
	var box inbox
	closed := make(chan struct{})
	_, err := e.Subscribe(testCtx(t), SubChannels, []string{"secret"}, SubOptions{Deliver: box.deliver, Closed: func() { close(closed) }})
	if !errors.Is(err, resp.ErrNoPerm) {
		t.Fatalf("Subscribe: %v, want NOPERM", err)
	}
	select {
	case <-closed:
	default:
		t.Fatal("Closed not called after a failed Subscribe")
	}
}

// TestSubscriberPing: PING keeps an idle subscriber connection alive, and
// a node that stops answering is left for another within PingInterval +
// HealthTimeout.
func TestSubscriberPing(t *testing.T) {
	fc := newFakeCluster(t, 2)
	fc.setView(oneShard(1, fc.addr(0), fc.addr(1)))
	var pings [2]atomic.Int32
	for i, n := range fc.nodes {
		n.Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
			return resptest.Raw(resp2(1, "subscribe", cmd[1]))
		})
		n.Handle("PING", func(cmd []string) resptest.Reply {
			pings[i].Add(1)
			return resptest.Raw("+PONG\r\n")
		})
	}
	var log eventLog
	opts := Options{OnEvent: log.add}
	opts.Conn.Protocol = 2
	opts.Conn.PingInterval = 20 * time.Millisecond
	opts.Conn.HealthTimeout = 50 * time.Millisecond
	e := newFakeEngine(t, fc, opts)
	s, err := e.Subscribe(testCtx(t), SubChannels, []string{"ch"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := 0 // the subscriber's node
	if fc.nodes[1].Count("SUBSCRIBE") == 1 {
		first = 1
	}
	testutil.WaitFor(t, 5*time.Second, "a few pings answered", func() bool { return pings[first].Load() >= 5 })
	if n := len(log.of(Resubscribed)); n != 0 {
		t.Fatalf("%d resubscriptions while every ping was answered", n)
	}
	fc.nodes[first].Freeze()
	defer fc.nodes[first].Thaw()
	testutil.WaitFor(t, 5*time.Second, "resubscribed elsewhere", func() bool { return len(log.of(Resubscribed)) == 1 })
	if ev := log.of(Resubscribed)[0]; ev.Node != fc.addr(1-first) {
		t.Fatalf("event %+v: want the other node", ev)
	}
}

// slowPingOptions ping rarely and expect a PING's reply soon: a PING
// interval more than three times the health timeout.
func slowPingOptions(log *eventLog, ping, health time.Duration) Options {
	opts := Options{OnEvent: log.add}
	opts.Conn.Protocol = 2
	opts.Conn.PingInterval = ping
	opts.Conn.HealthTimeout = health
	return opts
}

// TestSubscriberSlowPingHealthy: with a PING interval far above the health
// timeout, an idle connection whose node answers every PING at once is
// never taken for dead, however its other reads fell. No suspicion, no
// reconnection.
func TestSubscriberSlowPingHealthy(t *testing.T) {
	const ping, health = time.Second, 40 * time.Millisecond
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	var pings atomic.Int32 // the subscriber connection's
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		// The stream takes the connection over. It answers each PING at
		// once, then sends two messages, 0.4s and 0.6s later: PINGs go
		// on ticks every ping/2 to a connection idle that long, so the
		// next one comes 1.5s after this one, 0.9s after the last read.
		return resptest.Stream(func(w io.Writer) {
			rd := resp.NewReader(w.(io.Reader), resp.Limits{})
			if _, err := io.WriteString(w, resp2(1, "subscribe", cmd[1])); err != nil {
				return
			}
			for {
				v, err := rd.Read()
				if err != nil || len(v.Elems) == 0 || !strings.EqualFold(v.Elems[0].Str, "PING") {
					return
				}
				pings.Add(1)
				if _, err := io.WriteString(w, resp2(-1, "pong", "")); err != nil {
					return
				}
				for _, pause := range []time.Duration{400 * time.Millisecond, 200 * time.Millisecond} {
					time.Sleep(pause)
					if _, err := io.WriteString(w, resp2(-1, "message", cmd[1], "tick")); err != nil {
						return
					}
				}
			}
		})
	})
	var log eventLog
	e := newFakeEngine(t, fc, slowPingOptions(&log, ping, health))
	s, err := e.Subscribe(testCtx(t), SubChannels, []string{"ch"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testutil.WaitFor(t, 10*time.Second, "pings answered", func() bool {
		return pings.Load() >= 2 || len(log.of(NodeSuspect)) > 0
	})
	if evs := log.of(NodeSuspect); len(evs) != 0 {
		t.Fatalf("node suspect though every PING was answered: %+v", evs)
	}
	if n := fc.nodes[0].Count("SUBSCRIBE"); n != 1 {
		t.Fatalf("%d SUBSCRIBE sent, want 1: the healthy connection was dropped", n)
	}
}

// TestSubscriberSlowPingDead: a subscriber connection whose node stops
// answering is found dead when its PING goes unanswered for the health
// timeout, at most PingInterval + HealthTimeout after its last reply, and
// the subscription is restored.
func TestSubscriberSlowPingDead(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	release := make(chan struct{})
	defer close(release) // before the server closes: it waits for the stream
	var subs atomic.Int32
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		confirm := resp2(1, "subscribe", cmd[1])
		if subs.Add(1) > 1 {
			return resptest.Raw(confirm)
		}
		// The first connection confirms, then reads (and answers) nothing
		// more; the shared connections keep answering.
		return resptest.Stream(func(w io.Writer) {
			if _, err := io.WriteString(w, confirm); err == nil {
				<-release
			}
		})
	})
	var log eventLog
	opts := slowPingOptions(&log, 400*time.Millisecond, 40*time.Millisecond)
	e := newFakeEngine(t, fc, opts)
	s, err := e.Subscribe(testCtx(t), SubChannels, []string{"ch"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	confirmed := time.Now()
	testutil.WaitFor(t, 5*time.Second, "the node suspect", func() bool { return len(log.of(NodeSuspect)) == 1 })
	elapsed := time.Since(confirmed)
	ping, health := opts.Conn.PingInterval, opts.Conn.HealthTimeout
	if ev := log.of(NodeSuspect)[0]; !errors.Is(ev.Err, conn.ErrHealthTimeout) {
		t.Errorf("suspect for %v, want the health timeout", ev.Err)
	}
	if elapsed < ping/2 || elapsed > ping+health+700*time.Millisecond {
		t.Errorf("found dead after %v, want between %v and about %v", elapsed, ping/2, ping+health)
	}
	testutil.WaitFor(t, 5*time.Second, "resubscribed", func() bool { return len(log.of(Resubscribed)) == 1 })
	if ev := log.of(Resubscribed)[0]; !strings.Contains(ev.Cause, "PING") {
		t.Errorf("resubscribed for %q, want the unanswered PING", ev.Cause)
	}
}

// TestSubscriberPingErrorReply: an error reply to PING (-BUSY) answers the
// PING, not the subscription sent after it: the subscription is confirmed
// on the same connection, which stays up.
func TestSubscriberPingErrorReply(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	pinged := make(chan struct{})
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		// The stream takes the connection over: once a PING came, it waits
		// for the next SUBSCRIBE, then answers both in order.
		return resptest.Stream(func(w io.Writer) {
			rd := resp.NewReader(w.(io.Reader), resp.Limits{})
			if _, err := io.WriteString(w, resp2(1, "subscribe", cmd[1])); err != nil {
				return
			}
			var ping bool
			for {
				v, err := rd.Read()
				if err != nil || len(v.Elems) < 1 {
					return
				}
				switch strings.ToUpper(v.Elems[0].Str) {
				case "PING":
					if !ping {
						ping = true
						close(pinged)
					}
				case "SUBSCRIBE":
					if _, err := io.WriteString(w, "-BUSY Redis is busy running a script\r\n"+resp2(2, "subscribe", v.Elems[1].Str)); err != nil {
						return
					}
				default:
					return
				}
			}
		})
	})
	var log eventLog
	opts := Options{OnEvent: log.add}
	opts.Conn.Protocol = 2
	opts.Conn.PingInterval = 50 * time.Millisecond
	opts.Conn.HealthTimeout = 5 * time.Second
	e := newFakeEngine(t, fc, opts)
	s, err := e.Subscribe(testCtx(t), SubChannels, []string{"a"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case <-pinged:
	case <-time.After(5 * time.Second):
		t.Fatal("no PING")
	}
	if err := s.Add(testCtx(t), []string{"b"}); err != nil {
		t.Fatalf("Add after a PING answered -BUSY: %v", err)
	}
	if n := fc.nodes[0].Count("SUBSCRIBE"); n != 1 {
		t.Errorf("%d connections subscribed, want 1: the connection was dropped", n)
	}
	if evs := log.of(Resubscribed); len(evs) != 0 {
		t.Errorf("resubscribed: %+v", evs)
	}
}

// TestSubscriberRemoveDuringAdd: Remove of a name whose Add still awaits
// the server's confirmation fails that Add with ErrUnsubscribed; an Add
// whose context ended leaves no waiter behind.
func TestSubscriberRemoveDuringAdd(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		if cmd[1] == "never" {
			return resptest.Reply{} // no confirmation
		}
		return resptest.Raw(resp2(1, "subscribe", cmd[1]))
	})
	fc.nodes[0].Handle("UNSUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(1, "unsubscribe", cmd[1]))
	})
	e := newFakeEngine(t, fc, Options{Conn: connOptions(2)})
	s, err := e.Subscribe(testCtx(t), SubChannels, []string{"a"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	added := make(chan error, 1)
	go func() { added <- s.Add(testCtx(t), []string{"never"}) }()
	testutil.WaitFor(t, 5*time.Second, "SUBSCRIBE never sent", func() bool { return fc.nodes[0].Count("SUBSCRIBE") == 2 })
	if err := s.Remove(testCtx(t), []string{"never"}); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := <-added; !errors.Is(err, ErrUnsubscribed) {
		t.Fatalf("Add: %v, want ErrUnsubscribed", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Add(ctx, []string{"never"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Add: %v, want the deadline", err)
	}
	if err := s.Add(testCtx(t), []string{"a"}); err != nil { // a turn of the run loop
		t.Fatal(err)
	}
	s.Close() // the run goroutine ended: its state can be read
	if n := len(s.st.waiters); n != 0 {
		t.Fatalf("%d waiters left after their callers returned", n)
	}
}

// TestSubscriberFirstMovedIsNoResubscription: a sharded subscription whose
// first SSUBSCRIBE is answered MOVED was never established: its
// confirmation on the new owner is no re-subscription. Only a loss after
// it is.
func TestSubscriberFirstMovedIsNoResubscription(t *testing.T) {
	fc := newFakeCluster(t, 2)
	old, owner := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, old))
	fc.nodes[0].Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Err(fmt.Sprintf("MOVED %d %s", Slot("ch"), owner))
	})
	fc.nodes[1].Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(1, "ssubscribe", "ch"))
	})
	var log eventLog
	e := newFakeEngine(t, fc, Options{Conn: connOptions(2), OnEvent: log.add})
	fc.setView(oneShard(2, owner))
	s, err := e.Subscribe(testCtx(t), SubSharded, []string{"ch"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fc.nodes[1].DropConnections()
	testutil.WaitFor(t, 5*time.Second, "EventResubscribed", func() bool { return len(log.of(Resubscribed)) > 0 })
	evs := log.of(Resubscribed) // in order: one for the first MOVED would come first
	if len(evs) != 1 || !strings.Contains(evs[0].Cause, "connection lost") {
		t.Fatalf("events %+v: want one, for the lost connection", evs)
	}
}

// TestSubscriberStaysOnSlotlessMember: right after a failover, the nodes
// that have not yet learned that the old primary follows the new one list
// it as a primary without slots. A channel subscription on it stays there,
// where it still works: moving it would lose the messages published
// meanwhile, and could deliver some twice, each node receiving a PUBLISH
// at its own pace. Once no node lists the old primary, it moves.
func TestSubscriberStaysOnSlotlessMember(t *testing.T) {
	fc := newFakeCluster(t, 2)
	old, promoted := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, old))
	push, release := make(chan struct{}), make(chan struct{})
	defer close(release) // before the server closes: it waits for the stream
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Stream(func(w io.Writer) {
			if _, err := io.WriteString(w, resp2(1, "subscribe", cmd[1])); err != nil {
				return
			}
			select {
			case <-push:
				_, _ = io.WriteString(w, resp2(-1, "message", cmd[1], "after the failover"))
			case <-release:
			}
		})
	})
	fc.nodes[1].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(1, "subscribe", cmd[1]))
	})
	var log eventLog
	e := newFakeEngine(t, fc, Options{Conn: connOptions(2), OnEvent: log.add})
	var box inbox
	s, err := e.Subscribe(testCtx(t), SubChannels, []string{"ch"}, SubOptions{Deliver: box.deliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	fc.setView(resptest.Topology{Epoch: 2, Shards: []resptest.Shard{
		{Slots: [][2]int{{0, SlotCount - 1}}, Primary: promoted},
		{Primary: old}, // no slots
	}})
	e.trigger("test: failover")
	testutil.WaitFor(t, 5*time.Second, "the failover seen", func() bool {
		sh, ok := e.topo.Load().ShardFor(0)
		return ok && sh.Primary.Addr == promoted
	})
	if top := e.topo.Load(); top.Has(old) || !top.Member(old) {
		t.Fatalf("old primary: Has %v, Member %v; want a member in no shard", top.Has(old), top.Member(old))
	}
	// Two turns of the run loop: the second one's reconcile began after
	// the first request was answered, with the new topology.
	for range 2 {
		if err := s.Add(testCtx(t), []string{"ch"}); err != nil {
			t.Fatal(err)
		}
	}
	close(push)
	testutil.WaitFor(t, 5*time.Second, "the old primary's message", func() bool { return len(box.payloads()) == 1 })
	if n := fc.nodes[1].Count("SUBSCRIBE"); n != 0 {
		t.Fatalf("%d SUBSCRIBE sent to the new primary: the subscription moved", n)
	}
	if evs := log.of(Resubscribed); len(evs) != 0 {
		t.Fatalf("resubscribed: %+v", evs)
	}

	fc.setView(oneShard(3, promoted)) // the old primary forgotten
	e.trigger("test: forgotten")
	testutil.WaitFor(t, 5*time.Second, "resubscribed", func() bool { return len(log.of(Resubscribed)) == 1 })
	if ev := log.of(Resubscribed)[0]; ev.Node != promoted || !strings.Contains(ev.Cause, "left the cluster") {
		t.Fatalf("event %+v: want the new primary, for the old one leaving the cluster", ev)
	}
}

// TestSubscriberMovedNameNotDeliveredByOldLink: once a sharded channel
// moved to its slot's new owner, a message its old node sends before it
// processed the SUNSUBSCRIBE is not delivered. It belongs to the gap the
// restoration reports, and could be delivered by the new owner too (a
// SPUBLISH reaches every node of the shard). The old link still delivers
// the channels that stayed on it.
func TestSubscriberMovedNameNotDeliveredByOldLink(t *testing.T) {
	fc := newFakeCluster(t, 2)
	old, owner := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(1, old))
	slot := Slot("ch")
	if Slot("other") == slot {
		t.Fatal("the channels share a slot")
	}
	fc.nodes[0].Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(1, "ssubscribe", cmd[1]))
	})
	fc.nodes[0].Handle("SUNSUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(-1, "smessage", "ch", "late") + resp2(1, "sunsubscribe", "ch") +
			resp2(-1, "smessage", "other", "stayed"))
	})
	fc.nodes[1].Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(1, "ssubscribe", cmd[1]) + resp2(-1, "smessage", cmd[1], "moved"))
	})
	var log eventLog
	e := newFakeEngine(t, fc, Options{Conn: connOptions(2), OnEvent: log.add})
	var box inbox
	s, err := e.Subscribe(testCtx(t), SubSharded, []string{"ch", "other"}, SubOptions{Deliver: box.deliver})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var rest [][2]int
	if slot > 0 {
		rest = append(rest, [2]int{0, slot - 1})
	}
	if slot < SlotCount-1 {
		rest = append(rest, [2]int{slot + 1, SlotCount - 1})
	}
	fc.setView(resptest.Topology{Epoch: 2, Shards: []resptest.Shard{
		{Slots: rest, Primary: old},
		{Slots: [][2]int{{slot, slot}}, Primary: owner},
	}})
	e.trigger("test: slot moved")
	testutil.WaitFor(t, 5*time.Second, "the new owner's message and the old node's last", func() bool {
		got := box.payloads()
		return slices.Contains(got, "moved") && slices.Contains(got, "stayed")
	})
	// "late" came before "stayed", on the same connection.
	if got := box.payloads(); slices.Contains(got, "late") {
		t.Fatalf("messages %q: the old node's message after the move was delivered", got)
	}
	if n := fc.nodes[0].Count("SUNSUBSCRIBE"); n != 1 {
		t.Fatalf("%d SUNSUBSCRIBE sent to the old node, want 1", n)
	}
}

// TestSubscriberShardedNotBackOnUnsubscriber: a sharded channel the server
// unsubscribed (a failover demoted its node) is not subscribed again on the
// same node while keel's topology still names it: it waits for the topology
// that names the new primary, and goes there. Only after unsubscribedHold
// with no such topology does it go back.
func TestSubscriberShardedNotBackOnUnsubscriber(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hold     time.Duration
		failover bool   // the view then names the new primary
		want     string // the node it is restored on: "old" or "promoted"
	}{
		{"the new topology", time.Hour, true, "promoted"},
		{"the hold passed", 200 * time.Millisecond, false, "old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setUnsubscribedHold(t, tc.hold)
			fc, e, s, log := subscribedBeforeFailover(t, 1)
			old, promoted := fc.addr(0), fc.addr(1)
			other, third := "other", "third"
			if slot := Slot("ch"); Slot(third) == slot || Slot(other) == Slot(third) {
				t.Fatal("channels share a slot")
			}
			// other's confirmation comes after the SUNSUBSCRIBE, so the run
			// loop has taken the unsubscription when Add returns; third's
			// comes after whatever was sent on the connection meanwhile.
			for _, n := range []string{other, third} {
				if err := s.Add(testCtx(t), []string{n}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.failover {
				if n := fc.nodes[0].Count("SSUBSCRIBE"); n != 3 {
					t.Fatalf("%d SSUBSCRIBE sent to the old primary, want 3: ch went back to it", n)
				}
				fc.setView(oneShard(2, promoted, old))
				e.trigger("test: failover seen")
			}
			node := map[string]string{"old": old, "promoted": promoted}[tc.want]
			var restored Event
			testutil.WaitFor(t, 5*time.Second, "resubscribed on "+tc.want, func() bool {
				for _, ev := range log.of(Resubscribed) {
					if ev.Node == node && strings.Contains(ev.Cause, "server unsubscribed") {
						restored = ev
						return true
					}
				}
				return false
			})
			if tc.failover {
				if n := fc.nodes[0].Count("SSUBSCRIBE"); n != 3 {
					t.Errorf("%d SSUBSCRIBE sent to the old primary, want 3", n)
				}
			} else if restored.Gap < tc.hold {
				t.Errorf("gap %v, want at least the hold (%v)", restored.Gap, tc.hold)
			}
		})
	}
}

// TestSubscriberShardedAsksUnsubscriber: the node that unsubscribed a
// sharded channel is asked who serves its slot now, and the channel goes
// there even when no refresh shows it (here every view is older than keel's
// topology, which a refresh therefore keeps).
func TestSubscriberShardedAsksUnsubscriber(t *testing.T) {
	setUnsubscribedHold(t, time.Hour)
	fc, _, s, log := subscribedBeforeFailover(t, 5)
	old, promoted := fc.addr(0), fc.addr(1)
	fc.setView(oneShard(3, promoted, old))
	if err := s.Add(testCtx(t), []string{"other"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "ch resubscribed on the new primary", func() bool {
		for _, ev := range log.of(Resubscribed) {
			if ev.Node == promoted && strings.Contains(ev.Cause, "server unsubscribed") {
				return true
			}
		}
		return false
	})
}

// subscribedBeforeFailover returns a fake cluster whose node 0 is the
// primary (node 1 its replica) in a view of epoch, and a Subscriber of the
// sharded channel "ch" on it. Node 0 unsubscribes ch, as a failover does, just
// before it confirms a subscription to "other" (another slot).
func subscribedBeforeFailover(t *testing.T, epoch int64) (*fakeCluster, *Engine, *Subscriber, *eventLog) {
	t.Helper()
	if Slot("ch") == Slot("other") {
		t.Fatal("channels share a slot")
	}
	fc := newFakeCluster(t, 2)
	fc.setView(oneShard(epoch, fc.addr(0), fc.addr(1)))
	for i, n := range fc.nodes {
		n.Handle("SSUBSCRIBE", func(cmd []string) resptest.Reply {
			confirm := resp2(1, "ssubscribe", cmd[1])
			if i == 0 && cmd[1] == "other" {
				confirm = resp2(0, "sunsubscribe", "ch") + confirm
			}
			return resptest.Raw(confirm)
		})
	}
	log := &eventLog{}
	e := newFakeEngine(t, fc, Options{Conn: connOptions(2), OnEvent: log.add})
	s, err := e.Subscribe(testCtx(t), SubSharded, []string{"ch"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return fc, e, s, log
}

// setUnsubscribedHold sets unsubscribedHold for the test.
func setUnsubscribedHold(t *testing.T, d time.Duration) {
	old := unsubscribedHold
	unsubscribedHold = d
	t.Cleanup(func() { unsubscribedHold = old })
}
