package cluster

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/lab"
)

// TestMain runs the tests, then stops the lab cluster they shared.
func TestMain(m *testing.M) {
	code := m.Run()
	if labShared.c != nil {
		_ = labShared.c.Close()
	}
	os.Exit(code)
}

var labShared struct {
	once sync.Once
	c    *lab.Cluster
	err  error
}

// labCluster returns a cluster of three primaries shared by the tests that
// leave it as they found it.
func labCluster(t testing.TB) *lab.Cluster {
	t.Helper()
	labShared.once.Do(func() {
		labShared.c, labShared.err = lab.StartCluster(context.Background(), lab.ClusterOptions{Shards: 3})
	})
	if labShared.err != nil {
		t.Fatal(labShared.err)
	}
	return labShared.c
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
