package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
)

// fakeCluster is a cluster of scripted nodes (resptest servers), each
// answering topology queries with a view the test sets.
type fakeCluster struct {
	nodes []*resptest.Server

	mu    sync.Mutex
	views map[string]resptest.Topology // by node address
}

// newFakeCluster starts n nodes; every node's view is initially empty.
func newFakeCluster(t *testing.T, n int) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{views: map[string]resptest.Topology{}}
	for range n {
		srv := resptest.New(t)
		addr := srv.Addr()
		srv.HandleTopology(func() resptest.Topology { return fc.view(addr) })
		fc.nodes = append(fc.nodes, srv)
	}
	return fc
}

func (fc *fakeCluster) addr(i int) string { return fc.nodes[i].Addr() }

func (fc *fakeCluster) view(addr string) resptest.Topology {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.views[addr]
}

// setView sets the view of the nodes at indexes (every node when none).
func (fc *fakeCluster) setView(top resptest.Topology, indexes ...int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(indexes) == 0 {
		for _, n := range fc.nodes {
			fc.views[n.Addr()] = top
		}
		return
	}
	for _, i := range indexes {
		fc.views[fc.nodes[i].Addr()] = top
	}
}

// count sums the commands of key every node has read.
func (fc *fakeCluster) count(key string) int {
	n := 0
	for _, s := range fc.nodes {
		n += s.Count(key)
	}
	return n
}

// oneShard is a topology in which primary serves every slot.
func oneShard(epoch int64, primary string, replicas ...string) resptest.Topology {
	return resptest.Topology{Epoch: epoch, Shards: []resptest.Shard{
		{Slots: [][2]int{{0, SlotCount - 1}}, Primary: primary, Replicas: replicas},
	}}
}

// newFakeEngine starts an engine on fc with timings fit for fast tests:
// no periodic refresh unless opts sets one, short health and dial timeouts.
func newFakeEngine(t *testing.T, fc *fakeCluster, opts Options) *Engine {
	t.Helper()
	if opts.Seeds == nil {
		opts.Seeds = []string{fc.addr(0)}
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = time.Hour
	}
	if opts.IncidentInterval == 0 {
		opts.IncidentInterval = 20 * time.Millisecond
	}
	if opts.RefreshTimeout == 0 {
		opts.RefreshTimeout = 500 * time.Millisecond
	}
	if opts.Conn.HealthTimeout == 0 {
		opts.Conn.HealthTimeout = 100 * time.Millisecond
	}
	if opts.Conn.DialTimeout == 0 {
		opts.Conn.DialTimeout = 200 * time.Millisecond
	}
	if opts.Conn.PingInterval == 0 {
		opts.Conn.PingInterval = -1
	}
	return startEngine(t, opts)
}

// testCtx is a context for one request of a test: long enough never to be
// what ends it.
func testCtx(t *testing.T) context.Context { return testutil.Context(t, 5*time.Second) }

// getAsync sends GET key on a goroutine of its own and delivers its reply's
// string, or its error's text.
func getAsync(t *testing.T, e *Engine, key string) <-chan string {
	done := make(chan string, 1)
	go func() {
		v, err := e.Do(testCtx(t), "GET", key)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- v.Str
	}()
	return done
}

// wantGet waits up to within for the reply getAsync delivers on done and
// wants it to be want; what says what a failure means.
func wantGet(t *testing.T, done <-chan string, want string, within time.Duration, what string) {
	t.Helper()
	select {
	case got := <-done:
		if got != want {
			t.Fatalf("GET = %q, want %q: %s", got, want, what)
		}
	case <-time.After(within):
		t.Fatalf("no reply in %v: %s", within, what)
	}
}
