package conn_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// elsewhereFunc adapts a function to conn.Elsewhere and counts its calls.
type elsewhereFunc struct {
	calls atomic.Int64
	f     func(ctx context.Context, args []string) (resp.Value, error)
}

func (e *elsewhereFunc) ReadElsewhere(ctx context.Context, _ string, args []string) (resp.Value, error) {
	e.calls.Add(1)
	return e.f(ctx, args)
}

// A read already sent behind a request the server is slow to answer (a
// server slow as a whole, here DEBUG SLEEP) goes elsewhere too, but the
// reply here, which comes first, wins: the read elsewhere is cancelled.
func TestHedgedReadKeepsTheReplyHere(t *testing.T) {
	s := debugServer(t)
	c := dial(t, s, conn.Options{HealthTimeout: 2 * time.Second, BusyTimeout: 10 * time.Second, DivertReadsAfter: 50 * time.Millisecond})
	mustDo(t, c, "SET", "k", "here")
	var cancelled atomic.Bool
	alt := &elsewhereFunc{f: func(ctx context.Context, _ []string) (resp.Value, error) {
		<-ctx.Done() // a side connection that cannot answer in time
		cancelled.Store(true)
		return resp.Value{}, ctx.Err()
	}}
	slept := make(chan error, 1)
	go func() { _, err := c.Do(context.Background(), "DEBUG", "SLEEP", "0.4"); slept <- err }()
	testutil.WaitFor(t, time.Second, "DEBUG SLEEP is in flight", func() bool { return c.InFlight() > 0 })

	v, err := c.DoReadElsewhere(context.Background(), []string{"GET", "k"}, alt)
	if err != nil || v.Str != "here" {
		t.Fatalf("hedged read: %v %v; want \"here\"", v, err)
	}
	if alt.calls.Load() != 1 || !cancelled.Load() {
		t.Fatalf("read elsewhere: %d calls, cancelled %v; want 1 call, cancelled once the reply here won", alt.calls.Load(), cancelled.Load())
	}
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
	if v := mustDo(t, c, "GET", "k"); v.Str != "here" {
		t.Fatalf("next reply %v: out of step", v)
	}
}

// A read sent behind a write held by CLIENT PAUSE WRITE is answered
// elsewhere long before the pause ends; its reply here is dropped and the
// connection stays in step. When the read elsewhere fails, the reply here is
// waited for.
func TestHedgedReadAnsweredElsewhereDuringWritePause(t *testing.T) {
	s := debugServer(t)
	admin := dial(t, s, conn.Options{})
	c := dial(t, s, conn.Options{HealthTimeout: 2 * time.Second, BusyTimeout: 10 * time.Second, DivertReadsAfter: 50 * time.Millisecond})
	mustDo(t, admin, "SET", "k", "before")
	elsewhere := &elsewhereFunc{f: func(ctx context.Context, args []string) (resp.Value, error) {
		return admin.Do(ctx, args...)
	}}
	failing := &elsewhereFunc{f: func(context.Context, []string) (resp.Value, error) {
		return resp.Value{}, errors.New("no side connection")
	}}

	const pause = 800 * time.Millisecond
	for _, c2 := range []struct {
		alt  *elsewhereFunc
		want string
		fast bool
	}{{elsewhere, "before", true}, {failing, "after", false}} {
		mustDo(t, admin, "SET", "k", "before")
		mustDo(t, admin, "CLIENT", "PAUSE", strconv.Itoa(int(pause.Milliseconds())), "WRITE")
		paused := time.Now()
		wrote := make(chan error, 1)
		go func() { _, err := c.Do(context.Background(), "SET", "k", "after"); wrote <- err }()
		testutil.WaitFor(t, time.Second, "the write is in flight", func() bool { return c.InFlight() > 0 })
		v, err := c.DoReadElsewhere(context.Background(), []string{"GET", "k"}, c2.alt)
		took := time.Since(paused)
		if err != nil || v.Str != c2.want {
			t.Fatalf("hedged read: %v %v; want %q", v, err, c2.want)
		}
		if c2.fast && took > pause/2 {
			t.Fatalf("answered after %v; want well within the %v pause", took, pause)
		}
		if err := <-wrote; err != nil {
			t.Fatalf("the paused write: %v", err)
		}
		testutil.WaitFor(t, 2*time.Second, "diverting stops", func() bool { return !c.Diverting() })
		if v := mustDo(t, c, "GET", "k"); v.Str != "after" {
			t.Fatalf("next reply %v: out of step", v)
		}
		if c2.alt.calls.Load() == 0 {
			t.Fatal("the read never went elsewhere")
		}
	}
}

// A read diverted while the connection is stalled, for which no other
// connection can be had, waits for its reply here instead of failing.
func TestDivertedReadWithoutElsewhereWaitsHere(t *testing.T) {
	s := debugServer(t)
	c := dial(t, s, conn.Options{HealthTimeout: 2 * time.Second, BusyTimeout: 10 * time.Second, DivertReadsAfter: 50 * time.Millisecond})
	mustDo(t, c, "SET", "k", "here")
	none := &elsewhereFunc{f: func(context.Context, []string) (resp.Value, error) {
		return resp.Value{}, fmt.Errorf("%w: dial: %w", conn.ErrNoElsewhere, errors.New("ERR max number of clients reached"))
	}}
	slept := make(chan error, 1)
	go func() { _, err := c.Do(context.Background(), "DEBUG", "SLEEP", "0.4"); slept <- err }()
	testutil.WaitFor(t, time.Second, "the connection diverts reads", c.Diverting)

	v, err := c.DoReadElsewhere(context.Background(), []string{"GET", "k"}, none)
	if err != nil || v.Str != "here" {
		t.Fatalf("diverted read without elsewhere: %v %v; want \"here\" from this connection", v, err)
	}
	if none.calls.Load() != 1 {
		t.Fatalf("elsewhere asked %d times, want 1", none.calls.Load())
	}
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
}
