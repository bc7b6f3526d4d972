package cluster

import (
	"sort"
	"sync/atomic"
)

// nodeCounters are one node's counters. They live in the pool's slot for the
// node, which the lookup of its connection finds too: counting costs an
// atomic add, never a map lookup.
type nodeCounters struct {
	requests     atomic.Int64 // tries sent to the node
	errors       atomic.Int64 // tries that got no reply (connection lost, deadline)
	retries      atomic.Int64 // tries that were not their request's first
	redirects    atomic.Int64 // MOVED and ASK replies from the node
	dials        atomic.Int64 // connection attempts
	dialFailures atomic.Int64 // connection attempts that failed

	largeReplies    atomic.Int32                  // how much recent read replies were large (bulkconn.go)
	largeReadSlots  atomic.Pointer[chan struct{}] // bounds the large reads in flight (bulkconn.go)
	largeWriteSlots atomic.Pointer[chan struct{}] // bounds the large writes in flight (bulkconn.go)
}

// NodeStats are one node's figures: counts since the node joined the pool,
// and gauges at the time of the call.
type NodeStats struct {
	Addr         string
	Requests     int64 // tries sent to the node, each command of a batch counted
	Errors       int64 // tries that got no reply: connection lost, deadline
	Retries      int64 // tries that were not their request's first
	Redirects    int64 // MOVED and ASK replies the node gave
	Dials        int64 // connection attempts, failed ones included
	DialFailures int64 // connection attempts that failed
	Connected    bool  // the node's shared connection is open
	InFlight     int64 // requests written to the node, awaiting their replies
}

// NodeStats returns the figures of every node the pool has a slot for,
// sorted by address.
func (e *Engine) NodeStats() []NodeStats {
	p := e.pool
	p.mu.Lock()
	out := make([]NodeStats, 0, len(p.nodes))
	for addr, nc := range p.nodes {
		s := NodeStats{
			Addr:         addr,
			Requests:     nc.stats.requests.Load(),
			Errors:       nc.stats.errors.Load(),
			Retries:      nc.stats.retries.Load(),
			Redirects:    nc.stats.redirects.Load(),
			Dials:        nc.stats.dials.Load(),
			DialFailures: nc.stats.dialFailures.Load(),
		}
		if c := nc.conn; alive(c) {
			s.Connected = true
			s.InFlight = c.InFlight()
		}
		for _, c := range nc.others() {
			if alive(c) {
				s.InFlight += c.InFlight()
			}
		}
		out = append(out, s)
	}
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}
