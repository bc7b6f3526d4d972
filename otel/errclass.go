package keelotel

import (
	"context"
	"errors"
	"net"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

// The error classes ErrorClass returns: a small fixed set, so that metrics
// keep few series.
const (
	// ClassUnknownOutcome: the command may or may not have run
	// (keel.ErrUnknownOutcome).
	ClassUnknownOutcome = "unknown_outcome"
	// ClassTimeout: a deadline passed (the context's, the retry budget's,
	// or a node's health or busy timeout).
	ClassTimeout = "timeout"
	// ClassCanceled: the caller's context was canceled.
	ClassCanceled = "canceled"
	// ClassRedirect: too many MOVED/ASK redirects, or one not followed.
	ClassRedirect = "redirect"
	// ClassCluster: the cluster could not serve the slot (CLUSTERDOWN,
	// TRYAGAIN, LOADING, READONLY, MASTERDOWN, an uncovered slot, no node).
	ClassCluster = "cluster"
	// ClassConnection: a connection failed or could not be opened.
	ClassConnection = "connection"
	// ClassAuth: authentication or permission refused, or the credentials
	// provider failed.
	ClassAuth = "auth"
	// ClassTransaction: a transaction did not run (discarded, a watched key
	// changed, MULTI refused).
	ClassTransaction = "transaction"
	// ClassClient: keel refused the command before sending it (a bad
	// argument, keys in several slots, a blocking or connection-state
	// command, the client closed).
	ClassClient = "client"
	// ClassServer: the server's error reply to the command (WRONGTYPE,
	// ERR…).
	ClassServer = "server"
	// ClassOther: anything else.
	ClassOther = "other"
)

// ErrorClass returns err's class, one of the Class constants, or "" for nil
// and for keel.ErrNil (a missing key is an answer, not a failure). The
// first rule that matches wins, in the order the constants are listed.
func ErrorClass(err error) string {
	if err == nil || errors.Is(err, keel.ErrNil) {
		return ""
	}
	var re *resp.Error
	var ne net.Error
	switch {
	case errors.Is(err, keel.ErrUnknownOutcome):
		return ClassUnknownOutcome
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, keel.ErrRetryTimeout), errors.Is(err, keel.ErrHealthTimeout),
		errors.Is(err, keel.ErrBusyTimeout):
		return ClassTimeout
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case errors.Is(err, keel.ErrTooManyRedirects), errors.Is(err, resp.ErrMoved), errors.Is(err, resp.ErrAsk):
		return ClassRedirect
	case errors.Is(err, resp.ErrClusterDown), errors.Is(err, resp.ErrTryAgain), errors.Is(err, resp.ErrLoading),
		errors.Is(err, resp.ErrReadOnly), errors.Is(err, resp.ErrMasterDown),
		errors.Is(err, keel.ErrSlotUncovered), errors.Is(err, keel.ErrNoNode):
		return ClassCluster
	case errors.Is(err, keel.ErrConnLost), errors.Is(err, keel.ErrReplyTooLarge), errors.As(err, &ne):
		return ClassConnection
	case errors.Is(err, keel.ErrAuth), errors.Is(err, keel.ErrCredentials), errors.Is(err, keel.ErrNoPermission),
		errors.Is(err, resp.ErrNoAuth), errors.Is(err, resp.ErrWrongPass), errors.Is(err, resp.ErrNoPerm):
		return ClassAuth
	case errors.Is(err, keel.ErrTxDiscarded), errors.Is(err, keel.ErrWatchChanged), errors.Is(err, keel.ErrMultiRefused):
		return ClassTransaction
	case errors.Is(err, keel.ErrArgument), errors.Is(err, keel.ErrCrossSlot), errors.Is(err, keel.ErrBlocking),
		errors.Is(err, keel.ErrConnState), errors.Is(err, keel.ErrNeedsNode), errors.Is(err, keel.ErrUnknownNode),
		errors.Is(err, keel.ErrClosed), errors.Is(err, keel.ErrNilContext):
		return ClassClient
	case errors.As(err, &re):
		return ClassServer
	}
	return ClassOther
}
