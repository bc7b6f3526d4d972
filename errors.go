package keel

import (
	"errors"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Every error keel returns matches, with errors.Is, one of the sentinels
// below, a context error (context.Canceled, context.DeadlineExceeded), a
// server error reply (a *resp.Error, matched by code with resp's sentinels:
// resp.ErrWrongType, resp.ErrNoScript…), or, for a typed command whose
// reply has a shape it cannot convert, resp.ErrType. An error naming
// several causes matches each: a command that gave up retrying matches
// ErrRetryTimeout and its last failure, such as ErrConnLost.

// Errors of arguments and of the client's state: nothing was sent.
var (
	// ErrArgument is matched by the error of a command given an argument
	// keel cannot send: nil, a type it does not convert, or a value the
	// command refuses (an empty key list, a NaN score…), and of a Tx it
	// cannot run as given. Nothing was sent.
	ErrArgument = errors.New("keel: bad argument")
	// ErrNilContext is returned for a command given a nil context.
	ErrNilContext = cluster.ErrNilContext
	// ErrClosed is returned for requests made after Shutdown or Close began,
	// and for requests they had to cut off.
	ErrClosed = cluster.ErrClosed
	// ErrNotRun is the result of a Future whose pipeline or transaction has
	// not run yet.
	ErrNotRun = errors.New("keel: the command's pipeline has not run yet")
	// ErrCrossSlot means a command's keys are in different slots and the
	// command cannot be split (use a hash tag such as {user42} in the keys).
	// It is resp.ErrCrossSlot, so it matches both keel's own check, made
	// before sending (in a Tx, a Watch, a multi-key command), and the
	// server's CROSSSLOT reply to a command keel did not check (one run on
	// a Node, or one unknown to keel).
	ErrCrossSlot = resp.ErrCrossSlot
	// ErrBlocking means a blocking command (BLPOP, XREAD BLOCK…) was put in
	// a Pipeline or a Tx, or sent on a Node, where only shared connections
	// are at hand: run it on its own (a Client method, Run, Client.Do),
	// which uses a connection of its own. WAIT and WAITAOF run only on a
	// Watch (see Wait). The error's text says which.
	ErrBlocking = cluster.ErrBlocking
	// ErrConnState means a command that changes the state of its connection
	// (MULTI, EXEC, WATCH, SELECT, CLIENT REPLY, MONITOR, HELLO, AUTH,
	// SUBSCRIBE…) was sent through Do or a Pipeline; keel's connections are
	// shared by every goroutine, so it refuses them before sending anything.
	// The error's text names what to use instead.
	ErrConnState = cluster.ErrConnState
	// ErrNeedsNode is the error of a keyless command sent through Client.Do
	// (or a Pipeline) whose answer belongs to one node, such as INFO,
	// CONFIG, CLIENT, SLOWLOG or CLUSTER MYID. Run it on a node of your
	// choice with Client.Node(addr), or on each with ForEachPrimary or
	// ForEachNode.
	ErrNeedsNode = cluster.ErrNeedsNode
	// ErrUnknownNode means an address is not a node of the cluster as the
	// client currently sees it (Client.Node, or a Node that has since left).
	ErrUnknownNode = cluster.ErrUnknownNode
)

// Errors of New: the cluster could not be discovered or used as configured.
var (
	// ErrBadOptions is matched by New's error for an option out of its
	// range (no Seeds, an unknown ReadPolicy, a negative MaxRedirects).
	ErrBadOptions = cluster.ErrBadOptions
	// ErrNotCluster means New, with Mode ModeCluster, reached a seed that
	// is not a cluster node.
	ErrNotCluster = cluster.ErrNotCluster
	// ErrNoSlots means New reached the cluster but no node serves any slot
	// (a cluster not yet set up). Partial coverage is not an error:
	// Stats.CoveredSlots reports it.
	ErrNoSlots = cluster.ErrNoSlots
	// ErrNoPermission means the user lacks an ACL permission keel needs to
	// discover the cluster; the error quotes the server's NOPERM reply.
	ErrNoPermission = cluster.ErrNoPermission
	// ErrBadTopology is matched, with ErrNoNode, by New's error (and by the
	// Err of an EventRefreshFailed) when nodes answered the topology query
	// (CLUSTER SHARDS or SLOTS) with a reply keel cannot use.
	ErrBadTopology = cluster.ErrBadTopology
	// ErrAuth means the cluster refused the credentials (New, or a
	// connection opened later).
	ErrAuth = conn.ErrAuth
	// ErrCredentials means Options.Credentials returned an error; the
	// error it returned is matched too.
	ErrCredentials = conn.ErrCredentials
)

// Errors of routing and retrying: the command may have been sent to
// several nodes, none of which gave a final answer.
var (
	// ErrNoNode means no cluster node could be reached, even through the
	// seeds resolved anew.
	ErrNoNode = cluster.ErrNoNode
	// ErrSlotUncovered means the cluster had no primary for the key's slot
	// until the request's deadline.
	ErrSlotUncovered = cluster.ErrSlotUncovered
	// ErrTooManyRedirects means a command was redirected (MOVED, ASK) more
	// than Options.MaxRedirects times; the error also matches the last
	// redirect (resp.ErrMoved or resp.ErrAsk).
	ErrTooManyRedirects = cluster.ErrTooManyRedirects
	// ErrRetryTimeout means keel gave up retrying a command that kept
	// failing for a passing reason (a failover, a node it could not reach):
	// after Options.RetryTimeout when the command's context has no
	// deadline, or after a second for a command run on a Node. The error
	// also matches the last failure. With a deadline, the error matches
	// context.DeadlineExceeded instead.
	ErrRetryTimeout = cluster.ErrRetryTimeout
	// ErrUnsubscribed is returned by Subscription.Subscribe for a channel
	// that a concurrent Unsubscribe removed before the server confirmed it.
	ErrUnsubscribed = cluster.ErrUnsubscribed
)

// Errors of connections: the command's connection failed.
var (
	// ErrConnLost is matched by errors of commands whose connection failed,
	// whatever the cause: a network error, a node that stopped answering
	// (ErrHealthTimeout), a reply over the limits (ErrReplyTooLarge), a
	// malformed reply (resp.ErrProtocol), or a reply that cannot belong to
	// the command it would answer. Such a command is retried when it
	// certainly did not run, or is idempotent; otherwise its error matches
	// ErrUnknownOutcome too.
	ErrConnLost = conn.ErrConnLost
	// ErrUnknownOutcome means the command may or may not have run: its
	// connection failed (or its context ended) after it was sent, and keel
	// did not retry it because it is not idempotent and
	// Options.RetryUnknownOutcome is off.
	ErrUnknownOutcome = cluster.ErrUnknownOutcome
	// ErrHealthTimeout is matched, with ErrConnLost, when the node sent no
	// byte of reply for Options.HealthTimeout while commands waited, and
	// did not answer a probe on a second connection either (unless
	// Options.BusyTimeout is negative): keel closed the connection and
	// suspects the node.
	ErrHealthTimeout = conn.ErrHealthTimeout
	// ErrBusyTimeout is matched, with ErrConnLost, when a node kept
	// answering probes but left a request without a byte of reply for
	// Options.BusyTimeout: keel closed the connection and suspects the node.
	ErrBusyTimeout = conn.ErrBusyTimeout
	// ErrReplyTooLarge means a reply exceeded Options.MaxBulkBytes,
	// MaxReplyElements or MaxReplyBytes; it matches ErrConnLost too.
	ErrReplyTooLarge = resp.ErrTooLarge
)

// Errors of replies: the server answered.
var (
	// ErrNil is returned when a key or field does not exist.
	ErrNil = resp.ErrNil
	// ErrTxDiscarded means the server refused a queued command of a
	// transaction (a wrong number of arguments, an unknown command…) and so
	// discarded it: none of its commands ran. The refused commands' errors
	// are in their Results; the others' match ErrTxDiscarded.
	ErrTxDiscarded = cluster.ErrTxDiscarded
	// ErrMultiRefused is matched by Tx.Exec's error when the server refused
	// MULTI itself (an ACL denying it, say) but ran the queued commands one
	// by one, outside a transaction: their Results hold what each did.
	ErrMultiRefused = cluster.ErrMultiRefused
	// ErrWatchChanged means a transaction on a Watch did not run because a
	// watched key changed. Client.Watch then runs its function again.
	ErrWatchChanged = cluster.ErrWatchChanged
	// ErrWatchOver is the error of a Watch used after its function
	// returned, or after its connection failed.
	ErrWatchOver = cluster.ErrWatchOver
	// ErrBusyGroup is the server's BUSYGROUP error: XGROUP CREATE of a
	// group that exists.
	ErrBusyGroup = &resp.Error{Code: "BUSYGROUP"}
	// ErrNoGroup is the server's NOGROUP error: the stream or the consumer
	// group does not exist.
	ErrNoGroup = &resp.Error{Code: "NOGROUP"}
)
