package cluster

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/resp"
)

// Incident polling, in a cluster. While a shard's primary is suspect, keel
// must notice the failover at once, yet a fleet of clients must not flood
// the cluster with topology queries at the moment it is weakest. So each
// poll is a probe: ROLE on the suspect shards' replicas and on the suspect
// primaries, a cheap command that says the one thing a failover changes.
// Only when a probe shows a change (a node answering master) does keel ask
// one node, the one that showed it, for the full topology. Probes come
// every IncidentInterval, less a random part of it, so clients that
// suspected a node at the same moment spread out; after incidentFastPhase
// the interval doubles every second up to incidentSlowProbe. Triggers
// (MOVED, CLUSTERDOWN, a new suspect…) get a full query of one node at most
// once per incidentFullGap, and a probe otherwise.
//
// The same probes run while a shard's primary is only in doubt (see
// Engine.doubt): silent for a health timeout while a second connection
// checks whether it is busy or hung. A hung primary's failover is then
// found as soon as a replica is promoted; a busy one costs a few probes.
const (
	incidentFastPhase = 5 * time.Second
	incidentSlowProbe = time.Second
	incidentFullGap   = time.Second
)

// incidentState is what the refresh loop remembers of an incident.
type incidentState struct {
	began    time.Time // when the incident's probing began; zero before
	next     time.Time // when the next probe is due; zero before the first is planned
	lastFull time.Time // the last full topology query, incident or not
	lastSign string    // what the last probe found (see probe)
}

// nextProbe returns when the next probe is due, planning it (from last, the
// last refresh or probe) if it is not yet.
func (s *incidentState) nextProbe(last time.Time, base time.Duration) time.Time {
	if s.began.IsZero() {
		s.began = time.Now()
	}
	if s.next.IsZero() {
		s.next = last.Add(s.probeInterval(base))
	}
	return s.next
}

// probeInterval is the pause before a probe: between half and all of base
// for the first incidentFastPhase, then doubling every second up to
// incidentSlowProbe.
func (s *incidentState) probeInterval(base time.Duration) time.Duration {
	d := base
	if over := time.Since(s.began) - incidentFastPhase; !s.began.IsZero() && over > 0 {
		d = max(base, min(base<<min(int(over/time.Second)+1, 16), incidentSlowProbe))
	}
	return d/2 + rand.N(d/2+1)
}

// incidentStep is one turn of the refresh loop while a shard's primary is
// suspect: a full query of one node when a trigger (cause) or the periodic
// refresh calls for one, a probe otherwise.
func (e *Engine) incidentStep(s *incidentState, cause string) {
	now := time.Now()
	if s.began.IsZero() {
		s.began = now
	}
	s.next = time.Time{}
	sinceFull := now.Sub(s.lastFull)
	switch {
	case cause != "" && sinceFull >= incidentFullGap:
	case sinceFull >= e.opts.RefreshInterval:
		cause = "periodic"
	case e.roleUnusable.Load():
		// ROLE is refused (a user without @admin): the probe is a full
		// query of one node, at the probing pace.
		cause = "incident"
	default:
		sign, ask, blind := e.probe()
		if blind {
			// A suspect shard has no replica keel knows of (it may have
			// rejoined since the last refresh): only a full query of
			// another node can tell its failover.
			s.lastFull = now
			e.refreshOne("incident", "")
			return
		}
		if sign != "" && (sign != s.lastSign || sinceFull >= incidentFullGap) {
			s.lastFull = now
			if ask != "" {
				e.promote(ask)
			}
			e.refreshOne("probe: "+sign+" answered master", ask)
		}
		s.lastSign = sign
		return
	}
	s.lastFull = now
	e.refreshOne(cause, "")
}

