package keelotel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/keel-go/keel"
	keelotel "github.com/keel-go/keel/otel"
	"github.com/keel-go/keel/resp"
)

func TestErrorClass(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{keel.ErrNil, ""},
		{fmt.Errorf("keel: %w: %w", keel.ErrUnknownOutcome, keel.ErrConnLost), keelotel.ClassUnknownOutcome},
		{context.DeadlineExceeded, keelotel.ClassTimeout},
		{fmt.Errorf("%w (last error: x)", keel.ErrRetryTimeout), keelotel.ClassTimeout},
		{fmt.Errorf("keel: connection lost: %w", keel.ErrBusyTimeout), keelotel.ClassTimeout},
		{context.Canceled, keelotel.ClassCanceled},
		{fmt.Errorf("%w: MOVED", keel.ErrTooManyRedirects), keelotel.ClassRedirect},
		{&resp.Error{Code: "CLUSTERDOWN", Msg: "The cluster is down"}, keelotel.ClassCluster},
		{keel.ErrSlotUncovered, keelotel.ClassCluster},
		{keel.ErrConnLost, keelotel.ClassConnection},
		{&resp.Error{Code: "NOPERM", Msg: "no permissions"}, keelotel.ClassAuth},
		{keel.ErrCredentials, keelotel.ClassAuth},
		{keel.ErrWatchChanged, keelotel.ClassTransaction},
		{keel.ErrArgument, keelotel.ClassClient},
		{keel.ErrClosed, keelotel.ClassClient},
		{&resp.Error{Code: "CROSSSLOT", Msg: "Keys in request don't hash to the same slot"}, keelotel.ClassClient},
		{&resp.Error{Code: "WRONGTYPE", Msg: "Operation against a key holding the wrong kind of value"}, keelotel.ClassServer},
		{fmt.Errorf("something else"), keelotel.ClassOther},
	} {
		if got := keelotel.ErrorClass(c.err); got != c.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
