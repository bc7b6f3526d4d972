package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// The watcher is the drill's reference clock: it tells when the cluster
// itself served a slot again, independently of any client, by asking every
// node directly. A slot is served by a node when a write to a key in it (a
// SET with a 60 s expiry) gets a non-error reply from that node: a replica
// answers MOVED, a killed node refuses the connection, a paused one does
// not answer in time, a node that considers the cluster down answers
// CLUSTERDOWN, and a primary whose writes are paused for a manual failover
// holds the write past the probe's timeout. A read would not do: a primary
// answers reads through that pause, so a shard would look served while no
// node accepts its writes.

// WatchOptions configures [Cluster.Watch]. The zero value watches the first
// slot of every shard, probing every node every 10 ms with a 100 ms timeout.
type WatchOptions struct {
	// Interval is how often each node is probed. Default 10ms.
	Interval time.Duration
	// ProbeTimeout is how long a node has to answer a probe (and, separately,
	// to accept a connection) before it counts as serving nothing.
	// Default 100ms.
	ProbeTimeout time.Duration
	// Slots are the slots to watch. Default: the first slot of each shard's
	// range at Watch time.
	Slots []int
}

// WatchEvent is one change the watcher saw.
type WatchEvent struct {
	// At is when the probe reply (or failure) that revealed it was observed.
	At time.Time
	// Kind is "served" (Slot has a serving primary again, or a different
	// one: Node), "unserved" (no node serves Slot any more) or "role" (Node
	// reported a new role, Detail "master" or "slave"; the first role seen
	// of each node is reported too).
	Kind string
	// Slot is the slot of a served or unserved event; 0 for role events.
	Slot int
	// Node is the address of the node concerned; empty for unserved.
	Node string
	// Detail is the role of a role event.
	Detail string
}

// Watcher polls every member of a cluster and records when watched slots
// become served or unserved and when nodes change role. Its methods are
// safe for concurrent use. Close it when done.
type Watcher struct {
	c       *Cluster
	opts    WatchOptions
	tlsConf *tls.Config
	probe   []byte // one round, pipelined: ROLE then a SET per watched slot

	ctx       context.Context // cancelled by Close; ends every goroutine
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	// pollers stops each node's poller. Only Watch, then the membership
	// goroutine, use it, so it needs no lock.
	pollers map[*Node]context.CancelFunc

	mu      sync.Mutex
	events  []WatchEvent     // in time order
	changed chan struct{}    // closed and replaced whenever an event is added
	roles   map[*Node]string // last role reported by each node
	serving []map[*Node]bool // per watched slot: nodes whose last probe it served
	server  []*Node          // per watched slot: node of the last served event; nil when unserved
}

// Watch starts watching the cluster and returns once every member has been
// probed once, so the initial "served" and "role" events are already
// recorded. ctx bounds start-up only; the watcher runs until Close.
func (c *Cluster) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	opts, err := c.watchDefaults(ctx, opts)
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		c:       c,
		opts:    opts,
		tlsConf: c.TLSConfig(),
		changed: make(chan struct{}),
		roles:   make(map[*Node]string),
		serving: make([]map[*Node]bool, len(opts.Slots)),
		server:  make([]*Node, len(opts.Slots)),
		pollers: make(map[*Node]context.CancelFunc),
	}
	cmds := [][]string{{"ROLE"}}
	for i, slot := range opts.Slots {
		w.serving[i] = make(map[*Node]bool)
		cmds = append(cmds, []string{"SET", KeyInSlot(slot, "lab:probe"), "1", "PX", "60000"})
	}
	for _, cmd := range cmds {
		w.probe = append(w.probe, encodeCommand(cmd)...)
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())

	var firstRound sync.WaitGroup
	w.follow(&firstRound)
	firstRound.Wait() // bounded: a round takes at most twice ProbeTimeout
	w.wg.Add(1)
	go w.followMembers()
	return w, nil
}

