package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/keel-go/keel/internal/conn"
)

// Subscriptions ride on connections of their own (subLink), never on the
// shared auto-pipelined ones: a subscriber slow to read its socket must not
// hold up the commands queued behind it; a shared connection matches replies
// to requests in order and checks its health by the oldest request's reply,
// while a subscribed connection receives messages nobody asked for; and on
// RESP2 a subscribed connection accepts no other command. Each Subscriber owns
// its connections: one, to any node, for channels and patterns (the cluster
// bus carries a PUBLISH to every node); one per primary owning a slot of its
// sharded channels.

// SubKind says which family of commands a Subscriber uses.
type SubKind uint8

// Subscriber kinds.
const (
	SubChannels SubKind = iota + 1 // SUBSCRIBE
	SubPatterns                    // PSUBSCRIBE
	SubSharded                     // SSUBSCRIBE
)

// verbs returns the subscribe and unsubscribe commands, upper case.
func (k SubKind) verbs() (sub, unsub string) {
	switch k {
	case SubPatterns:
		return "PSUBSCRIBE", "PUNSUBSCRIBE"
	case SubSharded:
		return "SSUBSCRIBE", "SUNSUBSCRIBE"
	}
	return "SUBSCRIBE", "UNSUBSCRIBE"
}

// Message is one message a Subscriber received.
type Message struct {
	Channel string
	Pattern string // the matching pattern, for SubPatterns
	Payload string
}

// SubOptions are a Subscriber's callbacks.
type SubOptions struct {
	// Deliver receives each message, in order per connection, on the
	// connection's reader goroutine: it must not block.
	Deliver func(Message)
	// Lost is called for a message dropped because it exceeded the reply
	// limits (its connection is closed and the subscriptions restored).
	Lost func()
	// Closed is called once, after every goroutine of the Subscriber ended.
	Closed func()
}

// Subscriber keeps a set of channels (or patterns) subscribed through
// failures: lost connections, suspect or removed nodes, failovers and slot
// migrations. One run goroutine owns its state; each connection has a reader
// goroutine; dials run on goroutines of their own.
type Subscriber struct {
	e    *Engine
	kind SubKind
	o    SubOptions

	ping   time.Duration // PING an idle connection this often; 0: never
	health time.Duration // a write, or a ping's reply, may take this long; 0: unbounded

	ctx       context.Context // ends with Close
	cancel    context.CancelFunc
	reqs      chan subRequest
	notes     chan subNote
	wg        sync.WaitGroup
	closeOnce sync.Once

	st subState // the run goroutine's
}

// subRequest asks the run goroutine to add or remove names; done receives
// the outcome once the server confirmed.
type subRequest struct {
	ctx   context.Context // the caller's: its waiter is dropped when it ends
	add   bool
	names []string
	done  chan error
}

// Subscribe starts a Subscriber of kind for names (not empty) and returns
// once the server confirmed every one, or with ctx's error (bounded by
// RetryTimeout when ctx has no deadline).
func (e *Engine) Subscribe(ctx context.Context, kind SubKind, names []string, o SubOptions) (*Subscriber, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-e.closing:
		return nil, ErrClosed
	default:
	}
	s := &Subscriber{e: e, kind: kind, o: o,
		reqs:  make(chan subRequest),
		notes: make(chan subNote, 64),
	}
	s.ping, s.health = liveness(e.opts.Conn)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.st.init()
	if !e.subs.add(s) {
		s.cancel()
		return nil, ErrClosed
	}
	s.wg.Add(1)
	go s.run()
	if err := s.Add(ctx, names); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// liveness returns the ping interval and health timeout of the connection
// options, defaults applied; 0 for a disabled one.
func liveness(o conn.Options) (ping, health time.Duration) {
	ping, health = o.PingInterval, o.HealthTimeout
	if ping == 0 {
		ping = conn.DefaultPingInterval
	}
	if health == 0 {
		health = conn.DefaultHealthTimeout
	}
	return max(ping, 0), max(health, 0)
}

// Add subscribes names too, returning once the server confirmed them (see
// Engine.Subscribe for ctx). Names already subscribed are not sent again.
// On ctx's end the names stay wanted and are subscribed when possible. A
// name that a concurrent Remove removed before its confirmation fails Add
// with ErrUnsubscribed.
func (s *Subscriber) Add(ctx context.Context, names []string) error {
	return s.request(ctx, true, names)
}

// Remove unsubscribes names, returning once the server confirmed. Names not
// subscribed are ignored, as Redis does.
func (s *Subscriber) Remove(ctx context.Context, names []string) error {
	return s.request(ctx, false, names)
}

func (s *Subscriber) request(ctx context.Context, add bool, names []string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.e.opts.RetryTimeout)
		defer cancel()
	}
	done := make(chan error, 1)
	select {
	case s.reqs <- subRequest{ctx: ctx, add: add, names: names, done: done}:
	case <-s.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-s.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes the Subscriber's connections and returns once its goroutines
// ended and SubOptions.Closed ran. It is idempotent.
func (s *Subscriber) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.e.subs.remove(s)
		if s.o.Closed != nil {
			s.o.Closed()
		}
	})
}

// note hands a link's or a dial's news to the run goroutine, unless the
// Subscriber is closing; a dialled connection nobody will take is closed.
func (s *Subscriber) note(n subNote) {
	select {
	case s.notes <- n:
	case <-s.ctx.Done():
		if n.raw != nil {
			_ = n.raw.Close()
		}
	}
}

// subRegistry is the engine's set of open Subscribers, closed with it.
type subRegistry struct {
	mu     sync.Mutex
	closed bool
	set    map[*Subscriber]struct{}
}

func (r *subRegistry) add(s *Subscriber) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if r.set == nil {
		r.set = map[*Subscriber]struct{}{}
	}
	r.set[s] = struct{}{}
	return true
}

func (r *subRegistry) remove(s *Subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.set, s)
}

// closeAll refuses new Subscribers and closes every open one.
func (r *subRegistry) closeAll() {
	r.mu.Lock()
	r.closed = true
	all := make([]*Subscriber, 0, len(r.set))
	for s := range r.set {
		all = append(all, s)
	}
	r.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
}
