package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Engine routes commands over a Redis Cluster and keeps its picture of the
// cluster current. It is safe for concurrent use.
type Engine struct {
	opts Options
	topo atomic.Pointer[Topology]
	pool *pool
	// dedicated lends connections of their own to watches.
	dedicated *dedicatedPool
	// blockers lends connections of their own to blocking commands, and
	// blocked tracks the calls blocked on them (see blocking.go).
	blockers *dedicatedPool
	blocked  blockedCalls
	stats    counters

	// changed is closed, and replaced, whenever a topology that routes
	// differently is installed: retries wait on it instead of sleeping.
	changed atomic.Pointer[chan struct{}]
	// suspected is closed, and replaced, whenever a node becomes suspect:
	// subscribers leave it at once.
	suspected atomic.Pointer[chan struct{}]
	// subs are the open Pub/Sub subscribers, closed with the engine.
	subs subRegistry

	// Refresh triggers are coalesced: the first cause waits in cause, and
	// wake holds at most one signal.
	causeMu sync.Mutex
	cause   string
	wake    chan struct{}

	// seedNames maps an address found by resolving a seed's host name to
	// that name (string to string), so TLS verifies the name the caller
	// gave rather than the address it resolved to.
	seedNames sync.Map

	// useSlots is set once a node answered CLUSTER SHARDS as an unknown
	// command (Redis before 7): from then on keel asks CLUSTER SLOTS.
	useSlots atomic.Bool
	// roleUnusable is set once a node refused ROLE (a user without
	// @admin): incident probes are full topology queries of one node then.
	roleUnusable atomic.Bool

	// single is set, before any request, when the deployment has no
	// cluster support (see mode.go): one primary serves every slot.
	single bool
	// demoted holds, outside a cluster, the address of a primary that
	// refused a write as a replica, until a refresh confirms a primary.
	demoted atomic.Pointer[string]
	// sentinels are the sentinels known in ModeSentinel.
	sentinels sentinels
	// endpoints is what ModeReplication's primary endpoint resolved to at
	// the last primary search (see endpoints.go).
	endpoints endpointState

	// learner routes commands missing from keel's table by what the
	// server says of them.
	learner learner

	suspectMu sync.Mutex
	suspects  map[string]time.Time // node address → when it became suspect
	doubts    map[string]int       // node address → its connections in doubt (see doubt)
	// suspectCount mirrors len(suspects), so that routing, when no node is
	// suspect (nearly always), asks without taking suspectMu.
	suspectCount atomic.Int32

	// active counts requests in progress; closedBit is set by Shutdown.
	active  atomic.Int64
	drained chan struct{} // signalled when the last request ends after Shutdown

	closing  chan struct{} // closed when Shutdown begins: waits give up
	stopped  chan struct{} // closed when background work must end
	shutOnce sync.Once
	wg       sync.WaitGroup // every goroutine the engine starts
	events   chan Event
}

const closedBit = math.MinInt64

// New discovers the cluster through opts.Seeds and starts the refresh loop.
// ctx bounds the discovery.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if len(opts.Seeds) == 0 {
		return nil, fmt.Errorf("%w: Seeds is empty", ErrBadOptions)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		opts:     opts.withDefaults(),
		wake:     make(chan struct{}, 1),
		suspects: map[string]time.Time{},
		doubts:   map[string]int{},
		drained:  make(chan struct{}, 1),
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	e.changed.Store(newChange())
	e.suspected.Store(newChange())
	e.pool = newPool(e)
	e.dedicated = newDedicatedPool(e, e.opts.Conn, 0, maxIdleDedicated, false)
	e.blockers = newDedicatedPool(e, blockingConnOptions(e.opts.Conn), e.opts.BlockingConnsPerNode, e.opts.BlockingConnsPerNode, true)
	if e.opts.OnEvent != nil {
		e.events = make(chan Event, eventBuffer)
		e.wg.Add(1)
		go e.deliverEvents()
	}
	e.single = opts.Mode == ModeStandalone || opts.Mode == ModeReplication || opts.Mode == ModeSentinel
	t, err := e.discover(ctx)
	if err != nil && opts.Mode == ModeAuto && errors.Is(err, ErrNotCluster) {
		e.single = true
		t, err = e.discover(ctx)
	}
	if err != nil {
		e.stop()
		return nil, err
	}
	e.install(t, "discovery")
	e.wg.Add(1)
	go e.refreshLoop()
	if opts.Mode == ModeSentinel {
		e.wg.Add(1)
		go e.watchSwitches()
	}
	if e.opts.ReauthInterval > 0 || e.opts.MaxConnAge > 0 {
		e.wg.Add(1)
		go e.upkeepLoop()
	}
	return e, nil
}