func (c *Cluster) watchDefaults(ctx context.Context, o WatchOptions) (WatchOptions, error) {
	if o.Interval == 0 {
		o.Interval = 10 * time.Millisecond
	}
	if o.ProbeTimeout == 0 {
		o.ProbeTimeout = 100 * time.Millisecond
	}
	if o.Interval < 0 || o.ProbeTimeout < 0 {
		return o, errors.New("lab: WatchOptions: negative Interval or ProbeTimeout")
	}
	o.Slots = slices.Clone(o.Slots)
	for _, s := range o.Slots {
		if s < 0 || s > 16383 {
			return o, fmt.Errorf("lab: WatchOptions: slot %d out of range", s)
		}
	}
	if len(o.Slots) == 0 {
		t, err := c.Topology(ctx)
		if err != nil {
			return o, err
		}
		for _, sh := range t.Shards {
			o.Slots = append(o.Slots, sh.Slots[0].Start)
		}
	}
	return o, nil
}

// followMembers keeps one poller per member node, re-reading the members
// every Interval so nodes added by a replacement are watched and nodes that
// left are not.
func (w *Watcher) followMembers() {
	defer w.wg.Done()
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			w.follow(nil)
		}
	}
}

// follow starts a poller for every member without one and stops the
// pollers of nodes that are no longer members. New pollers call firstRound
// Done after their first round, when firstRound is not nil.
func (w *Watcher) follow(firstRound *sync.WaitGroup) {
	members := w.c.Nodes()
	for _, n := range members {
		if w.pollers[n] != nil {
			continue
		}
		ctx, stop := context.WithCancel(w.ctx)
		w.pollers[n] = stop
		if firstRound != nil {
			firstRound.Add(1)
		}
		w.wg.Add(1)
		go w.poll(ctx, n, firstRound)
	}
	for n, stop := range w.pollers {
		if !slices.Contains(members, n) {
			stop()
			delete(w.pollers, n)
		}
	}
}

// poll probes n every Interval over one persistent connection, redialled
// after any failure, until ctx ends.
func (w *Watcher) poll(ctx context.Context, n *Node, firstRound *sync.WaitGroup) {
	defer w.wg.Done()
	var rc *rawConn
	defer func() {
		if rc != nil {
			rc.Close()
		}
	}()
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		var role string
		var serving []bool
		rc, role, serving = w.probeNode(ctx, n, rc)
		at := time.Now()
		if ctx.Err() == nil {
			// A probe cut short by Close or by n leaving says nothing.
			w.observe(n, at, role, serving)
		}
		if firstRound != nil {
			firstRound.Done()
			firstRound = nil
		}
		select {
		case <-ctx.Done():
			if w.ctx.Err() == nil {
				w.forget(n) // n left the cluster; Close is not news
			}
			return
		case <-t.C:
		}
	}
}

// probeNode runs one round on rc, dialling first when rc is nil. It returns
// the connection to reuse (nil after a failure), n's role ("" when unknown)
// and, per watched slot, whether n served it.
func (w *Watcher) probeNode(ctx context.Context, n *Node, rc *rawConn) (*rawConn, string, []bool) {
	serving := make([]bool, len(w.opts.Slots))
	if rc == nil {
		var err error
		if rc, err = w.dial(ctx, n); err != nil {
			return nil, "", serving
		}
	}
	role, err := w.roundTrip(rc, serving)
	if err != nil {
		// The connection may hold a late reply; start afresh next round.
		rc.Close()
		return nil, "", serving
	}
	return rc, role, serving
}

// dial connects to n within ProbeTimeout, authenticating if need be.
func (w *Watcher) dial(ctx context.Context, n *Node) (*rawConn, error) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.ProbeTimeout)
	defer cancel()
	rc, err := dialRaw(ctx, n.Addr(), w.tlsConf)
	if err != nil {
		return nil, err
	}
	if pw := w.c.opts.Password; pw != "" {
		if _, err := rc.call("AUTH", pw); err != nil {
			rc.Close()
			return nil, err
		}
	}
	return rc, nil
}

