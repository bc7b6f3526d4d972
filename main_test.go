package keel_test

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// TestMain runs the tests, stops the shared cluster, then fails the run if
// any goroutine is left behind.
func TestMain(m *testing.M) { testutil.Main(m, shared) }

// shared is the 3×1 cluster of the tests that do not break it.
var shared = &testutil.SharedCluster{Options: lab.ClusterOptions{Shards: 3, Replicas: 1}}

// sharedCluster returns the shared cluster, starting it on first use.
func sharedCluster(t testing.TB) *lab.Cluster {
	t.Helper()
	return shared.Get(t)
}

// newClient connects a client to c and closes it when the test ends.
func newClient(t testing.TB, c *lab.Cluster, opts keel.Options) *keel.Client {
	t.Helper()
	if opts.Seeds == nil {
		opts.Seeds = c.Addrs()[:1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := keel.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return cl
}
