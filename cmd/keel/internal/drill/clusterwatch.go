package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// ClusterWatchOptions configures [WatchCluster].
type ClusterWatchOptions struct {
	// Interval is how often each member is probed. Default 50ms.
	Interval time.Duration
	// ProbeTimeout bounds a dial (with its handshake) and, separately, one
	// probe round or membership query. A member that takes longer serves
	// nothing. Default 200ms.
	ProbeTimeout time.Duration
	// MembersEvery is how often the members are read again. Default 1s.
	MembersEvery time.Duration
}

// ClusterWatcher is lab's Watcher for a cluster the drill does not run: it
// polls every member of an existing cluster and records when watched slots
// become served or unserved and when members change role. Its methods are
// safe for concurrent use. Close it when done.
type ClusterWatcher struct {
	t     Target
	opts  ClusterWatchOptions
	slots []int
	probe [][]string // one round, pipelined: ROLE then a SET per watched slot

	ctx       context.Context // cancelled by Close; ends every goroutine
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	// Only WatchCluster, then the membership goroutine, use these.
	pollers map[string]context.CancelFunc // by member address
	asker   *conn.Conn                    // where members were last read; nil when none

	mu       sync.Mutex
	events   []lab.WatchEvent  // in time order
	roles    map[string]string // last role reported by each member
	answered map[string]bool   // members whose last probe got replies
	serving  []map[string]bool // per watched slot: members whose last probe it served
	server   []string          // per watched slot: member of the last served event; "" when unserved
}

