package resptest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/resp"
)

func TestServerScriptsReplies(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func(cmd []string) resptest.Reply { return resptest.Bulk("v:" + cmd[1]) })
	srv.Handle("SET", func([]string) resptest.Reply { return resptest.Drop() })
	c, err := conn.Dial(context.Background(), srv.Addr(), conn.Options{ClientName: "t", Password: "p", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Protocol() != 3 {
		t.Fatalf("protocol %d, want 3", c.Protocol())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v, err := c.Do(ctx, "get", "k"); err != nil || v.Str != "v:k" {
		t.Fatalf("GET: %v, %v", v, err)
	}
	if _, err := c.Do(ctx, "CLUSTER", "SHARDS"); !errors.Is(err, resp.ErrGeneric) {
		t.Fatalf("CLUSTER SHARDS without a handler: %v, want ERR unknown command", err)
	}
	if _, err := c.Do(ctx, "SET", "k", "v"); !conn.MayHaveRun(err) {
		t.Fatalf("SET on a dropped connection: %v, want an unknown outcome", err)
	}
	for key, want := range map[string]int{"HELLO": 1, "READONLY": 1, "GET": 1, "SET": 1, "CLUSTER SHARDS": 1} {
		if got := srv.Count(key); got != want {
			t.Errorf("Count(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestServerTopologyParses(t *testing.T) {
	srv := resptest.New(t)
	top := resptest.Topology{Epoch: 7, Shards: []resptest.Shard{
		{Slots: [][2]int{{0, 8191}}, Primary: srv.Addr(), Replicas: []string{"127.0.0.1:2"}},
		{Slots: [][2]int{{8192, 16383}}, Primary: "127.0.0.1:3"},
	}}
	srv.HandleTopology(func() resptest.Topology { return top })
	c, err := conn.Dial(context.Background(), srv.Addr(), conn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	replies, err := c.DoMulti(context.Background(), []string{"CLUSTER", "SHARDS"}, []string{"CLUSTER", "SLOTS"}, []string{"CLUSTER", "INFO"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(replies[0].Elems); n != 2 {
		t.Fatalf("CLUSTER SHARDS: %d shards, want 2", n)
	}
	if n := len(replies[1].Elems); n != 2 {
		t.Fatalf("CLUSTER SLOTS: %d ranges, want 2", n)
	}
	if text, _ := replies[2].Text(); !strings.Contains(text, "cluster_current_epoch:7\r\n") {
		t.Fatalf("CLUSTER INFO: %q", text)
	}
}

func TestServerFreezeStopsAnswering(t *testing.T) {
	srv := resptest.New(t)
	c, err := conn.Dial(context.Background(), srv.Addr(), conn.Options{HealthTimeout: -1, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv.Freeze()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, "PING"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PING to a frozen server: %v, want the deadline", err)
	}
	if n := srv.Count("PING"); n != 0 {
		t.Fatalf("a frozen server read %d PINGs", n)
	}
}
