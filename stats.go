package keel

// Stats is a snapshot of a client's counters, since New (the counts) or at
// the time of the call (the gauges).
type Stats struct {
	// Requests counts commands accepted, each command of a pipeline or
	// fan-out counted once.
	Requests int64
	// Errors counts commands that failed with an error other than the
	// server's own reply (a lost connection, a redirect limit, a deadline).
	Errors int64
	// Retries counts attempts beyond each command's first.
	Retries int64
	// Moved counts MOVED redirects followed.
	Moved int64
	// Asked counts ASK redirects followed.
	Asked int64
	// UnknownOutcomes counts commands that failed with ErrUnknownOutcome.
	UnknownOutcomes int64
	// Refreshes counts rounds of topology queries.
	Refreshes int64
	// TopologyChanges counts new topologies installed that route
	// differently from the one before.
	TopologyChanges int64
	// Dials counts attempts to open a node connection, failed ones
	// included.
	Dials int64
	// DialFailures counts attempts to open a shared node connection that
	// failed.
	DialFailures int64
	// EventsDropped counts events not delivered because Options.OnEvent
	// fell behind.
	EventsDropped int64
	// SuspectNodes is how many nodes are suspect right now.
	SuspectNodes int
	// KnownNodes is how many nodes the current topology has.
	KnownNodes int
	// IncidentMode reports that keel is polling the topology quickly
	// because a primary is suspect.
	IncidentMode bool
	// CoveredSlots is how many of the 16384 slots have a known primary.
	CoveredSlots int
	// ConnectionsAlive is how many node connections are open: the shared
	// one per node, and the side and bulk ones opened for diverted reads,
	// for large values, and for requests that meet another on the shared
	// connection while the client has few in progress.
	ConnectionsAlive int
	// Reauths counts live connections re-authenticated
	// (Options.ReauthInterval).
	Reauths int64
	// ReauthFailures counts re-authentications that failed, each also an
	// EventReauthFailed; the connection kept its previous authentication.
	ReauthFailures int64
	// Replaced counts shared connections replaced for their age
	// (Options.MaxConnAge).
	Replaced int64
	// BusyWaits counts the times a node left a request without a byte of
	// reply for HealthTimeout but answered a probe on a second connection:
	// busy (a slow command, writes paused by a failover), not hung, so its
	// connection was kept and the node not suspected (Options.BusyTimeout).
	BusyWaits int64
	// DivertedReads counts read-only commands sent on a second connection
	// to their node because the shared one stalled behind its oldest request
	// (a write paused by a failover, a slow command) for a fifth of
	// HealthTimeout (see Options.BusyTimeout), including those whose reply on
	// the shared connection came first.
	DivertedReads int64
}

// NodeStats are one node's figures: counts since keel first connected to
// the node (kept across reconnections, dropped when the node leaves the
// topology), and gauges at the time of the call.
type NodeStats struct {
	// Addr is the node's "host:port".
	Addr string
	// Requests counts the sends to the node: each try of a command, each
	// command of a pipeline batch.
	Requests int64
	// Errors counts sends that got no reply: a lost connection, a
	// deadline. A server's error reply is a reply, not counted here.
	Errors int64
	// Retries counts sends that were not their command's first try.
	Retries int64
	// Redirects counts the MOVED and ASK replies the node gave.
	Redirects int64
	// Dials counts attempts to connect to the node, failed ones included.
	Dials int64
	// DialFailures counts attempts to connect that failed.
	DialFailures int64
	// Connected reports that the node's shared connection is open.
	Connected bool
	// InFlight is how many commands were written to the node and await
	// their replies.
	InFlight int64
}

// NodeStats returns the figures of each node keel has connected to (or
// tried to), sorted by address. The counting costs commands one atomic
// addition on the node's own counters; NodeStats itself takes a lock and
// allocates, for a scrape or a dashboard rather than for every command.
func (c *Client) NodeStats() []NodeStats {
	nodes := c.e.NodeStats()
	out := make([]NodeStats, len(nodes))
	for i, n := range nodes {
		out[i] = NodeStats(n)
	}
	return out
}
