package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// TestMain runs the tests, stops the lab cluster they shared, then fails
// the run if any goroutine is left behind.
func TestMain(m *testing.M) { testutil.Main(m, labShared) }

// labShared is a cluster of three primaries shared by the tests that leave
// it as they found it.
var labShared = &testutil.SharedCluster{Options: lab.ClusterOptions{Shards: 3}}

// labCluster returns the shared cluster, starting it on first use.
func labCluster(t testing.TB) *lab.Cluster {
	t.Helper()
	return labShared.Get(t)
}

// newLabEngine connects an engine to c and shuts it down when the test ends.
func newLabEngine(t testing.TB, c *lab.Cluster, opts Options) *Engine {
	t.Helper()
	opts.Seeds = c.Addrs()[:1]
	return startEngine(t, opts)
}

// startEngine starts an engine with opts and shuts it down when the test
// ends.
func startEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return e
}

// onEveryPrimary runs args on every primary of e's topology.
func onEveryPrimary(t testing.TB, ctx context.Context, e *Engine, args ...string) []string {
	t.Helper()
	var out []string
	for _, sh := range e.topo.Load().Shards {
		c, err := e.pool.get(ctx, sh.Primary.Addr, true)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Do(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %q: %v", sh.Primary.Addr, args, err)
		}
		out = append(out, fmt.Sprint(v))
	}
	return out
}