// changedChan returns the channel that closes at the next topology change.
func (e *Engine) changedChan() <-chan struct{} { return *e.changed.Load() }

// suspectedChan returns the channel that closes when a node next becomes suspect.
func (e *Engine) suspectedChan() <-chan struct{} { return *e.suspected.Load() }

// broadcastChange wakes everyone waiting on changedChan. Each channel is
// swapped out exactly once, so each is closed exactly once.
func (e *Engine) broadcastChange() {
	close(*e.changed.Swap(newChange()))
	e.abortMoved()
}

func newChange() *chan struct{} {
	ch := make(chan struct{})
	return &ch
}

// begin admits a request unless Shutdown has begun.
func (e *Engine) begin() bool {
	for {
		n := e.active.Load()
		if n&closedBit != 0 {
			return false
		}
		if e.active.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// end finishes a request admitted by begin.
func (e *Engine) end() {
	if e.active.Add(-1) == closedBit {
		select {
		case e.drained <- struct{}{}:
		default:
		}
	}
}

// Shutdown stops the engine: new requests fail with ErrClosed at once,
// requests waiting to retry give up with ErrClosed, and requests in flight
// get their replies until ctx ends. Then every connection is closed, failing
// what is left, and Shutdown returns once every goroutine the engine started
// has exited. It returns ctx's error if it had to cut requests off. It is
// idempotent and safe to call concurrently with anything.
func (e *Engine) Shutdown(ctx context.Context) error {
	var err error
	e.shutOnce.Do(func() {
		left := e.active.Or(closedBit) &^ closedBit
		close(e.closing)
		if left > 0 {
			select {
			case <-e.drained:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		e.stop()
	})
	return err
}

// stop ends background work, closes every connection and waits for every
// goroutine.
func (e *Engine) stop() {
	close(e.stopped)
	e.subs.closeAll()
	e.learner.close()
	e.pool.close()
	e.dedicated.close()
	e.blockers.close()
	e.wg.Wait()
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() Stats {
	s := Stats{
		Requests:        e.stats.requests.Load(),
		Errors:          e.stats.errors.Load(),
		Retries:         e.stats.retries.Load(),
		Moved:           e.stats.moved.Load(),
		Asked:           e.stats.asked.Load(),
		UnknownOutcomes: e.stats.unknownOutcomes.Load(),
		Refreshes:       e.stats.refreshes.Load(),
		TopologyChanges: e.stats.topologyChanges.Load(),
		Dials:           e.stats.dials.Load(),
		DialFailures:    e.stats.dialFailures.Load(),
		EventsDropped:   e.stats.eventsDropped.Load(),
		Reauths:         e.stats.reauths.Load(),
		ReauthFailures:  e.stats.reauthFailures.Load(),
		Replaced:        e.stats.replaced.Load(),
		BusyWaits:       e.stats.busyWaits.Load(),
		DivertedReads:   e.stats.diverted.Load(),
		IncidentMode:    e.inIncident(),
	}
	if t := e.topo.Load(); t != nil {
		s.KnownNodes = len(t.Addrs())
		s.CoveredSlots = t.Covered()
	}
	e.suspectMu.Lock()
	s.SuspectNodes = len(e.suspects)
	e.suspectMu.Unlock()
	s.ConnectionsAlive = e.pool.alive()
	return s
}

// suspect marks a node as failing and asks for a refresh.
func (e *Engine) suspect(addr string, err error) {
	e.suspectMu.Lock()
	_, already := e.suspects[addr]
	if !already {
		e.suspects[addr] = time.Now()
		e.suspectCount.Store(int32(len(e.suspects)))
	}
	e.suspectMu.Unlock()
	if !already {
		e.opts.Logger.Warn("keel: node suspect", "node", addr, "err", err)
		e.emit(Event{Kind: NodeSuspect, Node: addr, Err: err, Cause: fmt.Sprint(err)})
		close(*e.suspected.Swap(newChange()))
	}
	e.abortOn(addr, err)
	if !already {
		// A node failing again is no news: the refresh loop is already
		// polling, and a fleet retrying against a dead node must not turn
		// each failure into a topology query.
		e.trigger("node " + addr + " failed")
	}
}

// doubt counts a connection of addr's entering (on) or leaving a doubt:
// its oldest request has waited over the health timeout and a probe is
// deciding whether the node is busy or hung (conn.Options.OnDoubt). The
// node is not suspected for it, but while a shard's primary is in doubt
// the refresh loop probes the shard's replicas as in an incident
// (incident.go): the failover of a hung primary is then noticed as soon as
// the cluster makes it, not only once the probe has timed out.
func (e *Engine) doubt(addr string, on bool) {
	e.suspectMu.Lock()
	n := e.doubts[addr] - 1
	if on {
		n += 2
	}
	if n > 0 {
		e.doubts[addr] = n
	} else {
		delete(e.doubts, addr)
	}
	e.suspectMu.Unlock()
	if on && n == 1 {
		e.opts.Logger.Debug("keel: node in doubt", "node", addr)
		select {
		case e.wake <- struct{}{}: // no cause: the loop plans a probe
		default:
		}
	}
}

// recovered clears a node's suspicion after it answered again.
func (e *Engine) recovered(addr string) {
	e.suspectMu.Lock()
	_, was := e.suspects[addr]
	delete(e.suspects, addr)
	e.suspectCount.Store(int32(len(e.suspects)))
	e.suspectMu.Unlock()
	if was {
		e.opts.Logger.Info("keel: node recovered", "node", addr)
		e.emit(Event{Kind: NodeRecovered, Node: addr})
		// Requests that wait for a suspect primary (errNodeSuspect) may go.
		e.broadcastChange()
	}
}

// suspectSince returns when addr became suspect, if it is.
func (e *Engine) suspectSince(addr string) (time.Time, bool) {
	if e.suspectCount.Load() == 0 {
		return time.Time{}, false
	}
	e.suspectMu.Lock()
	defer e.suspectMu.Unlock()
	t, ok := e.suspects[addr]
	return t, ok
}

func (e *Engine) isSuspect(addr string) bool {
	if e.suspectCount.Load() == 0 {
		return false
	}
	e.suspectMu.Lock()
	defer e.suspectMu.Unlock()
	_, ok := e.suspects[addr]
	return ok
}

// inIncident reports whether some shard's primary is suspect.
func (e *Engine) inIncident() bool {
	t := e.topo.Load()
	if t == nil {
		return false
	}
	if e.single && e.primaryDemoted(t) {
		return true
	}
	e.suspectMu.Lock()
	defer e.suspectMu.Unlock()
	for _, sh := range t.Shards {
		if _, ok := e.suspects[sh.Primary.Addr]; ok {
			return true
		}
	}
	return false
}

// incidentShards returns the shards whose primary is suspect or in doubt.
func (e *Engine) incidentShards(t *Topology) []Shard {
	e.suspectMu.Lock()
	defer e.suspectMu.Unlock()
	var out []Shard
	for _, sh := range t.Shards {
		_, suspect := e.suspects[sh.Primary.Addr]
		if suspect || e.doubts[sh.Primary.Addr] > 0 {
			out = append(out, sh)
		}
	}
	return out
}

// probing reports whether the refresh loop probes for a failover: some
// shard's primary, in a cluster, is suspect or in doubt.
func (e *Engine) probing() bool {
	t := e.topo.Load()
	return !e.single && t != nil && len(e.incidentShards(t)) > 0
}
