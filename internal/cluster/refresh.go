package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/resp"
)

// minRefreshGap spaces adaptive refreshes: a storm of failing requests
// triggers a refresh at most this often.
const minRefreshGap = 10 * time.Millisecond

// steadyQueries is how many nodes a triggered refresh asks, so that one
// confused node cannot mislead keel. A periodic refresh asks one node (a
// different one each time): with nothing to suspect, the cheapest check
// that the topology still holds, once per RefreshInterval per client.
const steadyQueries = 3

// trigger asks the refresh loop for a refresh; causes are coalesced.
func (e *Engine) trigger(cause string) {
	e.causeMu.Lock()
	if e.cause == "" {
		e.cause = cause
	}
	e.causeMu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) takeCause(fallback string) string {
	e.causeMu.Lock()
	defer e.causeMu.Unlock()
	c := e.cause
	e.cause = ""
	if c == "" {
		return fallback
	}
	return c
}

// refreshLoop is the one goroutine that refreshes the topology: every
// RefreshInterval (plus up to a tenth, so a fleet of clients spreads out),
// when triggered, and, while a shard's primary is suspect or in doubt, by
// the incident polling of incident.go.
func (e *Engine) refreshLoop() {
	defer e.wg.Done()
	timer := time.NewTimer(e.opts.RefreshInterval)
	defer timer.Stop()
	inc := incidentState{lastFull: time.Now()}
	last := inc.lastFull // the last refresh or probe
	for {
		polling, probing := e.inIncident(), e.probing()
		var due time.Time
		switch {
		case probing:
			due = inc.nextProbe(last, e.opts.IncidentInterval)
		case polling:
			// Outside a cluster every refresh is a ROLE query already.
			due = last.Add(e.opts.IncidentInterval)
		default:
			due = inc.lastFull.Add(steadyInterval(e.opts.RefreshInterval))
		}
		timer.Reset(max(time.Until(due), 0))
		woken := false
		select {
		case <-e.stopped:
			return
		case <-timer.C:
		case <-e.wake:
			woken = true
			if gap := minRefreshGap - time.Since(last); gap > 0 {
				timer.Reset(gap)
				select {
				case <-e.stopped:
					return
				case <-timer.C:
				}
			}
		}
		cause := e.takeCause("")
		switch {
		case e.probing():
			if woken && time.Since(inc.lastFull) < incidentFullGap {
				continue // the trigger waits for the next probe
			}
			last = time.Now()
			e.incidentStep(&inc, cause)
			continue
		case cause != "":
			e.refresh(cause, steadyQueries)
		case polling:
			e.refresh("incident", steadyQueries)
		case probing:
			// A doubt ended without a suspect (the node was busy): nothing
			// changed, the periodic refresh keeps its pace.
			inc = incidentState{lastFull: inc.lastFull}
			continue
		default:
			e.refresh(periodicCause, 1)
			e.pool.closeIdleBulk()
		}
		last = time.Now()
		inc = incidentState{lastFull: last}
	}
}

// steadyInterval is the pause between periodic refreshes: interval plus a
// random tenth of it.
func steadyInterval(interval time.Duration) time.Duration {
	return interval + rand.N(interval/10+1)
}

// refresh asks up to n nodes (every candidate in an incident) for their
// view and installs the merged topology.
func (e *Engine) refresh(cause string, n int) {
	e.stats.refreshes.Add(1)
	if e.single {
		e.refreshPrimary(cause)
		return
	}
	cur := e.topo.Load()
	incident := e.inIncident()
	timeout := e.opts.RefreshTimeout
	if incident {
		timeout = min(timeout, 4*e.opts.IncidentInterval)
	}
	views, err := e.gatherViews(e.candidates(cur, incident, n), timeout)
	e.installViews(cur, views, err, cause)
}

// installViews merges the views that arrived (asking the seeds when none
// did) and installs the result; err explains the missing ones.
func (e *Engine) installViews(cur *Topology, views []View, err error, cause string) {
	if len(views) == 0 {
		// No known node answered: the cluster may have moved. Ask the seeds
		// again, resolving their names anew.
		seeds, rerr := e.resolveSeeds()
		if rerr == nil {
			views, err = e.gatherViews(seeds, e.opts.RefreshTimeout)
		} else {
			err = errors.Join(err, rerr)
		}
	}
	if len(views) == 0 {
		e.opts.Logger.Warn("keel: topology refresh failed", "cause", cause, "err", err)
		e.emit(Event{Kind: RefreshFailed, Cause: cause, Err: err})
		return
	}
	t := Merge(views...)
	if cur != nil && t.Epoch < cur.Epoch && allKnown(cur, views) {
		// Every view that arrived is older than what keel knows, and from a
		// member of the same cluster (a zombie primary back from a
		// partition, while the nodes that saw the failover did not answer):
		// where they disagree, the newer wins. Views from nodes keel never
		// knew are a cluster created anew (its epochs start again), found
		// through the seeds: they are taken as they are.
		t = Merge(append(views, View{From: "current", Epoch: cur.Epoch, Claims: claimsOf(cur)})...)
	}
	if cur != nil && t.Epoch <= cur.Epoch && t.Covered() < cur.Covered() {
		// Fewer slots covered without a newer epoch is no evidence that they
		// lost their primaries: keep what we knew for them.
		t = Merge(append(views, View{From: "current", Epoch: minEpoch, Claims: claimsOf(cur)})...)
	}
	e.install(t, cause)
}

