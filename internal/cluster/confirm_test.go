package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// TestNewPrimaryConnConfirmsRole: in ModeReplication, a new connection to
// the node keel treats as primary, which has become a replica unseen (the
// name not repointed, no refresh due, its old connection closed), carries
// no write: the dial's ROLE check refuses it, keel finds the new primary
// through the replica's master, and the write goes there. The demoted node
// refuses no write with READONLY, so none was sent to it.
func TestNewPrimaryConnConfirmsRole(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{Replicas: 1})
	var mu sync.Mutex
	var causes []string
	e := startEngine(t, Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Mode: ModeReplication,
		RefreshInterval: time.Hour, OnEvent: func(ev Event) {
			if ev.Kind == TopologyChanged {
				mu.Lock()
				causes = append(causes, ev.Cause)
				mu.Unlock()
			}
		}})
	old, promoted := g.Primary().Addr(), g.Replicas()[0].Addr()
	if got := e.topo.Load().Shards[0].Primary.Addr; got != old {
		t.Fatalf("primary %s, want %s", got, old)
	}
	host, port, _ := strings.Cut(promoted, ":")
	testutil.ServerDo(t, promoted, "REPLICAOF", "NO", "ONE")
	testutil.ServerDo(t, old, "REPLICAOF", host, port)
	// Closed on purpose, the connection is not taken for a failure: no
	// refresh runs before the write needs a new one.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.pool.get(ctx, old, true)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()

	if _, err := e.Do(ctx, "SET", "confirm:k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got := e.topo.Load().Shards[0].Primary.Addr; got != promoted {
		t.Fatalf("primary %s after the write, want %s", got, promoted)
	}
	if v := testutil.ServerDo(t, promoted, "GET", "confirm:k"); v != "v" {
		t.Fatalf("GET on the new primary = %v", v)
	}
	if stats := fmt.Sprint(testutil.ServerDo(t, old, "INFO", "errorstats")); strings.Contains(stats, "READONLY") {
		t.Fatalf("a write was sent to the demoted primary: %s", stats)
	}
	// Events arrive on a goroutine of their own.
	testutil.WaitFor(t, 5*time.Second, "the topology change the ROLE check caused", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(causes) == 2 && strings.Contains(causes[1], "answers ROLE replica")
	})
}

// TestBulkConnConfirmsRole: in ModeReplication, a connection for large
// values dialled to the node keel treats as primary, which has become a
// replica unseen, is refused by the dial's ROLE check, which sends keel to
// find the new primary, as the shared connection's does.
func TestBulkConnConfirmsRole(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{Replicas: 1})
	changed := make(chan string, 8)
	e := startEngine(t, Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Mode: ModeReplication,
		RefreshInterval: time.Hour, OnEvent: func(ev Event) {
			if ev.Kind == TopologyChanged {
				changed <- ev.Cause
			}
		}})
	select {
	case <-changed: // the first topology
	case <-time.After(10 * time.Second):
		t.Fatal("no first topology")
	}
	old, promoted := g.Primary().Addr(), g.Replicas()[0].Addr()
	host, port, _ := strings.Cut(promoted, ":")
	testutil.ServerDo(t, promoted, "REPLICAOF", "NO", "ONE")
	testutil.ServerDo(t, old, "REPLICAOF", host, port)

	if b, ok := e.pool.bulk(old); ok { // starts the dial
		t.Fatalf("a bulk connection to %s before any was dialled: %v", old, b.c.Addr())
	}
	select {
	case cause := <-changed:
		if !strings.Contains(cause, "answers ROLE replica") {
			t.Fatalf("topology changed for %q, want the ROLE check's refusal", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the bulk connection's dial did not find the demotion")
	}
	if b, ok := e.pool.bulk(old); ok {
		t.Fatalf("a bulk connection to the demoted %s was kept: %v", old, b.c.Addr())
	}
}