// WatchCluster polls an existing cluster and records, like lab's Watcher,
// when each watched slot is served or unserved and by which member. Slots
// defaults to the first slot of each shard ([Discover]).
//
// It reads the members (CLUSTER NODES, or the nodes of CLUSTER SHARDS/SLOTS
// on servers that refuse it) from a member whose last probe succeeded, or
// else from the seeds, dialled by name through t's Resolver so that a
// cluster restarted on new addresses is found again; members that leave are
// forgotten. Every member is probed every Interval over one persistent
// connection, redialled after a failure, with a pipelined ROLE and one SET
// per watched slot (a key in the slot, [lab.KeyInSlot], expiring after
// 60 s). A slot is served by a member whose SET got a non-error reply:
// MOVED, CLUSTERDOWN, a timeout (a hung node, or a primary whose writes are
// paused for a manual failover) or a refused connection serve nothing. It
// probes with a write, as lab's Watcher does, because a primary answers
// reads while its writes are paused.
//
// WatchCluster returns once every member has been probed once, so the
// initial "served" and "role" events are recorded. ctx bounds start-up
// only; the watcher runs until Close.
func WatchCluster(ctx context.Context, t Target, slots []int, opts ClusterWatchOptions) (*ClusterWatcher, error) {
	if opts.Interval == 0 {
		opts.Interval = 50 * time.Millisecond
	}
	if opts.ProbeTimeout == 0 {
		opts.ProbeTimeout = 200 * time.Millisecond
	}
	if opts.MembersEvery == 0 {
		opts.MembersEvery = time.Second
	}
	if opts.Interval < 0 || opts.ProbeTimeout < 0 || opts.MembersEvery < 0 {
		return nil, errors.New("drill: ClusterWatchOptions: negative duration")
	}
	if len(t.Seeds) == 0 {
		return nil, errors.New("drill: WatchCluster: no seeds")
	}
	slots = slices.Clone(slots)
	if len(slots) == 0 {
		l, err := Discover(ctx, t)
		if err != nil {
			return nil, err
		}
		slots = l.FirstSlots()
	}
	w := &ClusterWatcher{
		t:        t,
		opts:     opts,
		slots:    slots,
		probe:    [][]string{{"ROLE"}},
		pollers:  make(map[string]context.CancelFunc),
		roles:    make(map[string]string),
		answered: make(map[string]bool),
		serving:  make([]map[string]bool, len(slots)),
		server:   make([]string, len(slots)),
	}
	for i, s := range slots {
		if s < 0 || s > 16383 {
			return nil, fmt.Errorf("drill: WatchCluster: slot %d out of range", s)
		}
		w.serving[i] = make(map[string]bool)
		w.probe = append(w.probe, []string{"SET", lab.KeyInSlot(s, "drill:probe"), "1", "PX", "60000"})
	}
	members, err := w.members(ctx)
	if err != nil {
		w.closeAsker()
		return nil, fmt.Errorf("drill: WatchCluster: no member answered: %w", err)
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	var firstRound sync.WaitGroup
	w.follow(members, &firstRound)
	firstRound.Wait() // bounded: a round takes at most twice ProbeTimeout
	w.wg.Add(1)
	go w.followMembers()
	return w, nil
}

// followMembers reads the members every MembersEvery and keeps one poller
// per member. When no one answers, the last members known are kept.
func (w *ClusterWatcher) followMembers() {
	defer w.wg.Done()
	defer w.closeAsker()
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

// members asks, in turn, the members whose last probe succeeded (the one
// asked last time first), then the seeds, for the cluster's members.
func (w *ClusterWatcher) members(ctx context.Context) ([]string, error) {
	w.mu.Lock()
	var candidates []string
	for addr := range w.answered {
		candidates = append(candidates, addr)
	}
	w.mu.Unlock()
	slices.Sort(candidates)
	if w.asker != nil {
		if i := slices.Index(candidates, w.asker.Addr()); i > 0 {
			candidates[0], candidates[i] = candidates[i], candidates[0]
		}
	}
	var errs []error
	for _, addr := range append(candidates, w.t.Seeds...) {
		members, err := w.askMembers(ctx, addr)
		if err == nil {
			return members, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// askMembers reads the members from addr, over the connection kept from
// the last time when it was to addr.
func (w *ClusterWatcher) askMembers(ctx context.Context, addr string) ([]string, error) {
	if w.asker != nil && w.asker.Addr() != addr {
		w.closeAsker()
	}
	if w.asker == nil {
		c, err := w.dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		w.asker = c
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.ProbeTimeout)
	defer cancel()
	members, err := membersFrom(ctx, w.asker, w.t.TLS != nil)
	if err != nil {
		w.closeAsker()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return members, nil
}

func (w *ClusterWatcher) closeAsker() {
	if w.asker != nil {
		_ = w.asker.Close()
		w.asker = nil
	}
}

// membersFrom returns the addresses of the members c's node knows, from
// CLUSTER NODES or, when the server refuses it (as some managed services
// do), the nodes of the shards that serve slots.
func membersFrom(ctx context.Context, c *conn.Conn, useTLS bool) ([]string, error) {
	v, err := c.Do(ctx, "CLUSTER", "NODES")
	var re *resp.Error
	if errors.As(err, &re) {
		l, err := askLayout(ctx, c, useTLS)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, sh := range l.Shards {
			out = append(append(out, sh.Primary), sh.Replicas...)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	text, err := v.Text()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	view, err := lab.ParseClusterNodes(text)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range view {
		addr := n.Addr
		if addr == "" && n.Has("myself") {
			addr = c.Addr() // a node that never learnt its own IP
		}
		if addr != "" && !n.Has("noaddr") && !n.Has("handshake") && !slices.Contains(out, addr) {
			out = append(out, addr)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("CLUSTER NODES lists no node with an address")
	}
	return out, nil
}

// dial connects to addr within ProbeTimeout.
func (w *ClusterWatcher) dial(ctx context.Context, addr string) (*conn.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.ProbeTimeout)
	defer cancel()
	return conn.Dial(ctx, addr, targetConnOptions(w.t, w.opts.ProbeTimeout))
}

// follow starts a poller for every member without one and stops the
// pollers of addresses that are no longer members. New pollers call
// firstRound.Done after their first round, when firstRound is not nil.
func (w *ClusterWatcher) follow(members []string, firstRound *sync.WaitGroup) {
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
// redialled (at most once a round) after any failure, until ctx ends.
func (w *ClusterWatcher) poll(ctx context.Context, addr string, firstRound *sync.WaitGroup) {
	defer w.wg.Done()
	var c *conn.Conn
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		var r probeResult
		c, r = w.probeNode(ctx, addr, c)
		at := time.Now()
		if ctx.Err() == nil {
			// A probe cut short by Close or by addr leaving says nothing.
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

// probeResult is the outcome of one round.
type probeResult struct {
	ok      bool   // the node replied
	role    string // what ROLE said; "" when unknown
	serving []bool // per watched slot
}

// probeNode runs one round on c, dialling first when c is nil. It returns
// the connection to reuse, nil after a failure.
func (w *ClusterWatcher) probeNode(ctx context.Context, addr string, c *conn.Conn) (*conn.Conn, probeResult) {
	r := probeResult{serving: make([]bool, len(w.slots))}
	if c == nil {
		var err error
		if c, err = w.dial(ctx, addr); err != nil {
			return nil, r
		}
	}
	pctx, cancel := context.WithTimeout(ctx, w.opts.ProbeTimeout)
	replies, err := c.DoMulti(pctx, w.probe...)
	cancel()
	if err != nil {
		// Start afresh next round rather than queue behind a hung node.
		_ = c.Close()
		return nil, r
	}
	r.ok = true
	if a, err := replies[0].Slice(); err == nil && len(a) > 0 {
		r.role, _ = a[0].Text()
	}
	for i := range r.serving {
		r.serving[i] = replies[i+1].Err() == nil
	}
	return c, r
}

// observe records the outcome of one of addr's rounds and the events it
// causes.
func (w *ClusterWatcher) observe(addr string, at time.Time, r probeResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.ok {
		w.answered[addr] = true
	} else {
		delete(w.answered, addr)
	}
	if r.role != "" && r.role != w.roles[addr] {
		w.roles[addr] = r.role
		w.add(lab.WatchEvent{At: at, Kind: "role", Node: addr, Detail: r.role})
	}
	for i, s := range r.serving {
		if s {
			w.serving[i][addr] = true
		} else {
			delete(w.serving[i], addr)
		}
		w.settle(i, addr, at)
	}
}

// forget drops addr, which left the cluster, as if it served nothing.
func (w *ClusterWatcher) forget(addr string) {
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
func (w *ClusterWatcher) settle(i int, by string, at time.Time) {
	cur := w.server[i]
	if cur != "" && w.serving[i][cur] {
		return
	}
	next := by
	if !w.serving[i][next] {
		next = ""
		for addr := range w.serving[i] {
			if next == "" || addr < next {
				next = addr
			}
		}
	}
	switch {
	case next != "":
		w.server[i] = next
		w.add(lab.WatchEvent{At: at, Kind: "served", Slot: w.slots[i], Node: next})
	case cur != "":
		w.server[i] = ""
		w.add(lab.WatchEvent{At: at, Kind: "unserved", Slot: w.slots[i]})
	}
}

// add records e in time order (pollers observe concurrently, so e may be a
// little older than the last event).
func (w *ClusterWatcher) add(e lab.WatchEvent) {
	i := len(w.events)
	for i > 0 && w.events[i-1].At.After(e.At) {
		i--
	}
	w.events = slices.Insert(w.events, i, e)
}

// Events returns a copy of the events so far, in time order.
func (w *ClusterWatcher) Events() []lab.WatchEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

// Close stops every goroutine, closes every connection and waits. It is
// idempotent and always returns nil.
func (w *ClusterWatcher) Close() error {
	w.closeOnce.Do(func() {
		w.cancel()
		w.wg.Wait()
	})
	return nil
}
