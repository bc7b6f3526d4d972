package conn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// Batches sent to two connections before either is awaited are written by
// their caller (the connections were idle) and each gets its own replies,
// whichever is awaited first; a request another caller makes meanwhile is
// answered once the batch's replies are read.
func TestBatchesSentBeforeAnyIsAwaited(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	a := dial(t, s, conn.Options{PingInterval: -1})
	b := dial(t, s, conn.Options{PingInterval: -1})
	mustDo(t, a, "MSET", "ka", "va", "kb", "vb")
	ctx := context.Background()

	// The monitor's look at an idle socket briefly holds its writing, when
	// a batch is queued instead: then the batch is awaited and sent again.
	var sentA, sentB conn.Sent
	for try := 0; ; try++ {
		before := a.DirectRequests() + b.DirectRequests()
		var err error
		if sentA, err = a.SendEach(ctx, [][]string{{"GET", "ka"}, {"ECHO", "a"}}, nil); err != nil {
			t.Fatal(err)
		}
		if sentB, err = b.SendEach(ctx, [][]string{{"GET", "kb"}}, nil); err != nil {
			t.Fatal(err)
		}
		if a.DirectRequests()+b.DirectRequests()-before == 3 {
			break
		}
		if try == 20 {
			t.Fatal("the batches were never written by their caller")
		}
		for _, s := range []conn.Sent{sentA, sentB} {
			if _, err := s.Wait(ctx, func(int, resp.Value) {}); err != nil {
				t.Fatal(err)
			}
		}
	}
	other := make(chan error, 1)
	go func() {
		v, err := a.Do(ctx, "ECHO", "other")
		if err == nil && v.Str != "other" {
			err = errors.New("ECHO other answered " + v.Str)
		}
		other <- err
	}()

	var gotB []string
	if n, err := sentB.Wait(ctx, func(_ int, v resp.Value) { gotB = append(gotB, v.Str) }); n != 1 || err != nil || gotB[0] != "vb" {
		t.Fatalf("b's batch: %d replies %q, %v", n, gotB, err)
	}
	var gotA []string
	if n, err := sentA.Wait(ctx, func(_ int, v resp.Value) { gotA = append(gotA, v.Str) }); n != 2 || err != nil || gotA[0] != "va" || gotA[1] != "a" {
		t.Fatalf("a's batch: %d replies %q, %v", n, gotA, err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
}

// A batch whose context ends between its sending and its wait gets the
// context's error, and its connection serves the next request right.
func TestSentBatchWaitEndsWithItsContext(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{PingInterval: -1})
	ctx, cancel := context.WithCancel(context.Background())
	sent, err := c.SendEach(ctx, [][]string{{"ECHO", "dropped"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
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
