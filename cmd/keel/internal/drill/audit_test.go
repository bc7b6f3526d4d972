package drill

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// TestAuditSplitsServerLosses checks that verify counts the missing writes
// issued before lossUntil as lost by the server, and the others as lost by
// the client, for SETs and INCRs alike.
func TestAuditSplitsServerLosses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a redis-server")
	}
	s := lab.StartServerT(t, lab.ServerOptions{})
	ctx := context.Background()
	c, err := keel.New(ctx, keel.Options{Seeds: []string{s.Addr()}, Mode: keel.ModeStandalone})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sec := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	a := newAudit()
	for _, w := range []struct {
		key           string
		issued, acked float64
		stored        bool
	}{
		{"kept-early", 1, 1.1, true},
		{"lost-early", 1, 2.5, false}, // issued before 2s, acknowledged after
		{"lost-late", 3, 3.1, false},
		{"kept-late", 3, 3.1, true},
	} {
		a.attemptSet(w.key)
		a.ackSet(w.key, sec(w.issued), sec(w.acked))
		if w.stored {
			if err := c.Set(ctx, w.key, writeValue(w.key)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// "early": three INCRs acknowledged, two issued before 2s; the counter
	// holds 1, so two were lost, both explained by the server.
	// "late": two acknowledged INCRs issued after 2s, the counter holds 1:
	// one lost by the client.
	for _, k := range []struct {
		key    string
		issued []float64
	}{{"early", []float64{1, 1.5, 3}}, {"late", []float64{3, 3.5}}} {
		for i, at := range k.issued {
			a.attemptIncr(k.key)
			a.ackIncr(k.key, sec(at), sec(at), int64(i+1))
		}
		if err := c.Set(ctx, k.key, "1"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := a.verify(ctx, c, 0, sec(2), true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := auditResult{LostWrites: 1, ServerLostWrites: 1, LostIncrs: 1, ServerLostIncrs: 2}
	if r != want {
		t.Errorf("verify = %+v, want %+v", r, want)
	}
	// Without a kill or a demotion, every loss is the client's.
	r, err = a.verify(ctx, c, 0, 0, true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (auditResult{LostWrites: 2, LostIncrs: 3}); r != want {
		t.Errorf("verify without lossUntil = %+v, want %+v", r, want)
	}
	// A soak's forced fault on shard 0 from 3s to 4s explains the losses
	// acknowledged in it on that shard: lost-late; of "early", value 3
	// (acknowledged at 3s; value 2, at 1.5s, is the client's); of "late",
	// value 2 (3.5s). On another shard it explains nothing.
	forced := windows{{shard: 0, from: sec(3), to: sec(4)}}
	r, err = a.verify(ctx, c, 0, 0, true, forced, func(string) int { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	if want := (auditResult{LostWrites: 1, ServerLostWrites: 1, LostIncrs: 1, ServerLostIncrs: 2}); r != want {
		t.Errorf("verify with a forced window = %+v, want %+v", r, want)
	}
	r, err = a.verify(ctx, c, 0, 0, true, forced, func(string) int { return 1 })
	if err != nil {
		t.Fatal(err)
	}
	if want := (auditResult{LostWrites: 2, LostIncrs: 3}); r != want {
		t.Errorf("verify with a forced window on another shard = %+v, want %+v", r, want)
	}
}
