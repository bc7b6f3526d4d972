package keel_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// keysOnEveryShard flushes the cluster through cl, then sets n keys on each
// shard and returns them.
func keysOnEveryShard(t *testing.T, ctx context.Context, c *lab.Cluster, cl *keel.Client, n int) []string {
	t.Helper()
	if v, err := cl.Do(ctx, "FLUSHALL"); err != nil || v.Str != "OK" {
		t.Fatalf("FLUSHALL: %v, %v", v, err)
	}
	slots, _ := shardSlots(t, c)
	var keys []string
	for _, slot := range slots {
		for i := range n {
			k := lab.KeyInSlot(slot, "k"+strconv.Itoa(i))
			if err := cl.Set(ctx, k, "v"); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
	}
	return keys
}

func TestClusterWideKeylessCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	keys := keysOnEveryShard(t, ctx, c, cl, 4)

	var perNode int64
	primaries := cl.Primaries()
	if len(primaries) != 3 {
		t.Fatalf("%d primaries, want 3", len(primaries))
	}
	for _, p := range primaries {
		n, err := keel.Run(ctx, p, keel.Command("DBSIZE"))
		if err != nil {
			t.Fatal(err)
		}
		if n.Int != 4 {
			t.Errorf("%v holds %d keys, want 4", p, n.Int)
		}
		perNode += n.Int
	}
	v, err := cl.Do(ctx, "DBSIZE")
	if err != nil || v.Int != perNode || v.Int != int64(len(keys)) {
		t.Fatalf("DBSIZE = %v, %v; want the sum over primaries %d = %d keys", v, err, perNode, len(keys))
	}
	got, err := cl.Do(ctx, "KEYS", "*")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := got.Strings()
	slices.Sort(names)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(names, want) {
		t.Fatalf("KEYS * = %v, want %v", names, want)
	}
	// A pipeline merges the same way.
	res := cl.Pipeline().Do("DBSIZE").Do("GET", keys[0]).Exec(ctx)
	if res[0].Err != nil || res[0].Value.Int != int64(len(keys)) || res[1].Value.Str != "v" {
		t.Fatalf("pipeline DBSIZE, GET = %+v", res)
	}

	// FLUSHALL empties every primary.
	if v, err := cl.Do(ctx, "FLUSHALL"); err != nil || v.Str != "OK" {
		t.Fatalf("FLUSHALL: %v, %v", v, err)
	}
	for _, p := range primaries {
		if n, err := p.Do(ctx, "DBSIZE"); err != nil || n.Int != 0 {
			t.Errorf("%v after FLUSHALL: DBSIZE %v, %v", p, n, err)
		}
	}
}

func TestPerNodeCommandsNeedANode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	for _, args := range [][]any{{"INFO"}, {"info", "server"}, {"CONFIG", "GET", "maxmemory"}, {"CLIENT", "LIST"},
		{"CLUSTER", "MYID"}, {"SLOWLOG", "GET"}, {"SCRIPT", "KILL"}, {"FUNCTION", "LIST"}, {"MEMORY", "STATS"},
		{"SCAN", 0}} {
		if _, err := cl.Do(ctx, args...); !errors.Is(err, keel.ErrNeedsNode) {
			t.Errorf("Do%v: %v, want ErrNeedsNode", args, err)
		}
	}
	res := cl.Pipeline().Do("PING").Do("INFO").Exec(ctx)
	if res[0].Err != nil || !errors.Is(res[1].Err, keel.ErrNeedsNode) {
		t.Errorf("pipeline PING, INFO: %+v", res)
	}
	// What every node answers alike still works through Do.
	for _, args := range [][]any{{"PING"}, {"TIME"}, {"CLUSTER", "NODES"}, {"CLUSTER", "INFO"}} {
		if _, err := cl.Do(ctx, args...); err != nil {
			t.Errorf("Do%v: %v", args, err)
		}
	}
	// CLUSTER COUNTKEYSINSLOT and KEYSLOT are routed by the slot they name:
	// every shard's count is right every time.
	keys := keysOnEveryShard(t, ctx, c, cl, 3)
	slots, _ := shardSlots(t, c)
	for _, slot := range slots {
		for range 5 {
			if v, err := cl.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", slot); err != nil || v.Int != 3 {
				t.Fatalf("CLUSTER COUNTKEYSINSLOT %d = %v, %v; want 3", slot, v, err)
			}
		}
	}
	if v, err := cl.Do(ctx, "CLUSTER", "KEYSLOT", keys[0]); err != nil || v.Int != int64(slots[0]) {
		t.Fatalf("CLUSTER KEYSLOT = %v, %v; want %d", v, err, slots[0])
	}
}

var tcpPort = regexp.MustCompile(`(?m)^tcp_port:(\d+)`)

func TestNodeDoRunsOnTheChosenNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	nodes := cl.Nodes()
	if len(nodes) != 6 || len(cl.Replicas()) != 3 {
		t.Fatalf("nodes %v, replicas %v; want 6 and 3", nodes, cl.Replicas())
	}
	for _, n := range nodes {
		info, err := n.Do(ctx, "INFO", "server")
		if err != nil {
			t.Fatal(err)
		}
		m := tcpPort.FindStringSubmatch(info.Str)
		_, port, _ := net.SplitHostPort(n.Addr())
		if m == nil || m[1] != port {
			t.Errorf("%v answered INFO for port %v", n, m)
		}
		role, err := n.Do(ctx, "ROLE")
		if err != nil {
			t.Fatal(err)
		}
		want := map[keel.Role]string{keel.RolePrimary: "master", keel.RoleReplica: "slave"}[n.Role()]
		if len(role.Elems) == 0 || role.Elems[0].Str != want {
			t.Errorf("%v: ROLE %v, want %s", n, role, want)
		}
		if lab := c.NodeByAddr(n.Addr()); lab == nil || lab.ID() != n.ID() {
			t.Errorf("%v: ID %q, lab says %v", n, n.ID(), lab)
		}
	}
	// A key's own primary answers; another primary's MOVED is returned, not
	// followed.
	slots, _ := shardSlots(t, c)
	key := lab.KeyInSlot(slots[0], "node-do")
	if err := cl.Set(ctx, key, "here"); err != nil {
		t.Fatal(err)
	}
	owner, err := c.PrimaryFor(ctx, slots[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cl.Primaries() {
		v, err := keel.Run(ctx, p, keel.Get(key))
		if p.Addr() == owner.Addr() {
			if err != nil || v != "here" {
				t.Errorf("GET on the owner %v: %q, %v", p, v, err)
			}
		} else if !errors.Is(err, resp.ErrMoved) {
			t.Errorf("GET on %v, not the owner: %q, %v; want MOVED", p, v, err)
		}
	}
}

func TestForEachPrimary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	var mu sync.Mutex
	visits := map[string]int{}
	failing := cl.Primaries()[1].Addr()
	errBoom := errors.New("boom")
	err := cl.ForEachPrimary(ctx, func(ctx context.Context, n *keel.Node) error {
		if _, err := n.Do(ctx, "PING"); err != nil {
			return err
		}
		mu.Lock()
		visits[n.Addr()]++
		mu.Unlock()
		if n.Addr() == failing {
			return errBoom
		}
		return nil
	})
	var ne *keel.NodeError
	if !errors.Is(err, errBoom) || !errors.As(err, &ne) || ne.Addr != failing {
		t.Fatalf("ForEachPrimary: %v; want boom from %s as a NodeError", err, failing)
	}
	if len(visits) != 3 {
		t.Fatalf("visited %v, want the 3 primaries", visits)
	}
	for _, p := range cl.Primaries() {
		if visits[p.Addr()] != 1 {
			t.Errorf("%v visited %d times", p, visits[p.Addr()])
		}
	}
	var all sync.Map
	if err := cl.ForEachNode(ctx, func(ctx context.Context, n *keel.Node) error {
		all.Store(n.Addr(), n.Role())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	count := 0
	all.Range(func(any, any) bool { count++; return true })
	if count != 6 {
		t.Fatalf("ForEachNode visited %d nodes, want 6", count)
	}
}

func TestNodeErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	if _, err := cl.Node("127.0.0.1:1"); !errors.Is(err, keel.ErrUnknownNode) {
		t.Errorf("Node(127.0.0.1:1): %v, want ErrUnknownNode", err)
	}
	n, err := cl.Node(cl.Primaries()[0].Addr())
	if err != nil || n.Role() != keel.RolePrimary {
		t.Fatalf("Node(a primary): %v, %v", n, err)
	}
	if _, err := n.Do(ctx); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("empty Do: %v, want ErrArgument", err)
	}
	if _, err := n.Do(ctx, "BLPOP", "k", 0); !errors.Is(err, keel.ErrBlocking) {
		t.Errorf("BLPOP on a node: %v, want ErrBlocking", err)
	}
	if _, err := n.Do(ctx, "CLIENT", "REPLY", "OFF"); !errors.Is(err, keel.ErrConnState) {
		t.Errorf("CLIENT REPLY OFF on a node: %v, want ErrConnState", err)
	}
	if err := cl.ForEachPrimary(ctx, nil); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("ForEachPrimary(nil): %v, want ErrArgument", err)
	}
	if _, err := setAndGet.Run(ctx, nil, []string{"k"}); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("Script.Run on a nil client: %v, want ErrArgument", err)
	}
	done, stop := context.WithCancel(ctx)
	stop()
	if _, err := n.Do(done, "PING"); !errors.Is(err, context.Canceled) {
		t.Errorf("Do with a cancelled context: %v", err)
	}
	called := false
	if err := cl.ForEachPrimary(done, func(context.Context, *keel.Node) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
		t.Errorf("ForEachPrimary with a cancelled context: %v (fn called: %v)", err, called)
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Do(ctx, "PING"); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("Do after Close: %v, want ErrClosed", err)
	}
	if _, err := cl.Node(n.Addr()); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("Node after Close: %v, want ErrClosed", err)
	}
	if err := cl.ForEachNode(ctx, func(context.Context, *keel.Node) error { return nil }); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("ForEachNode after Close: %v, want ErrClosed", err)
	}
	if _, err := cl.Do(ctx, "DBSIZE"); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("DBSIZE after Close: %v, want ErrClosed", err)
	}
	if got, want := fmt.Sprint(n), "primary "+n.Addr(); got != want {
		t.Errorf("Node.String() = %q, want %q", got, want)
	}
}
