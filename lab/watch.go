package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"
)

// The watcher is the drill's reference clock: it tells when the cluster
// itself served a slot again, independently of any client, by asking every
// node directly. A slot is served by a node when a write to a key in it (a
// SET with a 60 s expiry) gets a non-error reply from that node: a replica
// answers MOVED, a killed node refuses the connection, a paused one does
// not answer in time (twice in a row, so that a probe starved by a loaded
// machine is not taken for the node), a node that considers the cluster down answers
// CLUSTERDOWN, and a primary whose writes are paused for a manual failover
// holds the write past the probe's timeout. A read would not do: a primary
// answers reads through that pause, so a shard would look served while no
// node accepts its writes.

// WatchOptions configures [Cluster.Watch] and [WatchTarget]. The zero value
// watches the first slot of every shard, probing every node every 10 ms with
// a 100 ms timeout and reading the members as often.
type WatchOptions struct {
	// Interval is how often each node is probed. Default 10ms.
	Interval time.Duration
	// ProbeTimeout is how long a node has to answer a probe (and, separately,
	// to accept a connection). A node that lets two probes in a row time
	// out counts as serving nothing from the first: one alone may be a
	// loaded machine starving the probe. Default 100ms.
	ProbeTimeout time.Duration
	// MembersEvery is how often the members are read again, so that nodes
	// added by a replacement are watched and nodes that left are not.
	// Default: Interval.
	MembersEvery time.Duration
	// Slots are the slots to watch. Default: the first slot of each shard's
	// range at Watch time.
	Slots []int
	// ProbeKey prefixes the keys the probes write ([KeyInSlot]). Default
	// "lab:probe".
	ProbeKey string
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
	opts    WatchOptions
	members func(ctx context.Context) ([]string, error) // the member addresses now
	dial    func(ctx context.Context, addr string) (*rawConn, error)
	release func() // frees what members holds, once it is no longer called; may be nil
	probe   []byte // one round, pipelined: ROLE then a SET per watched slot

	ctx       context.Context // cancelled by Close; ends every goroutine
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	// pollers stops each member's poller, by address. Only the constructor,
	// then the membership goroutine, use it, so it needs no lock.
	pollers map[string]context.CancelFunc

	mu       sync.Mutex
	events   []WatchEvent           // in time order
	changed  chan struct{}          // closed and replaced whenever an event is added
	roles    map[string]string      // last role reported by each member
	answered map[string]bool        // members whose last probe got replies
	serving  []map[string]time.Time // per watched slot: members whose last probe it served, and since when
	server   []string               // per watched slot: member of the last served event; "" when unserved
}

// Watch starts watching the cluster and returns once every member has been
// probed once, so the initial "served" and "role" events are already
// recorded. ctx bounds start-up only; the watcher runs until Close.
func (c *Cluster) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	opts, err := watchDefaults(opts, func() ([]int, error) {
		t, err := c.Topology(ctx)
		var slots []int
		for _, sh := range t.Shards {
			slots = append(slots, sh.Slots[0].Start)
		}
		return slots, err
	})
	if err != nil {
		return nil, err
	}
	w := newWatcher(opts)
	w.members = func(context.Context) ([]string, error) { return c.Addrs(), nil }
	tlsConf, password := c.adminTLS(), c.opts.Password
	w.dial = func(ctx context.Context, addr string) (*rawConn, error) {
		ctx, cancel := context.WithTimeout(ctx, opts.ProbeTimeout)
		defer cancel()
		rc, err := dialRaw(ctx, addr, tlsConf)
		if err != nil {
			return nil, err
		}
		if password != "" {
			if _, err := rc.call("AUTH", password); err != nil {
				rc.Close()
				return nil, err
			}
		}
		return rc, nil
	}
	return w, w.start(ctx)
}

// WatchTarget watches a cluster lab did not start, as [Cluster.Watch] does
// a lab cluster. It reads the members (CLUSTER NODES, or the nodes of
// CLUSTER SHARDS/SLOTS on servers that refuse it, as some managed services
// do) every MembersEvery from a member whose last probe succeeded, or else
// from the seeds, dialled by name through t's Resolver so that a cluster
// restarted on new addresses is found again; members that leave are
// forgotten, and when no one answers the last members known are kept.
// Default Slots: the first slot of each shard ([Target.Shards]).
//
// The probes write keys (ProbeKey, expiring after 60 s) on every shard of
// the cluster watched.
func WatchTarget(ctx context.Context, t Target, opts WatchOptions) (*Watcher, error) {
	if len(t.Seeds) == 0 {
		return nil, errors.New("lab: WatchTarget: no seeds")
	}
	opts, err := watchDefaults(opts, func() ([]int, error) {
		shards, err := t.Shards(ctx)
		var slots []int
		for _, sh := range shards {
			slots = append(slots, sh.Slots[0].Start)
		}
		return slots, err
	})
	if err != nil {
		return nil, err
	}
	w := newWatcher(opts)
	m := &targetMembers{t: t, timeout: opts.ProbeTimeout, answered: w.answeredMembers}
	w.members = m.read
	w.dial = func(ctx context.Context, addr string) (*rawConn, error) { return t.dial(ctx, addr, opts.ProbeTimeout) }
	w.release = m.close
	if err := w.start(ctx); err != nil {
		return nil, fmt.Errorf("lab: WatchTarget: no member answered: %w", err)
	}
	return w, nil
}

