package drill

import (
	"context"
	"errors"
	"net"
	"strings"
)

// Class is the kind of a request's outcome.
type Class uint8

// Outcome classes. ClassOK is a success; every other class is an error the
// client surfaced to its caller.
const (
	ClassOK          Class = iota
	ClassTimeout           // the request's own deadline passed
	ClassConn              // connection refused, reset, closed or lost
	ClassClusterDown       // CLUSTERDOWN / MASTERDOWN from the server
	ClassRedirect          // a MOVED or ASK reached the caller
	ClassReadOnly          // READONLY: a write reached a replica
	ClassLoading           // LOADING
	ClassTryAgain          // TRYAGAIN (slot migration)
	ClassUnknown           // the client says the outcome is unknown
	ClassWrongValue        // a GET returned a value that was never written
	ClassSkipped           // the workload could not even issue the request: too many in flight
	ClassOther             // anything else
	numClasses
)

var classNames = [numClasses]string{
	"ok", "timeout", "conn", "clusterdown", "redirect", "readonly", "loading",
	"tryagain", "unknown-outcome", "wrong-value", "skipped", "other",
}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "other"
}

// Classify sorts an error returned by any client into a Class. It works on
// errors.Is for the standard library's sentinels and on the text of server
// errors, which every client passes through; nil is ClassOK.
func Classify(err error) Class {
	if err == nil {
		return ClassOK
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ClassTimeout
	}
	msg := err.Error()
	upper := strings.ToUpper(msg)
	switch {
	case strings.HasPrefix(upper, "CLUSTERDOWN"), strings.HasPrefix(upper, "MASTERDOWN"),
		strings.Contains(upper, "CLUSTERDOWN"):
		return ClassClusterDown
	case strings.HasPrefix(upper, "MOVED "), strings.HasPrefix(upper, "ASK "):
		return ClassRedirect
	case strings.HasPrefix(upper, "READONLY"):
		return ClassReadOnly
	case strings.HasPrefix(upper, "LOADING"):
		return ClassLoading
	case strings.HasPrefix(upper, "TRYAGAIN"):
		return ClassTryAgain
	case strings.Contains(msg, "outcome unknown"), strings.Contains(msg, "unknown outcome"), strings.Contains(msg, "may have run"):
		return ClassUnknown
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ClassTimeout
	}
	lower := strings.ToLower(msg)
	for _, s := range []string{"timeout", "deadline exceeded", "timed out"} {
		if strings.Contains(lower, s) {
			return ClassTimeout
		}
	}
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "eof",
		"closed", "connection lost", "no route", "i/o", "dial", "network", "unable to connect"} {
		if strings.Contains(lower, s) {
			return ClassConn
		}
	}
	return ClassOther
}
