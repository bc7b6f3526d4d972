package keel_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// commandCalls returns how many times the server at addr ran cmd (lower
// case), from INFO commandstats.
func commandCalls(t *testing.T, addr, cmd string) int {
	t.Helper()
	info := fmt.Sprint(testutil.ServerDo(t, addr, "INFO", "commandstats"))
	_, rest, ok := strings.Cut(info, "cmdstat_"+cmd+":calls=")
	if !ok {
		return 0
	}
	var n int
	fmt.Sscan(strings.TrimLeft(rest[:strings.IndexByte(rest, ',')], " "), &n)
	return n
}

func addrsOf(nodes []*keel.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Addr())
	}
	return out
}

// TestReplicationRepointedNameNoticed: with ModeReplication's default
// refresh, a name repointed to a promoted replica while the old primary
// still takes writes (nothing fails, so nothing triggers a refresh) is
// seen within about a second, not DefaultRefreshInterval; and between
// repointings the periodic refresh only resolves the name, asking no ROLE.
func TestReplicationRepointedNameNoticed(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{Replicas: 1})
	c := newClient(t, nil, keel.Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Mode: keel.ModeReplication})
	old, promoted := g.Primary(), g.Replicas()[0]

	roles := commandCalls(t, old.Addr(), "role")
	refreshes := c.Stats().Refreshes
	waitFor(t, "two periodic refreshes", func() bool { return c.Stats().Refreshes >= refreshes+2 })
	if got := commandCalls(t, old.Addr(), "role"); got != roles {
		t.Fatalf("the primary answered ROLE %d times in two periodic refreshes of an unchanged name", got-roles)
	}

	testutil.ServerDo(t, promoted.Addr(), "REPLICAOF", "NO", "ONE")
	host, _, _ := net.SplitHostPort(promoted.Addr())
	if err := g.DNS().SetAddrs([]string{host}); err != nil {
		t.Fatal(err)
	}
	repointed := time.Now()
	waitFor(t, "the repointed name", func() bool {
		got := c.Primaries()
		return len(got) == 1 && got[0].Addr() == promoted.Addr()
	})
	took := time.Since(repointed)
	if took >= keel.DefaultRefreshInterval/2 {
		t.Fatalf("the repointed name was seen after %v", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "repointed:k", "v"); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ServerDo(t, promoted.Addr(), "GET", "repointed:k"); v != "v" {
		t.Fatalf("GET on the new primary = %v", v)
	}
	t.Logf("repointed name seen after %v", took)
}

// TestReplicationReaderEndpoint: a replica the primary does not list (it
// replicates from another replica) is found through the reader endpoint
// and serves reads.
func TestReplicationReaderEndpoint(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{Replicas: 2})
	primary, first, chained := g.Primary(), g.Replicas()[0], g.Replicas()[1]
	host, port, _ := net.SplitHostPort(first.Addr())
	testutil.ServerDo(t, chained.Addr(), "REPLICAOF", host, port)
	waitFor(t, "the primary to list one replica", func() bool {
		reps, _ := testutil.ServerDo(t, primary.Addr(), "ROLE").([]any)
		list, _ := reps[2].([]any)
		return len(list) == 1
	})
	chainedHost, _, _ := net.SplitHostPort(chained.Addr())
	firstHost, _, _ := net.SplitHostPort(first.Addr())
	if err := g.DNS().SetName("reader.keel.test", []string{firstHost, chainedHost}); err != nil {
		t.Fatal(err)
	}
	_, seedPort, _ := net.SplitHostPort(g.Seed())
	c := newClient(t, nil, keel.Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Mode: keel.ModeReplication,
		ReaderEndpoint: net.JoinHostPort("reader.keel.test", seedPort), ReadPolicy: keel.ReadReplicaPreferred})
	replicas := addrsOf(c.Replicas())
	if len(replicas) != 2 || !slices.Contains(replicas, chained.Addr()) || !slices.Contains(replicas, first.Addr()) {
		t.Fatalf("Replicas = %v, want %s and %s", replicas, first.Addr(), chained.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "reader:k", "v"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write replicated down the chain", func() bool { return testutil.ServerDo(t, chained.Addr(), "GET", "reader:k") == "v" })
	before := commandCalls(t, chained.Addr(), "get")
	for range 100 {
		if _, err := c.Get(ctx, "reader:k"); err != nil {
			t.Fatal(err)
		}
	}
	if got := commandCalls(t, chained.Addr(), "get"); got == before {
		t.Fatalf("no read went to %s, found only through the reader endpoint", chained.Addr())
	}
}

// TestReplicationReaderEndpointHarmless: a reader endpoint that resolves to
// the primary, or to nothing, adds no replica and stops no read or write.
func TestReplicationReaderEndpointHarmless(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartReplicationGroupT(t, lab.ReplicationOptions{})
	primaryHost, _, _ := net.SplitHostPort(g.Primary().Addr())
	_, port, _ := net.SplitHostPort(g.Seed())
	for name, addrs := range map[string][]string{"to-primary.keel.test": {primaryHost}, "empty.keel.test": nil} {
		t.Run(name, func(t *testing.T) {
			if err := g.DNS().SetName(name, addrs); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, nil, keel.Options{Seeds: []string{g.Seed()}, Resolver: g.Resolver(), Mode: keel.ModeReplication,
				ReaderEndpoint: net.JoinHostPort(name, port), ReadPolicy: keel.ReadReplicaPreferred})
			if got := addrsOf(c.Replicas()); len(got) != 0 {
				t.Fatalf("Replicas = %v, want none", got)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Set(ctx, "harmless:k", name); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(ctx, "harmless:k"); err != nil || v != name {
				t.Fatalf("GET = %q, %v", v, err)
			}
		})
	}
}