// minEpoch ranks the current topology below every fresh view.
const minEpoch = -1

// allKnown reports whether every view came from a node of t.
func allKnown(t *Topology, views []View) bool {
	known := t.Addrs()
	for _, v := range views {
		if !slices.Contains(known, v.From) {
			return false
		}
	}
	return true
}

// claimsOf turns a topology back into claims, one per slot run.
func claimsOf(t *Topology) []Claim {
	var claims []Claim
	for s := 0; s < SlotCount; {
		o := t.ownerOf(s)
		end := s
		for end+1 < SlotCount && t.ownerOf(end+1) == o {
			end++
		}
		if o != 0 {
			claims = append(claims, Claim{Start: s, End: end, Shard: t.Shards[o-1]})
		}
		s = end + 1
	}
	return claims
}

// candidates returns the nodes to ask, best first. In an incident the
// replicas of the shards whose primary is suspect or in doubt come first
// (one of them may be about to be promoted), then every other node that is
// not suspect; otherwise n random nodes.
func (e *Engine) candidates(t *Topology, incident bool, n int) []string {
	if t == nil {
		return nil
	}
	all := t.Addrs()
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	if !incident {
		healthy := slices.DeleteFunc(slices.Clone(all), e.isSuspect)
		if len(healthy) == 0 {
			healthy = all
		}
		return healthy[:min(len(healthy), n)]
	}
	var out []string
	for _, sh := range e.incidentShards(t) {
		for _, r := range sh.Replicas {
			out = append(out, r.Addr)
		}
	}
	for _, a := range all {
		if !slices.Contains(out, a) && !e.isSuspect(a) {
			out = append(out, a)
		}
	}
	return out
}

// discover finds the cluster from the seeds when the engine starts.
func (e *Engine) discover(ctx context.Context) (*Topology, error) {
	if e.single {
		return e.findPrimary(ctx)
	}
	seeds, err := e.resolveSeedsCtx(ctx)
	if err != nil {
		return nil, err
	}
	views, err := e.gatherViewsCtx(ctx, seeds, e.opts.RefreshTimeout)
	seedList := strings.Join(e.opts.Seeds, ",")
	if len(views) == 0 {
		// The most telling failure first: a seed that answered says more
		// than one that could not be reached.
		for _, cause := range []error{ErrNoPermission, ErrNotCluster} {
			if errors.Is(err, cause) {
				return nil, err
			}
		}
		return nil, fmt.Errorf("%w: seeds %s: %w", ErrNoNode, seedList, err)
	}
	t := Merge(views...)
	switch covered := t.Covered(); {
	case covered == 0:
		return nil, fmt.Errorf("%w: seeds %s (%d node(s) answered)", ErrNoSlots, seedList, len(views))
	case covered < SlotCount:
		// Commands for the other slots wait for a primary; Stats.CoveredSlots
		// reports the coverage.
		e.opts.Logger.Warn("keel: the cluster serves only some slots", "covered", covered, "of", SlotCount)
	}
	return t, nil
}

// resolveSeeds is resolveSeedsCtx for the refresh loop: it ends early when
// the engine stops (the pool's context ends then).
func (e *Engine) resolveSeeds() ([]string, error) {
	ctx, cancel := context.WithTimeout(e.pool.ctx, e.opts.RefreshTimeout)
	defer cancel()
	return e.resolveSeedsCtx(ctx)
}

// resolveSeedsCtx resolves each seed's host through the Resolver (see
// resolveAddrs).
func (e *Engine) resolveSeedsCtx(ctx context.Context) ([]string, error) {
	return e.resolveAddrs(ctx, e.opts.Seeds)
}

// resolveAddrs resolves each "host:port" seed's host through the Resolver;
// seeds whose host is an IP address are kept as they are. It remembers the
// name each address was found under, for TLS (see connOptions).
func (e *Engine) resolveAddrs(ctx context.Context, seeds []string) ([]string, error) {
	var out []string
	var errs []error
	for _, seed := range seeds {
		host, port, err := net.SplitHostPort(seed)
		if err != nil {
			errs = append(errs, fmt.Errorf("keel: seed %q: %w", seed, err))
			continue
		}
		if net.ParseIP(host) != nil {
			out = append(out, seed)
			continue
		}
		addrs, err := e.opts.Resolver.LookupHost(ctx, host)
		if err != nil {
			errs = append(errs, fmt.Errorf("keel: resolve seed %q: %w", seed, err))
			continue
		}
		for _, a := range addrs {
			addr := net.JoinHostPort(a, port)
			e.seedNames.Store(addr, host)
			out = append(out, addr)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoNode, errors.Join(errs...))
	}
	return out, nil
}

