package testutil

import (
	"context"
	"testing"
	"time"
)

// pollInterval is how often [WaitFor] checks its condition: short next to
// any deadline a test sets, long enough not to busy-loop.
const pollInterval = 2 * time.Millisecond

// WaitFor polls cond until it holds, failing the test with "timed out
// waiting until what" once within has passed.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", within, what)
		}
		time.Sleep(pollInterval)
	}
}

// Context returns a context that ends after d or when the test does.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
