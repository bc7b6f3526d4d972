package cluster

import (
	"sync/atomic"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	// TopologyChanged: a new topology is in use; Cause says what prompted
	// the refresh and Diff what changed.
	TopologyChanged EventKind = iota + 1
	// NodeSuspect: a node's connection failed or it could not be reached;
	// while a primary is suspect, keel polls the topology quickly.
	NodeSuspect
	// NodeRecovered: a suspect node answers again.
	NodeRecovered
	// RefreshFailed: no node answered a topology query.
	RefreshFailed
	// ReauthFailed: re-authenticating a live connection failed (the
	// credentials provider, or the server refused what it gave); the
	// connection keeps its previous authentication.
	ReauthFailed
	// Resubscribed: a subscription lost its connection or its node and was
	// restored on Node; Gap is how long it was not served, Cause why.
	Resubscribed
)

func (k EventKind) String() string {
	switch k {
	case TopologyChanged:
		return "topology-changed"
	case NodeSuspect:
		return "node-suspect"
	case NodeRecovered:
		return "node-recovered"
	case RefreshFailed:
		return "refresh-failed"
	case ReauthFailed:
		return "reauth-failed"
	case Resubscribed:
		return "resubscribed"
	}
	return "unknown"
}

// Event is something keel noticed about the cluster.
type Event struct {
	Time  time.Time
	Kind  EventKind
	Node  string        // the node concerned, for node events
	Cause string        // what prompted a refresh, or why a node is suspect
	Diff  Diff          // for TopologyChanged
	Err   error         // for NodeSuspect, RefreshFailed and ReauthFailed
	Gap   time.Duration // for Resubscribed: from the loss noticed to the subscription restored
}

// eventBuffer is how many events may wait for a slow OnEvent before new ones
// are dropped.
const eventBuffer = 1024

// emit queues e for the OnEvent callback without ever blocking.
func (e *Engine) emit(ev Event) {
	if e.events == nil {
		return
	}
	ev.Time = time.Now()
	select {
	case e.events <- ev:
	default:
		e.stats.eventsDropped.Add(1)
	}
}

// deliverEvents runs OnEvent for queued events until the engine stops.
func (e *Engine) deliverEvents() {
	defer e.wg.Done()
	for {
		select {
		case ev := <-e.events:
			e.opts.OnEvent(ev)
		case <-e.stopped:
			return
		}
	}
}

// Stats is a snapshot of an engine's counters since it started.
type Stats struct {
	Requests         int64 // commands accepted
	Errors           int64 // commands that returned an error other than a server reply
	Retries          int64 // attempts beyond the first
	Moved            int64 // MOVED redirects followed
	Asked            int64 // ASK redirects followed
	UnknownOutcomes  int64 // commands failed with ErrUnknownOutcome
	Refreshes        int64 // topology queries rounds
	TopologyChanges  int64 // topologies installed that routed differently
	Dials            int64 // connection attempts, failed ones included (DialFailures)
	DialFailures     int64 // connections that could not be opened
	EventsDropped    int64 // events not delivered because OnEvent fell behind
	SuspectNodes     int   // nodes suspect right now
	KnownNodes       int   // nodes in the current topology
	IncidentMode     bool  // polling quickly because a primary is suspect
	CoveredSlots     int   // slots with a known primary
	ConnectionsAlive int   // open node connections
	Reauths          int64 // live connections re-authenticated
	ReauthFailures   int64 // re-authentications that failed (ReauthFailed)
	Replaced         int64 // shared connections replaced for their age
	BusyWaits        int64 // silent connections kept because their node answered a probe
	DivertedReads    int64 // reads sent on a side connection around a stalled shared one
}

type counters struct {
	requests, errors, retries, moved, asked, unknownOutcomes atomic.Int64
	refreshes, topologyChanges, dials, dialFailures          atomic.Int64
	eventsDropped, reauths, reauthFailures, replaced         atomic.Int64
	busyWaits, diverted                                      atomic.Int64
}