// gatherViews is gatherViewsCtx for the refresh loop: it ends early when the
// engine stops.
func (e *Engine) gatherViews(addrs []string, timeout time.Duration) ([]View, error) {
	return e.gatherViewsCtx(e.pool.ctx, addrs, timeout)
}

// gatherViewsCtx asks every address in parallel for its view, each bounded by
// timeout, and returns the views that arrived. Every query has ended when it
// returns.
func (e *Engine) gatherViewsCtx(ctx context.Context, addrs []string, timeout time.Duration) ([]View, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   View
		err error
	}
	results := make(chan result, len(addrs))
	for _, addr := range addrs {
		go func() {
			v, err := e.queryView(ctx, addr)
			results <- result{v, err}
		}()
	}
	var views []View
	var errs []error
	for range addrs {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		views = append(views, r.v)
	}
	return views, errors.Join(errs...)
}

var (
	shardsQuery = [][]string{{"CLUSTER", "SHARDS"}, {"CLUSTER", "INFO"}}
	slotsQuery  = [][]string{{"CLUSTER", "SLOTS"}, {"CLUSTER", "INFO"}}
)

// queryView asks one node for its view of the cluster and its epoch, in one
// round trip.
func (e *Engine) queryView(ctx context.Context, addr string) (View, error) {
	c, err := e.pool.get(ctx, addr, !e.isSuspect(addr))
	if err != nil {
		return View{}, err
	}
	query := shardsQuery
	if e.useSlots.Load() {
		query = slotsQuery
	}
	replies, err := c.DoMulti(ctx, query...)
	if err != nil {
		return View{}, err
	}
	if err := replies[0].Err(); err != nil {
		if query[0][1] == "SHARDS" && resp.IsUnknownCommand(err) {
			e.useSlots.Store(true)
			return e.queryView(ctx, addr)
		}
		return View{}, queryError(addr, query[0], err)
	}
	if err := replies[1].Err(); err != nil {
		return View{}, queryError(addr, query[1], err)
	}
	var claims []Claim
	var members []string
	if query[0][1] == "SHARDS" {
		claims, members, err = parseShards(replies[0], addr, e.opts.Conn.TLS != nil)
	} else {
		claims, err = ParseSlots(replies[0], addr)
	}
	if err != nil {
		return View{}, fmt.Errorf("keel: %s: %w", addr, err)
	}
	return View{From: addr, Epoch: ParseEpoch(replies[1]), Claims: claims, Members: members}, nil
}

// queryError explains a topology query's error reply, marking the two that
// no retry will cure: a node without cluster support, and a user without
// permission to ask.
func queryError(addr string, cmd []string, err error) error {
	var re *resp.Error
	switch {
	case errors.Is(err, resp.ErrNoPerm):
		return fmt.Errorf("%w: %s: %s: %w", ErrNoPermission, addr, strings.Join(cmd, " "), err)
	case errors.As(err, &re) && strings.Contains(strings.ToLower(re.Msg), "cluster support disabled"):
		return fmt.Errorf("%w: %s: %w", ErrNotCluster, addr, err)
	}
	return fmt.Errorf("keel: %s: %s: %w", addr, strings.Join(cmd, " "), err)
}

// install makes t the topology in use when it routes differently from the
// current one, wakes retrying requests, and retires connections to nodes
// that left.
func (e *Engine) install(t *Topology, cause string) {
	old := e.topo.Load()
	d := Compare(old, t)
	e.topo.Store(t)
	if d.Empty() {
		if old != nil && !slices.Equal(old.members, t.members) {
			// Routing is the same, but a node in no shard joined or left
			// the members: a subscription on one that left must move.
			e.broadcastChange()
		}
		return
	}
	e.stats.topologyChanges.Add(1)
	e.broadcastChange()
	e.opts.Logger.Info("keel: topology changed", "cause", cause, "diff", d.String(), "epoch", t.Epoch)
	e.emit(Event{Kind: TopologyChanged, Cause: cause, Diff: d})
	if len(d.Removed) > 0 {
		e.forget(d.Removed)
		e.pool.retire(t.Has)
	}
}

// forget drops the suspicion of nodes that left the topology.
func (e *Engine) forget(addrs []string) {
	e.suspectMu.Lock()
	defer e.suspectMu.Unlock()
	for _, a := range addrs {
		delete(e.suspects, a)
	}
	e.suspectCount.Store(int32(len(e.suspects)))
}

// patchSlot applies a MOVED redirect at once: slot is served by addr.
func (e *Engine) patchSlot(slot int, addr string) {
	for {
		old := e.topo.Load()
		if sh, ok := old.ShardFor(slot); ok && sh.Primary.Addr == addr {
			return
		}
		patched := old.WithSlot(slot, addr)
		if e.topo.CompareAndSwap(old, patched) {
			e.stats.topologyChanges.Add(1)
			e.broadcastChange()
			// A cheap diff: MOVED storms come during migrations.
			d := Diff{SlotsMoved: 1}
			if len(patched.Shards) > len(old.Shards) {
				d.NewPrimaries = []string{addr}
			}
			e.emit(Event{Kind: TopologyChanged, Cause: "MOVED", Diff: d})
			return
		}
	}
}
