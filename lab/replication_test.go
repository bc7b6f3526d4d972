package lab

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReplicationGroupFailover(t *testing.T) {
	g := StartReplicationGroupT(t, ReplicationOptions{Replicas: 2, Password: "pw"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old := g.Primary()
	if got := g.DNS().Addrs(); !slices.Equal(got, []string{hostOf(old.Addr())}) {
		t.Fatalf("name resolves to %v, want the primary %s", got, old.Addr())
	}
	if host, port, _ := net.SplitHostPort(g.Seed()); host != g.Name() || port != strconv.Itoa(portOf(old.Addr())) {
		t.Fatalf("Seed = %s", g.Seed())
	}
	if _, err := g.call(ctx, old, "SET", "before", "1"); err != nil {
		t.Fatal(err)
	}
	// A write sent to the old primary once the replica is promoted waits
	// (writes are paused), and is refused once the old primary is a replica.
	replica := g.Replicas()[0]
	type result struct {
		step Step
		err  error
	}
	done := make(chan result, 1)
	go func() {
		step, err := g.Failover(ctx, replica, 300*time.Millisecond)
		done <- result{step, err}
	}()
	for {
		v, err := g.call(ctx, replica, "ROLE")
		if err != nil {
			t.Fatal(err)
		}
		if v.([]any)[0] == "master" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, lateErr := g.call(ctx, old, "SET", "late", "1")
	r := <-done
	step, err := r.step, r.err
	if err != nil {
		t.Fatal(err)
	}
	if lateErr == nil || !strings.Contains(lateErr.Error(), "READONLY") {
		t.Fatalf("SET on the old primary during the failover: err = %v, want READONLY", lateErr)
	}
	if step.Took() < 300*time.Millisecond || step.Detail != replica.Addr() {
		t.Fatalf("step = %+v", step)
	}
	if g.Primary() != replica || !slices.Equal(g.DNS().Addrs(), []string{hostOf(replica.Addr())}) {
		t.Fatalf("after failover: primary %s, name → %v; want %s", g.Primary().Addr(), g.DNS().Addrs(), replica.Addr())
	}
	if v, err := g.call(ctx, replica, "GET", "before"); err != nil || v != "1" {
		t.Fatalf("GET before on the new primary = %v, %v; want 1", v, err)
	}
	for _, s := range []*Server{old, g.Replicas()[1]} {
		v, err := g.call(ctx, s, "ROLE")
		if err != nil {
			t.Fatal(err)
		}
		r := v.([]any)
		if r[0] != "slave" || r[1] != hostOf(replica.Addr()) {
			t.Fatalf("ROLE of %s = %v, want a replica of %s", s.Addr(), r, replica.Addr())
		}
	}
}

func TestReplicationGroupKillPrimary(t *testing.T) {
	g := StartReplicationGroupT(t, ReplicationOptions{Replicas: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old, replica, other := g.Primary(), g.Replicas()[0], g.Replicas()[1]
	step, err := g.KillPrimary(ctx, replica, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-old.Exited():
	default:
		t.Fatal("the old primary still runs")
	}
	if step.Took() < 50*time.Millisecond || g.Primary() != replica || !slices.Equal(g.DNS().Addrs(), []string{hostOf(replica.Addr())}) {
		t.Fatalf("step %+v, primary %s, name → %v; want %s", step, g.Primary().Addr(), g.DNS().Addrs(), replica.Addr())
	}
	// The other replica follows the new primary, and is listed by its own
	// address (replica-announce-ip).
	if err := g.waitReplicas(ctx, replica, 1); err != nil {
		t.Fatal(err)
	}
	info, err := g.info(ctx, replica)
	if err != nil || !strings.Contains(info, "ip="+hostOf(other.Addr())+",") {
		t.Fatalf("INFO replication of the new primary = %q, %v; want %s listed", info, err, other.Addr())
	}
}
