package keel

import (
	"time"

	"github.com/keel-go/keel/internal/cluster"
)

// Event is something keel noticed about the cluster, delivered to
// Options.OnEvent.
type Event struct {
	// Time is when keel noticed it.
	Time time.Time
	// Kind says what happened, and so which other fields are set.
	Kind EventKind
	// Node is the "host:port" of the node concerned, for EventNodeSuspect,
	// EventNodeRecovered and EventReauthFailed; for EventResubscribed, the
	// node now serving the subscription.
	Node string
	// Cause says what prompted a refresh (such as "MOVED" or "discovery"),
	// why a node is suspect, or why a subscription had to be restored
	// (connection lost, node suspect, slot moved…).
	Cause string
	// Diff is what changed, for EventTopologyChanged.
	Diff TopologyDiff
	// Err is what failed, for EventNodeSuspect, EventRefreshFailed and
	// EventReauthFailed.
	Err error
	// Gap is, for EventResubscribed, how long the subscription was not
	// served: from keel noticing the loss to the server confirming the
	// subscription again.
	Gap time.Duration
}

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	// EventTopologyChanged: a new topology is in use; Event.Cause says what
	// prompted the refresh and Event.Diff what changed.
	EventTopologyChanged EventKind = iota + 1
	// EventNodeSuspect: a node's connection failed or it could not be
	// reached; while a primary is suspect, keel polls the topology quickly
	// (Options.IncidentInterval).
	EventNodeSuspect
	// EventNodeRecovered: a suspect node answers again.
	EventNodeRecovered
	// EventRefreshFailed: no node answered a topology query.
	EventRefreshFailed
	// EventReauthFailed: re-authenticating a live connection
	// (Options.ReauthInterval) failed. Event.Err matches ErrCredentials and
	// the provider's error when the provider failed, or ErrAuth when the
	// server refused what it returned. The connection keeps its previous
	// authentication and serves on; keel tries again at the next interval.
	EventReauthFailed
	// EventResubscribed: a Subscription lost its connection or node (or,
	// for sharded channels, a channel's slot moved) and was restored on
	// Event.Node after Event.Gap; Event.Cause says why. One event per
	// connection restored.
	EventResubscribed
)

// String returns "topology-changed", "node-suspect", "node-recovered",
// "refresh-failed", "reauth-failed" or "resubscribed".
func (k EventKind) String() string { return cluster.EventKind(k).String() }

// TopologyDiff is how a new topology differs from the one it replaced.
type TopologyDiff struct {
	// SlotsMoved counts the slots whose primary changed.
	SlotsMoved int
	// Added lists the addresses of nodes that joined, sorted.
	Added []string
	// Removed lists the addresses of nodes that left, sorted.
	Removed []string
	// NewPrimaries lists the addresses of primaries that were not primaries
	// before (a failover's promoted replica, a new shard), sorted.
	NewPrimaries []string
}

// Empty reports whether the two topologies route every slot alike and have
// the same nodes.
func (d TopologyDiff) Empty() bool { return cluster.Diff(d).Empty() }

// String summarises the difference, such as "3 slots moved; added
// 10.0.0.7:6379", or "no change".
func (d TopologyDiff) String() string { return cluster.Diff(d).String() }

// eventFrom converts an engine event for Options.OnEvent.
func eventFrom(ev cluster.Event) Event {
	return Event{
		Time:  ev.Time,
		Kind:  EventKind(ev.Kind),
		Node:  ev.Node,
		Cause: ev.Cause,
		Diff:  TopologyDiff(ev.Diff),
		Err:   ev.Err,
		Gap:   ev.Gap,
	}
}
