package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/resp"
)

func arrayOf(s ...string) resp.Value {
	v := resp.Value{Kind: resp.KindArray}
	for _, x := range s {
		v.Elems = append(v.Elems, resp.Value{Kind: resp.KindBulkString, Str: x})
	}
	return v
}

// dropFirst answers the first command of its kind by closing the
// connection after reading it (the reply is lost: the command may have
// run), and later ones with reply.
func dropFirst(reply resptest.Reply) resptest.Handler {
	var n atomic.Int32
	return func([]string) resptest.Reply {
		if n.Add(1) == 1 {
			return resptest.Drop()
		}
		return reply
	}
}

// A reply lost after the server read the command: a command that is not
// idempotent is not sent again and reports ErrUnknownOutcome, alone or in
// a pipeline; an idempotent one is retried and succeeds.
func TestEngineLostReply(t *testing.T) {
	fc := newFakeCluster(t, 1)
	node := fc.nodes[0]
	fc.setView(oneShard(1, fc.addr(0)))
	node.Handle("INCR", dropFirst(resptest.Int(1)))
	node.Handle("GET", dropFirst(resptest.Bulk("v")))
	e := newFakeEngine(t, fc, Options{})

	if _, err := e.Do(testCtx(t), "INCR", "n"); !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("INCR: err = %v, want ErrUnknownOutcome", err)
	}
	if got := node.Count("INCR"); got != 1 {
		t.Fatalf("INCR received %d times, want once: it must not be re-sent", got)
	}
	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "v" {
		t.Fatalf("GET = %v, %v; want the retry's reply", v, err)
	}
	if got := node.Count("GET"); got != 2 {
		t.Errorf("GET received %d times, want 2 (the lost one and its retry)", got)
	}
	if got := e.Stats().UnknownOutcomes; got != 1 {
		t.Errorf("Stats.UnknownOutcomes = %d, want 1", got)
	}

	// The same in one pipeline batch: the INCR's outcome is unknown, the
	// GET is sent again.
	node.Handle("INCR", dropFirst(resptest.Int(1)))
	node.Handle("GET", func([]string) resptest.Reply { return resptest.Bulk("v") })
	res := e.Pipeline(testCtx(t), [][]string{{"GET", "k"}, {"INCR", "n"}})
	if res[0].Err != nil || res[0].Value.Str != "v" {
		t.Errorf("pipelined GET = %v, %v", res[0].Value, res[0].Err)
	}
	if !errors.Is(res[1].Err, ErrUnknownOutcome) {
		t.Errorf("pipelined INCR: err = %v, want ErrUnknownOutcome", res[1].Err)
	}
	if got := node.Count("INCR"); got != 2 {
		t.Errorf("INCR received %d times in all, want 2: the pipelined one must not be re-sent", got)
	}
}

// A node that answers topology queries but never a command (every
// connection hangs at its first command): a request fails when its
// context ends, without a hot loop of tries, a write reports an unknown
// outcome, and the other shard keeps serving.
func TestEngineNodeAnswersShardsButNotCommands(t *testing.T) {
	fc := newFakeCluster(t, 2)
	bad, good := fc.addr(0), fc.addr(1)
	fc.setView(resptest.Topology{Epoch: 1, Shards: []resptest.Shard{
		{Slots: [][2]int{{0, 8191}}, Primary: bad},
		{Slots: [][2]int{{8192, SlotCount - 1}}, Primary: good},
	}})
	for _, cmd := range []string{"GET", "INCR"} {
		fc.nodes[0].Handle(cmd, func([]string) resptest.Reply { return resptest.Hang() })
	}
	fc.nodes[1].Handle("GET", bulkFrom("good"))
	e := newFakeEngine(t, fc, Options{})
	badKey, goodKey := keyInSlots(0, 8191), keyInSlots(8192, SlotCount-1)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := e.Do(ctx, "GET", badKey); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET on the mute node: err = %v, want the deadline", err)
	}
	// Each try needs a new connection, which the health timeout (100ms)
	// ends: a handful of tries, not a hot loop.
	if n := fc.nodes[0].Count("GET"); n < 1 || n > 8 {
		t.Errorf("mute node received %d GETs in 500ms, want between 1 and 8", n)
	}
	if v, err := e.Do(testCtx(t), "GET", goodKey); err != nil || v.Str != "from-good" {
		t.Fatalf("GET on the other shard = %v, %v", v, err)
	}
	if _, err := e.Do(testCtx(t), "INCR", badKey); !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("INCR on the mute node: err = %v, want ErrUnknownOutcome", err)
	}
	// Written to the socket once (the hung connection may not even have
	// read it), and never again.
	if n := fc.nodes[0].Count("INCR"); n > 1 {
		t.Errorf("INCR received %d times, want at most once", n)
	}
}

// keyInSlots returns a key whose slot is in [lo, hi].
func keyInSlots(lo, hi int) string {
	for i := 0; ; i++ {
		k := "key" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
		if s := Slot(k); s >= lo && s <= hi {
			return k
		}
	}
}
