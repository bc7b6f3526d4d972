package lab_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/keel-go/keel/lab"
)

func TestStartCluster(t *testing.T) {
	start := time.Now()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	t.Logf("3x1 cluster stable after %v", time.Since(start))
	top, err := c.Topology(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Shards) != 3 {
		t.Fatalf("shards = %d, want 3", len(top.Shards))
	}
	covered := 0
	for _, sh := range top.Shards {
		if sh.Primary == nil || len(sh.Replicas) != 1 {
			t.Fatalf("shard %+v: want a known primary and one replica", sh)
		}
		for _, r := range sh.Slots {
			covered += r.End - r.Start + 1
		}
	}
	if covered != 16384 {
		t.Fatalf("slots covered = %d, want 16384", covered)
	}
	p, err := c.PrimaryFor(context.Background(), 0)
	if err != nil || p != top.Shards[0].Primary {
		t.Fatalf("PrimaryFor(0) = %v, %v; want %v", p, err, top.Shards[0].Primary)
	}
}

func TestCloseLeavesNoProcessBehind(t *testing.T) {
	lab.RequireRedisServer(t)
	c, err := lab.StartCluster(context.Background(), lab.ClusterOptions{Shards: 1, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	var servers []*lab.Server
	for _, n := range c.Nodes() {
		servers = append(servers, n.Server())
	}
	dir := filepath.Dir(servers[0].Dir()) // nodes live in the cluster dir
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		select {
		case <-s.Exited():
		default:
			t.Errorf("redis-server pid %d still running after Close", s.Pid())
		}
		if err := syscall.Kill(s.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after Close (kill 0: %v)", s.Pid(), err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster dir %s left behind: %v", dir, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