// watchDefaults fills in o's defaults, asking firstSlots for the slots to
// watch when o names none.
func watchDefaults(o WatchOptions, firstSlots func() ([]int, error)) (WatchOptions, error) {
	if o.Interval == 0 {
		o.Interval = 10 * time.Millisecond
	}
	if o.ProbeTimeout == 0 {
		o.ProbeTimeout = 100 * time.Millisecond
	}
	if o.MembersEvery == 0 {
		o.MembersEvery = o.Interval
	}
	if o.ProbeKey == "" {
		o.ProbeKey = "lab:probe"
	}
	if o.Interval < 0 || o.ProbeTimeout < 0 || o.MembersEvery < 0 {
		return o, errors.New("lab: WatchOptions: negative Interval, ProbeTimeout or MembersEvery")
	}
	o.Slots = slices.Clone(o.Slots)
	for _, s := range o.Slots {
		if s < 0 || s > 16383 {
			return o, fmt.Errorf("lab: WatchOptions: slot %d out of range", s)
		}
	}
	if len(o.Slots) == 0 {
		slots, err := firstSlots()
		if err != nil {
			return o, err
		}
		o.Slots = slots
	}
	return o, nil
}

func newWatcher(opts WatchOptions) *Watcher {
	w := &Watcher{
		opts:     opts,
		changed:  make(chan struct{}),
		roles:    make(map[string]string),
		answered: make(map[string]bool),
		serving:  make([]map[string]time.Time, len(opts.Slots)),
		server:   make([]string, len(opts.Slots)),
		pollers:  make(map[string]context.CancelFunc),
	}
	cmds := [][]string{{"ROLE"}}
	for i, slot := range opts.Slots {
		w.serving[i] = make(map[string]time.Time)
		cmds = append(cmds, []string{"SET", KeyInSlot(slot, opts.ProbeKey), "1", "PX", "60000"})
	}
	for _, cmd := range cmds {
		w.probe = append(w.probe, encodeCommand(cmd)...)
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// start reads the members, probes each once, and starts following them.
func (w *Watcher) start(ctx context.Context) error {
	members, err := w.members(ctx)
	if err != nil {
		w.cancel()
		w.releaseMembers()
		return err
	}
	var firstRound sync.WaitGroup
	w.follow(members, &firstRound)
	firstRound.Wait() // bounded: a round takes at most twice ProbeTimeout
	w.wg.Add(1)
	go w.followMembers()
	return nil
}

// followMembers reads the members every MembersEvery and keeps one poller
// per member. When they cannot be read, the last members known are kept.
func (w *Watcher) followMembers() {
	defer w.wg.Done()
	defer w.releaseMembers()
	t := time.NewTicker(w.opts.MembersEvery)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
			if members, err := w.members(w.ctx); err == nil {
				w.follow(members, nil)
			}
		}
	}
}

func (w *Watcher) releaseMembers() {
	if w.release != nil {
		w.release()
	}
}

// follow starts a poller for every member without one and stops the
// pollers of addresses that are no longer members. New pollers call
// firstRound.Done after their first round, when firstRound is not nil.
func (w *Watcher) follow(members []string, firstRound *sync.WaitGroup) {
	for _, addr := range members {
		if w.pollers[addr] != nil {
			continue
		}
		ctx, stop := context.WithCancel(w.ctx)
		w.pollers[addr] = stop
		if firstRound != nil {
			firstRound.Add(1)
		}
		w.wg.Add(1)
		go w.poll(ctx, addr, firstRound)
	}
	for addr, stop := range w.pollers {
		if !slices.Contains(members, addr) {
			stop()
			delete(w.pollers, addr)
		}
	}
}

