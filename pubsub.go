package keel

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/keel-go/keel/internal/cluster"
)

// DefaultSubscriptionBuffer is how many messages a Subscription holds for
// a reader that has not taken them yet: 1024.
const DefaultSubscriptionBuffer = 1024

// Message is one message a Subscription received.
type Message struct {
	Channel string // the channel it was published to
	Pattern string // the pattern that matched, for PSubscribe; "" otherwise
	Payload string
}

// Subscription is a set of channels (or patterns, or sharded channels)
// that keel keeps subscribed, and the messages published to them.
//
// A Subscription has connections of its own, never the shared ones that
// carry commands: a subscriber slow to read must never delay commands; a
// shared connection matches replies to requests in order and checks its
// health by the reply to the oldest, while a subscribed connection receives
// messages nobody asked for; and a RESP2 server accepts no other command on
// a subscribed connection. Subscribe and PSubscribe use one connection, to
// any node (the cluster passes a PUBLISH to every node); SSubscribe one per
// primary owning the slot of some of its channels.
//
// keel restores the subscriptions after a lost connection (found by PING
// every Options.PingInterval when idle, with no reply within
// Options.HealthTimeout counting as lost), a node that becomes suspect or
// leaves the cluster, a failover, and for sharded channels a slot that
// moves (a new topology, the server's SUNSUBSCRIBE, or MOVED): it
// resubscribes on the right node, retrying with a backoff until it succeeds
// or the Subscription is closed. Each restoration is reported to
// Options.OnEvent as an EventResubscribed with the gap's length. Pub/Sub
// stores nothing: messages published during a gap are not received, nor
// are those a connection keel gave up on still brings.
//
// A subscription moves to another node only when it must: channels and
// patterns stay on a node as long as it answers and the cluster lists it,
// a primary demoted by a failover included. Each node receives a published
// message over a cluster bus link of its own, at its own pace, so after a
// move the new node may deliver again a message the old one delivered just
// before it failed. A sharded channel the server unsubscribed (its slot
// left the node's shard, or a failover demoted the node) is subscribed on
// its slot's primary as soon as keel's topology names another node, and
// on the same node again only if none does within 2 s: subscribed on a
// demoted primary, it would get nothing until the new primary learns that
// the node follows it, and the later move could deliver a message twice.
//
// Messages arrive on Messages, a channel buffered to
// Options.SubscriptionBuffer, in the order their node sent them: in
// publishing order per channel (Publish sends each channel's messages from
// one node), and for sharded channels per shard. keel never waits for the reader: a message
// that finds the buffer full is dropped and counted by Dropped, and so is a
// message over the reply limits (Options.MaxBulkBytes…), whose connection
// is then closed and the subscriptions restored.
//
// A Subscription is safe for concurrent use. Close it when done; closing
// the Client closes it too.
type Subscription struct {
	sub     *cluster.Subscriber
	msgs    chan Message
	dropped atomic.Int64
}

// Subscribe subscribes to channels (SUBSCRIBE) and returns once the server
// confirmed them. It fails with ErrArgument for no channels, with ErrClosed
// on a closed client, and with ctx's error (when ctx has no deadline,
// after Options.RetryTimeout) if the cluster could not confirm in time.
func (c *Client) Subscribe(ctx context.Context, channels ...string) (*Subscription, error) {
	return c.subscribe(ctx, cluster.SubChannels, channels)
}

// PSubscribe subscribes to patterns (PSUBSCRIBE, glob-style such as
// "news.*"); see Subscribe. Messages carry the pattern that matched.
func (c *Client) PSubscribe(ctx context.Context, patterns ...string) (*Subscription, error) {
	return c.subscribe(ctx, cluster.SubPatterns, patterns)
}

// SSubscribe subscribes to sharded channels (SSUBSCRIBE): each is served by
// the primary owning its slot, and receives what SPublish sends. Channels
// in different slots are fine: keel groups them by owner. See Subscribe.
func (c *Client) SSubscribe(ctx context.Context, channels ...string) (*Subscription, error) {
	return c.subscribe(ctx, cluster.SubSharded, channels)
}

func (c *Client) subscribe(ctx context.Context, kind cluster.SubKind, names []string) (*Subscription, error) {
	if ctx == nil {
		return nil, ErrNilContext
	}
	if err := checkNames(kind, names); err != nil {
		return nil, err
	}
	s := &Subscription{msgs: make(chan Message, c.subBuffer)}
	sub, err := c.e.Subscribe(ctx, kind, names, cluster.SubOptions{
		Deliver: s.deliver,
		Lost:    func() { s.dropped.Add(1) },
		Closed:  func() { close(s.msgs) },
	})
	if err != nil {
		return nil, err
	}
	s.sub = sub
	return s, nil
}

// checkNames refuses an empty list: SUBSCRIBE needs a channel.
func checkNames(kind cluster.SubKind, names []string) error {
	if len(names) == 0 {
		what := "channels"
		if kind == cluster.SubPatterns {
			what = "patterns"
		}
		return fmt.Errorf("%w: no %s", ErrArgument, what)
	}
	return nil
}

// deliver hands a message to the reader without ever waiting.
func (s *Subscription) deliver(m cluster.Message) {
	select {
	case s.msgs <- Message(m):
	default:
		s.dropped.Add(1)
	}
}

// Messages returns the channel of the messages received, in order (see
// Subscription). It is closed after Close, or when the client closes.
func (s *Subscription) Messages() <-chan Message { return s.msgs }

// Subscribe adds channels (patterns, for a PSubscribe subscription) and
// returns once the server confirmed them; those already subscribed are not
// sent again. On ctx's end first the channels stay subscribed-to-be: keel
// subscribes them when it can (Unsubscribe them to give up). It fails with
// ErrArgument for no channels, ErrClosed after Close, and ErrUnsubscribed
// when a concurrent Unsubscribe removed a channel before the server
// confirmed it.
func (s *Subscription) Subscribe(ctx context.Context, channels ...string) error {
	if ctx == nil {
		return ErrNilContext
	}
	if err := checkNames(cluster.SubChannels, channels); err != nil {
		return err
	}
	return s.sub.Add(ctx, channels)
}

// Unsubscribe removes channels (patterns, for a PSubscribe subscription)
// and returns once the server confirmed; messages already buffered stay in
// Messages. Channels not subscribed, or already unsubscribed, are ignored
// without error, as Redis does; no channels is nothing to do. The
// Subscription stays open with no channels until Close.
func (s *Subscription) Unsubscribe(ctx context.Context, channels ...string) error {
	if ctx == nil {
		return ErrNilContext
	}
	if len(channels) == 0 {
		return nil
	}
	return s.sub.Remove(ctx, channels)
}

// Close unsubscribes everything by closing the Subscription's connections,
// and closes Messages once its goroutines have ended. It is idempotent: a
// second call returns nil.
func (s *Subscription) Close() error {
	s.sub.Close()
	return nil
}

// Dropped returns how many messages were dropped: because Messages was
// full when they arrived, or because they exceeded the reply limits.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }
