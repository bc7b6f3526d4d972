package cluster

import (
	"context"
	"maps"
	"slices"
	"time"
)

// periodicCause is the cause of a refresh that is merely due.
const periodicCause = "periodic"

// endpointState is what ModeReplication's primary endpoint resolved to at
// the last primary search, and when. Only the refresh loop (and discovery,
// before it starts) reads and writes it.
type endpointState struct {
	seeds []string // sorted
	at    time.Time
}

// endpointsUnchanged reports, for a periodic refresh in ModeReplication,
// whether the primary endpoint resolves as it did at the last primary
// search, and that search is less than DefaultRefreshInterval (or
// RefreshInterval, if longer) old: a service that repoints the name is
// then seen within one RefreshInterval for the price of a lookup, and the
// search (ROLE on every node, learning replicas added or gone) still runs
// at the pace of the other modes.
func (e *Engine) endpointsUnchanged() bool {
	last := e.endpoints
	if e.opts.Mode != ModeReplication || last.at.IsZero() || time.Since(last.at) >= max(DefaultRefreshInterval, e.opts.RefreshInterval) {
		return false
	}
	seeds, err := e.resolveSeeds()
	return err == nil && slices.Equal(sortedClone(seeds), last.seeds)
}

// searched records the seeds a successful primary search resolved.
func (e *Engine) searched(seeds []string) {
	e.endpoints = endpointState{seeds: sortedClone(seeds), at: time.Now()}
}

func sortedClone(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// readerReplicas resolves ReaderEndpoint and returns, as nodes, the
// addresses it leads to that answer ROLE replica, other than primary and
// the replicas already known. roles holds the answers the search has
// already; new ones are added. A name that does not resolve, or nodes that
// fail, are logged and left out: the reader endpoint only adds replicas.
func (e *Engine) readerReplicas(ctx context.Context, primary string, known []Node, roles map[string]role) []Node {
	if e.opts.ReaderEndpoint == "" {
		return nil
	}
	addrs, err := e.resolveAddrs(ctx, []string{e.opts.ReaderEndpoint})
	if err != nil {
		e.opts.Logger.Warn("keel: reader endpoint not resolved", "endpoint", e.opts.ReaderEndpoint, "err", err)
		return nil
	}
	ask := slices.DeleteFunc(slices.Clone(addrs), func(a string) bool { _, asked := roles[a]; return asked || a == primary })
	var errs []error
	maps.Copy(roles, e.gatherRoles(ctx, ask, &errs))
	for _, err := range errs {
		e.opts.Logger.Warn("keel: reader endpoint node left out", "endpoint", e.opts.ReaderEndpoint, "err", err)
	}
	var out []Node
	for _, a := range addrs {
		r, ok := roles[a]
		has := func(n Node) bool { return n.Addr == a }
		if ok && !r.master && a != primary && !slices.ContainsFunc(known, has) && !slices.ContainsFunc(out, has) {
			out = append(out, Node{Addr: a})
		}
	}
	return out
}
