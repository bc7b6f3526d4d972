package lab

import (
	"context"
	"testing"
)

func TestSentinelGroupFailsOver(t *testing.T) {
	g := StartSentinelGroupT(t, SentinelOptions{Replicas: 1})
	if n := len(g.Sentinels()); n != 3 {
		t.Fatalf("%d sentinels, want 3", n)
	}
	ctx := context.Background()
	old, err := g.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.KillSentinel(2); err != nil {
		t.Fatal(err)
	}
	step, err := g.KillPrimary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if step.Detail == "" || step.Detail == old.Addr() {
		t.Fatalf("new primary %q, old %s", step.Detail, old.Addr())
	}
	t.Logf("failover took %v", step.Done.Sub(step.Began))
}
