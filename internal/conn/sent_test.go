package conn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// sendDirectly sends cmds on c with SendEach until the caller writes them
// itself: the health check's look at an idle socket briefly holds the
// connection's writing, and a batch sent then is queued (it is awaited, and
// sent again).
func sendDirectly(t *testing.T, ctx context.Context, c *conn.Conn, cmds ...[]string) conn.Sent {
	t.Helper()
	for range 20 {
		before := c.DirectRequests()
		s, err := c.SendEach(ctx, cmds, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.DirectRequests()-before == int64(len(cmds)) {
			return s
		}
		if _, err := s.Wait(ctx, func(int, resp.Value) {}); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the batch was never written by its caller")
	return conn.Sent{}
}

// Batches sent to two connections before either is awaited each get their
// own replies. Once Read, a batch no longer holds its connection: another
// caller's request is answered before the batch is waited for.
func TestBatchesSentBeforeAnyIsAwaited(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	a := dial(t, s, conn.Options{PingInterval: -1})
	b := dial(t, s, conn.Options{PingInterval: -1})
	mustDo(t, a, "MSET", "ka", "va", "kb", "vb")
	ctx := context.Background()

	sentA := sendDirectly(t, ctx, a, []string{"GET", "ka"}, []string{"ECHO", "a"})
	sentB := sendDirectly(t, ctx, b, []string{"GET", "kb"})
	sentA.Read(ctx)
	sentB.Read(ctx)
	if v := mustDo(t, a, "ECHO", "other"); v.Str != "other" {
		t.Fatalf("another caller's ECHO got %q", v.Str)
	}

	var gotB []string
	if n, err := sentB.Wait(ctx, func(_ int, v resp.Value) { gotB = append(gotB, v.Str) }); n != 1 || err != nil || gotB[0] != "vb" {
		t.Fatalf("b's batch: %d replies %q, %v", n, gotB, err)
	}
	var gotA []string
	if n, err := sentA.Wait(ctx, func(_ int, v resp.Value) { gotA = append(gotA, v.Str) }); n != 2 || err != nil || gotA[0] != "va" || gotA[1] != "a" {
		t.Fatalf("a's batch: %d replies %q, %v", n, gotA, err)
	}
}

// A batch its caller wrote itself, whose context ends between its sending
// and its wait, gets the context's error, and its connection serves the
// next request right.
func TestSentBatchWaitEndsWithItsContext(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{PingInterval: -1})
	ctx, cancel := context.WithCancel(context.Background())
	sent := sendDirectly(t, ctx, c, []string{"ECHO", "dropped"})
	cancel()
	// The reply may already be in: then it is delivered, as a reply that
	// beat the cancellation would be.
	var got []string
	n, err := sent.Wait(ctx, func(_ int, v resp.Value) { got = append(got, v.Str) })
	if !(n == 0 && errors.Is(err, context.Canceled)) && !(n == 1 && err == nil && got[0] == "dropped") {
		t.Fatalf("Wait = %d %q, %v; want the context's error, or the reply", n, got, err)
	}
	if v := mustDo(t, c, "ECHO", "next"); v.Str != "next" {
		t.Fatalf("the next request got %q", v.Str)
	}
}
