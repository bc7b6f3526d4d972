package keel_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// TestMain runs the tests, stops the shared cluster, then fails the run if
// any goroutine is left behind.
func TestMain(m *testing.M) {
	code := m.Run()
	stopShared()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var shared struct {
	once sync.Once
	c    *lab.Cluster
	err  error
}

// sharedCluster returns a 3×1 cluster shared by the tests that do not break
// it: starting one costs about two seconds.
func sharedCluster(t testing.TB) *lab.Cluster {
	t.Helper()
	c, err := startShared()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startShared starts the shared cluster the first time it is asked for.
func startShared() (*lab.Cluster, error) {
	shared.once.Do(func() {
		shared.c, shared.err = lab.StartCluster(context.Background(), lab.ClusterOptions{Shards: 3, Replicas: 1})
	})
	return shared.c, shared.err
}

func stopShared() {
	if shared.c != nil {
		_ = shared.c.Close()
	}
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
