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
	// ConnectionsAlive is how many node connections are open.
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
}