// poll probes addr every Interval over one persistent connection,
// redialled after any failure, until ctx ends.
func (w *Watcher) poll(ctx context.Context, addr string, firstRound *sync.WaitGroup) {
	defer w.wg.Done()
	var rc *rawConn
	defer func() {
		if rc != nil {
			rc.Close()
		}
	}()
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	var timeouts timeoutFilter
	for {
		var r probeResult
		rc, r = w.probeNode(ctx, addr, rc)
		// A probe cut short by Close or by addr leaving says nothing.
		if at, ok := timeouts.date(r, time.Now()); ok && ctx.Err() == nil {
			w.observe(addr, at, r)
		}
		if firstRound != nil {
			firstRound.Done()
			firstRound = nil
		}
		select {
		case <-ctx.Done():
			if w.ctx.Err() == nil {
				w.forget(addr) // addr left the cluster; Close is not news
			}
			return
		case <-t.C:
		}
	}
}

// timeoutFilter holds back a node's first timed-out round: one timeout may
// be the machine rather than the node, as a loaded machine can starve a
// probe past ProbeTimeout. The next round decides, and a timeout it
// confirms is dated from the first.
type timeoutFilter struct {
	doubted time.Time // when the unconfirmed timeout was observed; zero if none
}

// date returns when round r, observed at, is to be recorded, and false
// when it is held back.
func (f *timeoutFilter) date(r probeResult, at time.Time) (time.Time, bool) {
	switch {
	case !r.timedOut:
		f.doubted = time.Time{}
		return at, true
	case f.doubted.IsZero():
		f.doubted = at
		return time.Time{}, false
	}
	return f.doubted, true
}

// probeResult is the outcome of one round.
type probeResult struct {
	ok       bool   // the node replied
	timedOut bool   // the node did not answer (or accept) within ProbeTimeout
	role     string // what ROLE said; "" when unknown
	serving  []bool // per watched slot
}

// probeNode runs one round on rc, dialling first when rc is nil. It returns
// the connection to reuse, nil after a failure.
func (w *Watcher) probeNode(ctx context.Context, addr string, rc *rawConn) (*rawConn, probeResult) {
	r := probeResult{serving: make([]bool, len(w.opts.Slots))}
	if rc == nil {
		var err error
		if rc, err = w.dial(ctx, addr); err != nil {
			r.timedOut = isTimeout(err)
			return nil, r
		}
	}
	role, err := w.roundTrip(rc, r.serving)
	if err != nil {
		// The connection may hold a late reply; start afresh next round.
		rc.Close()
		r.timedOut = isTimeout(err)
		return nil, r
	}
	r.ok, r.role = true, role
	return rc, r
}

// isTimeout reports whether err is a deadline passing, not a refusal.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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

// answeredMembers returns the members whose last probe got replies, sorted.
func (w *Watcher) answeredMembers() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Collect(maps.Keys(w.answered))
	slices.Sort(out)
	return out
}

// observe records the outcome of one of addr's rounds and the events it
// causes.
func (w *Watcher) observe(addr string, at time.Time, r probeResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.ok {
		w.answered[addr] = true
	} else {
		delete(w.answered, addr)
	}
	if r.role != "" && r.role != w.roles[addr] {
		w.roles[addr] = r.role
		w.add(WatchEvent{At: at, Kind: "role", Node: addr, Detail: r.role})
	}
	for i, s := range r.serving {
		if _, was := w.serving[i][addr]; s && !was {
			w.serving[i][addr] = at
		} else if !s {
			delete(w.serving[i], addr)
		}
		w.settle(i, addr, at)
	}
}

// forget drops addr, which left the cluster, as if it served nothing.
func (w *Watcher) forget(addr string) {
	at := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.roles, addr)
	delete(w.answered, addr)
	for i := range w.serving {
		delete(w.serving[i], addr)
		w.settle(i, addr, at)
	}
}

// settle emits an event if watched slot i's serving member changed with the
// latest observation of by. It keeps naming the same member while it still
// serves, and prefers by when a new one must be named.
func (w *Watcher) settle(i int, by string, at time.Time) {
	cur := w.server[i]
	if _, serves := w.serving[i][cur]; cur != "" && serves {
		return
	}
	next := by
	if _, serves := w.serving[i][next]; !serves {
		next = ""
		for addr := range w.serving[i] {
			if next == "" || addr < next {
				next = addr
			}
		}
	}
	slot := w.opts.Slots[i]
	switch {
	case next != "":
		// at may be older than next's serving: a timeout confirmed late is
		// dated from the first (see timeoutFilter).
		w.server[i] = next
		w.add(WatchEvent{At: later(at, w.serving[i][next]), Kind: "served", Slot: slot, Node: next})
	case cur != "":
		w.server[i] = ""
		w.add(WatchEvent{At: at, Kind: "unserved", Slot: slot})
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
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
