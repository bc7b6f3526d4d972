package keel_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// TestCrossSlotMatchesBoth: keel.ErrCrossSlot (and resp.ErrCrossSlot)
// match keel's own check, made before sending, and the server's CROSSSLOT
// reply to a command keel sent without checking.
func TestCrossSlotMatchesBoth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := newClient(t, sharedCluster(t), keel.Options{})
	a, b := lab.KeyInSlot(1, "cross"), lab.KeyInSlot(2, "cross")

	// keel's own check: RENAME cannot be split, so it is refused unsent.
	_, own := cl.Do(ctx, "RENAME", a, b)
	var re *resp.Error
	if !errors.Is(own, keel.ErrCrossSlot) || !errors.Is(own, resp.ErrCrossSlot) || errors.As(own, &re) {
		t.Fatalf("RENAME across slots: %v; want keel's own ErrCrossSlot, not a server reply", own)
	}
	// The server's reply: a Node sends what it is given, unchecked.
	n := cl.Primaries()[0]
	v, server := n.Do(ctx, "MSET", a, "1", b, "2")
	if !errors.Is(server, keel.ErrCrossSlot) || !errors.As(server, &re) || re.Code != "CROSSSLOT" || v.Kind != resp.KindError {
		t.Fatalf("MSET across slots on %v: %v, %v; want the server's CROSSSLOT reply", n, v, server)
	}
	// A transaction is checked by keel too.
	tx := cl.Tx().Do("SET", a, "1").Do("SET", b, "2")
	if _, err := tx.Exec(ctx); !errors.Is(err, keel.ErrCrossSlot) {
		t.Fatalf("Tx across slots: %v, want ErrCrossSlot", err)
	}
}

// TestPublicTypes: the events, stats and read policies a caller sees are
// keel's own types, filled from the engine's.
func TestPublicTypes(t *testing.T) {
	c := sharedCluster(t)
	events := make(chan keel.Event, 16)
	cl := newClient(t, c, keel.Options{OnEvent: func(ev keel.Event) {
		select {
		case events <- ev:
		default:
		}
	}})
	// The first event is the discovery: every node appears.
	var ev keel.Event
	select {
	case ev = <-events:
	case <-time.After(10 * time.Second):
		t.Fatal("no event after New")
	}
	var addrs []string
	for _, n := range cl.Nodes() {
		addrs = append(addrs, n.Addr())
	}
	slices.Sort(addrs)
	if ev.Kind != keel.EventTopologyChanged || ev.Cause != "discovery" || ev.Time.IsZero() ||
		!slices.Equal(ev.Diff.Added, addrs) || len(ev.Diff.NewPrimaries) != len(cl.Primaries()) ||
		ev.Diff.SlotsMoved != 16384 || ev.Diff.Empty() || ev.Diff.String() == "no change" {
		t.Fatalf("first event %+v; want the discovery of %v", ev, addrs)
	}
	if (keel.TopologyDiff{}).String() != "no change" || !(keel.TopologyDiff{}).Empty() {
		t.Error("an empty TopologyDiff is not empty")
	}
	s := cl.Stats()
	if s.KnownNodes != len(addrs) || s.CoveredSlots != 16384 || s.TopologyChanges != 1 || s.Dials == 0 {
		t.Errorf("Stats() = %+v; want %d nodes, every slot covered", s, len(addrs))
	}
	for k, want := range map[keel.EventKind]string{
		keel.EventTopologyChanged: "topology-changed",
		keel.EventNodeSuspect:     "node-suspect",
		keel.EventNodeRecovered:   "node-recovered",
		keel.EventRefreshFailed:   "refresh-failed",
	} {
		if k.String() != want {
			t.Errorf("EventKind %d is %q, want %q", k, k, want)
		}
	}
	for p, want := range map[keel.ReadPolicy]string{
		keel.ReadPrimary:          "primary",
		keel.ReadPrimaryPreferred: "primary-preferred",
		keel.ReadReplicaPreferred: "replica-preferred",
		keel.ReadNearest:          "nearest",
	} {
		if p.String() != want {
			t.Errorf("ReadPolicy %d is %q, want %q", p, p, want)
		}
	}
}
