package cluster

import (
	"errors"
	"fmt"

	"github.com/keel-go/keel/internal/conn"
)

var (
	// ErrClosed is returned for requests made after Shutdown began, and for
	// requests Shutdown had to cut off.
	ErrClosed = errors.New("keel: client closed")
	// ErrUnknownOutcome is matched by the error of a request that may or may
	// not have run: its connection failed (or its context ended) after the
	// command was sent, and keel did not retry it because it is not
	// idempotent and the caller did not allow retrying such commands.
	ErrUnknownOutcome = errors.New("keel: outcome unknown: the command may have run")
	// ErrNoNode is returned when no known node answers, even after the seeds
	// were resolved again.
	ErrNoNode = errors.New("keel: no cluster node reachable")
	// ErrSlotUncovered is returned when the cluster has no primary for the
	// request's slot until the caller's deadline.
	ErrSlotUncovered = errors.New("keel: no node serves the slot")
	// ErrBlocking is returned for blocking commands (BLPOP, XREAD BLOCK,
	// WAIT…) where they would stall a connection others share (pipelines,
	// transactions, nodes), and for WAIT outside a watch.
	ErrBlocking = errors.New("keel: blocking command refused here")
	// ErrConnState is returned, before anything is sent, for commands that
	// change the state of the connection they run on (MULTI, WATCH, SELECT,
	// CLIENT REPLY, MONITOR, HELLO, SUBSCRIBE…): every goroutine shares
	// keel's connections. The error's text names what to use instead.
	ErrConnState = conn.ErrRefused
	// ErrNotCluster is returned by New, in ModeCluster, when a seed answers
	// but is not a cluster node (cluster support disabled).
	ErrNotCluster = errors.New("keel: seed is not a cluster node (cluster-enabled is off)")
	// ErrNoSlots is returned by New when the nodes answer but none serves a
	// slot: a cluster not yet set up (no CLUSTER ADDSLOTS) or an empty
	// topology reply.
	ErrNoSlots = errors.New("keel: the cluster serves no slot")
	// ErrNoPermission is matched by the error of New when the user lacks an
	// ACL permission keel needs to discover the cluster (CLUSTER SHARDS or
	// SLOTS, and CLUSTER INFO); the error quotes the server's NOPERM reply,
	// which names the command.
	ErrNoPermission = errors.New("keel: the user lacks a permission keel needs")
	// ErrNilContext is returned for a request made with a nil context.
	ErrNilContext = errors.New("keel: nil context")
	// ErrBadOptions is matched by New's error for an option out of its range.
	ErrBadOptions = errors.New("keel: invalid options")
	// ErrTooManyRedirects is returned when a request was redirected more than
	// the redirect limit allows.
	ErrTooManyRedirects = errors.New("keel: too many redirects")
	// ErrUnsubscribed is returned by Subscriber.Add for a name that a
	// concurrent Remove removed before the server confirmed it.
	ErrUnsubscribed = errors.New("keel: unsubscribed before the server confirmed the subscription")
)

// unknownOutcome wraps cause so that errors.Is matches ErrUnknownOutcome
// and cause alike.
func unknownOutcome(cause error) error {
	return fmt.Errorf("%w: %w", ErrUnknownOutcome, cause)
}