// probe asks for their ROLE the replicas of the shards whose primary is
// suspect or in doubt, and the suspect primaries.
// sign lists the nodes that answered master, the only answer that means
// the shard changed (a replica promoted, or the suspect primary serving
// again), "" when none did; ask is the node to ask for the full topology
// ("" for the incident's candidates). blind reports a suspect shard
// without a replica that is not suspect itself (a shard in doubt only is
// never blind: it is not failing yet).
func (e *Engine) probe() (sign, ask string, blind bool) {
	t := e.topo.Load()
	var addrs []string
	for _, sh := range e.incidentShards(t) {
		healthy := 0
		for _, r := range sh.Replicas {
			addrs = append(addrs, r.Addr)
			if !e.isSuspect(r.Addr) {
				healthy++
			}
		}
		if !e.isSuspect(sh.Primary.Addr) {
			// In doubt only: its own connection is the one stalled, and
			// without replicas there is no failover to look for.
			continue
		}
		blind = blind || healthy == 0
		addrs = append(addrs, sh.Primary.Addr)
	}
	ctx, cancel := context.WithTimeout(e.pool.ctx, min(e.opts.RefreshTimeout, 4*e.opts.IncidentInterval))
	defer cancel()
	var errs []error
	roles := e.gatherRoles(ctx, addrs, &errs)
	for _, err := range errs {
		if errors.Is(err, ErrNoPermission) || resp.IsUnknownCommand(err) {
			e.roleUnusable.Store(true)
		}
	}
	var masters []string
	for _, a := range addrs {
		if r, ok := roles[a]; ok && r.master {
			masters = append(masters, a)
		}
	}
	if len(masters) == 0 {
		return "", "", blind
	}
	// A promoted replica knows the new topology first. A suspect primary
	// answering master may only be back from a pause, or not yet know it
	// was replaced: the incident's candidates are asked then.
	if !e.isSuspect(masters[0]) {
		ask = masters[0]
	}
	return strings.Join(masters, ","), ask, blind
}

// promote installs at once the failover a probe found (the replica at addr
// answered ROLE master), so that requests waiting for the suspect primary
// go to addr without waiting for the full topology query that follows: a
// round trip, and the parse of the reply, saved at the moment every client
// of a fleet asks the new primary for the same topology.
func (e *Engine) promote(addr string) {
	cur := e.topo.Load()
	if t := cur.WithPromoted(addr); t != cur {
		e.install(t, "probe: "+addr+" answered master")
	}
}

// errNodeSuspect is a request's try at a suspect primary without a live
// connection: the incident's probes dial it (see probed), so the request
// waits for a topology change or the node's recovery instead.
var errNodeSuspect = errors.New("keel: primary suspect, waiting for a failover or its return")

// probed reports whether the incident's probes dial addr, a suspect node:
// whether, in a cluster, it is a primary of the topology. Requests leave
// such a node to the probes rather than dial it themselves: a fleet of
// clients retrying every few milliseconds against a dead primary would
// spend most of their CPU on refused connections, all for the one answer a
// probe gets every IncidentInterval. Without ROLE (a user without @admin)
// there are no probes, only full queries of other nodes, so requests dial
// it themselves: nothing else would notice its return.
func (e *Engine) probed(addr string) bool {
	t := e.topo.Load()
	if e.single || t == nil || e.roleUnusable.Load() {
		return false
	}
	for _, sh := range t.Shards {
		if sh.Primary.Addr == addr {
			return true
		}
	}
	return false
}

// refreshOne is a full topology query of one node: first (when not "")
// and then, until one answers, the incident's candidates one at a time.
func (e *Engine) refreshOne(cause, first string) {
	e.stats.refreshes.Add(1)
	cur := e.topo.Load()
	addrs := e.candidates(cur, true, 0)
	if first != "" {
		addrs = append([]string{first}, slices.DeleteFunc(addrs, func(a string) bool { return a == first })...)
	}
	timeout := min(e.opts.RefreshTimeout, 4*e.opts.IncidentInterval)
	var errs []error
	for _, addr := range addrs {
		views, err := e.gatherViews([]string{addr}, timeout)
		if len(views) > 0 {
			e.installViews(cur, views, nil, cause)
			return
		}
		errs = append(errs, err)
	}
	e.installViews(cur, nil, errors.Join(errs...), cause)
}
