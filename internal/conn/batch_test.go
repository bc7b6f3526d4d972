package conn_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
)

// A batch whose caller gives up midway returns the replies that had arrived,
// and the rest, sent or not, never shift another caller's replies.
func TestDoMultiCancelledMidBatch(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	// WAIT 1 300 holds this connection's later replies for 300 ms.
	replies, err := c.DoMulti(ctx, []string{"SET", "mid", "1"}, []string{"WAIT", "1", "300"}, []string{"INCR", "mid"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if len(replies) != 1 || replies[0].Str != "OK" {
		t.Fatalf("replies = %v, want just SET's OK", replies)
	}
	// The INCR was sent with the batch, so it runs; its reply is dropped.
	if got, _ := mustDo(t, c, "GET", "mid").Text(); got != "2" {
		t.Fatalf("GET mid = %q, want 2", got)
	}
	// Requests go back to the pool; none may carry a stale completion.
	for i := range 200 {
		v := strconv.Itoa(i)
		replies, err := c.DoMulti(context.Background(), []string{"SET", "mid", v}, []string{"GET", "mid"})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := replies[1].Text(); got != v {
			t.Fatalf("round %d: GET = %q, want %q", i, got, v)
		}
	}
}

// A batch cut off by the connection's end returns what had arrived and an
// *Error saying the rest may have run; it never hangs.
func TestDoMultiConnectionClosedMidBatch(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		replies, err := c.DoMulti(context.Background(),
			[]string{"PING"}, []string{"WAIT", "1", "5000"}, []string{"PING"}, []string{"PING"})
		done <- result{len(replies), err}
	}()
	waitInFlight(t, s)
	_ = c.Close()
	select {
	case r := <-done:
		// The server answered the first PING before it blocked on WAIT, but
		// whether the reader took that reply before Close is up to the
		// scheduler: the batch returns it or not, and never anything after
		// WAIT.
		if r.n > 1 {
			t.Errorf("got %d replies, want at most 1 (the PING before WAIT)", r.n)
		}
		var ce *conn.Error
		if !errors.As(r.err, &ce) || !errors.Is(r.err, conn.ErrClosed) || !conn.MayHaveRun(r.err) {
			t.Fatalf("err = %v, want a sent *conn.Error for ErrClosed", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("DoMulti did not return after Close")
	}
}

// Concurrent batches of every size, some given up at random, each get their
// own replies; the race detector watches the completion signals.
func TestConcurrentBatchesGetTheirOwnReplies(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "batch:" + strconv.Itoa(g)
			for round := range 100 {
				n := 1 + (g+round)%17
				cmds := make([][]string, 0, 2*n)
				for i := range n {
					v := strconv.Itoa(round*100 + i)
					cmds = append(cmds, []string{"SET", key, v}, []string{"GET", key})
				}
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if round%7 == 3 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(round)*time.Microsecond)
				}
				replies, err := c.DoMulti(ctx, cmds...)
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Error(err)
					return
				}
				for j := 1; j < len(replies); j += 2 {
					if got, _ := replies[j].Text(); got != cmds[j-1][2] {
						t.Errorf("batch %d/%d: reply %d = %q, want %q", g, round, j, got, cmds[j-1][2])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// A batch given up on by its caller is sent whole or not at all: a
// transaction (MULTI, INCR, INCR, EXEC) cut off at a random moment never has
// some of its commands sent without the others, so the counter it increments
// twice is always even and the connection is never left inside MULTI.
func TestCancelledBatchIsSentWholeOrNotAtAll(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	tx := [][]string{{"MULTI"}, {"INCR", "pairs"}, {"INCR", "pairs"}, {"EXEC"}}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				// Deadlines from 0 to ~40µs land before, during and after
				// the writer takes the batch.
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((i*7+g)%40)*time.Microsecond)
				_, _ = c.DoMulti(ctx, tx...)
				cancel()
			}
		}()
	}
	wg.Wait()
	v := mustDo(t, c, "GET", "pairs")
	n, _ := strconv.Atoi(v.Str)
	if n%2 != 0 {
		t.Fatalf("pairs = %d: a transaction was sent in part", n)
	}
	// The connection is not inside a MULTI: a plain command runs at once.
	if got := mustDo(t, c, "INCR", "plain"); got.Int != 1 {
		t.Fatalf("INCR after the batches = %v, want 1", got)
	}
}