// roundTrip sends the pipelined probe and reads its replies within
// ProbeTimeout, filling serving. It returns the role ROLE reported.
func (w *Watcher) roundTrip(rc *rawConn, serving []bool) (string, error) {
	if err := rc.conn.SetDeadline(time.Now().Add(w.opts.ProbeTimeout)); err != nil {
		return "", err
	}
	if _, err := rc.conn.Write(w.probe); err != nil {
		return "", err
	}
	v, err := rc.readValue(0)
	if err != nil {
		return "", err
	}
	var role string
	if a, ok := v.([]any); ok && len(a) > 0 {
		role, _ = a[0].(string)
	}
	for i := range serving {
		v, err := rc.readValue(0)
		if err != nil {
			return "", err
		}
		_, isErr := v.(ReplyError)
		serving[i] = !isErr
	}
	return role, nil
}

// observe records the outcome of one of n's rounds and the events it causes.
func (w *Watcher) observe(n *Node, at time.Time, role string, serving []bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if role != "" && role != w.roles[n] {
		w.roles[n] = role
		w.add(WatchEvent{At: at, Kind: "role", Node: n.Addr(), Detail: role})
	}
	for i, s := range serving {
		if s {
			w.serving[i][n] = true
		} else {
			delete(w.serving[i], n)
		}
		w.settle(i, n, at)
	}
}

// forget drops n, which left the cluster, as if it served nothing.
func (w *Watcher) forget(n *Node) {
	at := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.roles, n)
	for i := range w.serving {
		delete(w.serving[i], n)
		w.settle(i, n, at)
	}
}

// settle emits an event if watched slot i's serving node changed with the
// latest observation of node by. It keeps naming the same node while that
// node still serves, and prefers by when a new one must be named.
func (w *Watcher) settle(i int, by *Node, at time.Time) {
	cur := w.server[i]
	if cur != nil && w.serving[i][cur] {
		return
	}
	next := by
	if !w.serving[i][next] {
		next = nil
		for n := range w.serving[i] {
			if next == nil || n.Addr() < next.Addr() {
				next = n
			}
		}
	}
	slot := w.opts.Slots[i]
	switch {
	case next != nil:
		w.server[i] = next
		w.add(WatchEvent{At: at, Kind: "served", Slot: slot, Node: next.Addr()})
	case cur != nil:
		w.server[i] = nil
		w.add(WatchEvent{At: at, Kind: "unserved", Slot: slot})
	}
}

// add records e in time order (pollers observe concurrently, so e may be a
// little older than the last event) and wakes the waiters.
func (w *Watcher) add(e WatchEvent) {
	i := len(w.events)
	for i > 0 && w.events[i-1].At.After(e.At) {
		i--
	}
	w.events = slices.Insert(w.events, i, e)
	close(w.changed)
	w.changed = make(chan struct{})
}

// Events returns a copy of the events so far, in time order.
func (w *Watcher) Events() []WatchEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

// ServedAfter returns the time and node address of the first "served" event
// for slot at or after after, and whether there is one.
func (w *Watcher) ServedAfter(slot int, after time.Time) (time.Time, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.servedAfter(slot, after)
}

func (w *Watcher) servedAfter(slot int, after time.Time) (time.Time, string, bool) {
	for _, e := range w.events {
		if e.Kind == "served" && e.Slot == slot && !e.At.Before(after) {
			return e.At, e.Node, true
		}
	}
	return time.Time{}, "", false
}

// WaitServed waits until [Watcher.ServedAfter] succeeds and returns its
// result. It fails when ctx ends, the watcher is closed, or slot is not
// watched.
func (w *Watcher) WaitServed(ctx context.Context, slot int, after time.Time) (time.Time, string, error) {
	if !slices.Contains(w.opts.Slots, slot) {
		return time.Time{}, "", fmt.Errorf("lab: slot %d is not watched", slot)
	}
	for {
		w.mu.Lock()
		at, node, ok := w.servedAfter(slot, after)
		changed := w.changed
		w.mu.Unlock()
		if ok {
			return at, node, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return time.Time{}, "", fmt.Errorf("lab: waiting for slot %d to be served: %w", slot, ctx.Err())
		case <-w.ctx.Done():
			return time.Time{}, "", errors.New("lab: watcher closed")
		}
	}
}

// Close stops every poller, closes their connections and waits for them.
// It is idempotent and always returns nil.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		w.cancel()
		w.wg.Wait()
	})
	return nil
}
