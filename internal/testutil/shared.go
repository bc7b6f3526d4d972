package testutil

import (
	"context"
	"sync"
	"testing"

	"github.com/keel-go/keel/lab"
)

// SharedCluster is a lab cluster started the first time a test asks for it
// and shared by every test that leaves it as it found it: starting one costs
// about two seconds. [Main] closes it when the tests end.
type SharedCluster struct {
	// Options are the cluster's options; set them before the first [SharedCluster.Get].
	Options lab.ClusterOptions

	once sync.Once
	c    *lab.Cluster
	err  error
}

// Get returns the cluster, starting it on the first call. Without
// redis-server it skips the test (see [lab.RequireRedisServer]); a failed
// start fails it.
func (s *SharedCluster) Get(t testing.TB) *lab.Cluster {
	t.Helper()
	lab.RequireRedisServer(t)
	c, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Start is [SharedCluster.Get] for code without a testing.TB (examples): it
// returns the cluster, or the error its one start ended with.
func (s *SharedCluster) Start() (*lab.Cluster, error) {
	s.once.Do(func() {
		s.c, s.err = lab.StartCluster(context.Background(), s.Options)
	})
	return s.c, s.err
}

// Close stops the cluster if it was started.
func (s *SharedCluster) Close() {
	if s.c != nil {
		_ = s.c.Close()
	}
}
