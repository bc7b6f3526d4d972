package keel_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keel-go/keel"
)

// recorder is a hook that logs what it sees, under its name.
type recorder struct {
	name string
	mu   sync.Mutex
	log  *[]string
	cmds []keel.CommandInfo
	pipe []keel.PipelineInfo
}

type ctxKey struct{}

func (r *recorder) hook() keel.Hook {
	return keel.Hook{
		Command: func(next keel.CommandFunc) keel.CommandFunc {
			return func(ctx context.Context, cmd *keel.CommandInfo) error {
				r.note("before " + cmd.Name)
				err := next(context.WithValue(ctx, ctxKey{}, r.name), cmd)
				r.note("after " + cmd.Name)
				r.mu.Lock()
				r.cmds = append(r.cmds, *cmd)
				r.mu.Unlock()
				return err
			}
		},
		Pipeline: func(next keel.PipelineFunc) keel.PipelineFunc {
			return func(ctx context.Context, p *keel.PipelineInfo) error {
				err := next(ctx, p)
				r.mu.Lock()
				r.pipe = append(r.pipe, *p)
				r.mu.Unlock()
				return err
			}
		},
	}
}

func (r *recorder) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.log = append(*r.log, r.name+" "+s)
}

func (r *recorder) last() keel.CommandInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmds[len(r.cmds)-1]
}

// Two hooks chain with the first outermost, each seeing the command's name,
// the node that served it (one that owns the key: it answers for the key
// without a redirect), one attempt, and the error; the context a hook
// passes on reaches the next.
func TestHooksWrapCommands(t *testing.T) {
	var log []string
	outer, inner := &recorder{name: "outer", log: &log}, &recorder{name: "inner", log: &log}
	var sawCtx string
	probe := keel.Hook{Command: func(next keel.CommandFunc) keel.CommandFunc {
		return func(ctx context.Context, cmd *keel.CommandInfo) error {
			sawCtx, _ = ctx.Value(ctxKey{}).(string)
			return next(ctx, cmd)
		}
	}}
	cl := newClient(t, sharedCluster(t), keel.Options{Hooks: []keel.Hook{outer.hook(), inner.hook(), probe}})
	ctx := context.Background()
	if err := cl.Set(ctx, "hooks:k", "v"); err != nil {
		t.Fatal(err)
	}
	want := []string{"outer before SET", "inner before SET", "inner after SET", "outer after SET"}
	if !slices.Equal(log, want) {
		t.Errorf("order = %q, want %q", log, want)
	}
	if sawCtx != "inner" {
		t.Errorf("the last hook saw context value %q, want the one the hook before it set", sawCtx)
	}
	got := inner.last()
	if got.Name != "SET" || !slices.Equal(got.Args, []string{"SET", "hooks:k", "v"}) || got.Attempts != 1 || got.Redirects != 0 || got.Latency <= 0 {
		t.Errorf("hook saw %+v", got)
	}
	n, err := cl.Node(got.Node)
	if err != nil {
		t.Fatalf("hook's node %q: %v", got.Node, err)
	}
	if v, err := n.Do(ctx, "GET", "hooks:k"); err != nil || v.Str != "v" {
		t.Errorf("GET on the hook's node %s = %v, %v; want the value, without a redirect", got.Node, v, err)
	}

	// A server's error reply reaches the hook as the command's error.
	if _, err := cl.Do(ctx, "INCR", "hooks:k"); err == nil {
		t.Fatal("INCR of a non-integer succeeded")
	}
	if got := outer.last(); got.Name != "INCR" || got.Attempts != 1 {
		t.Errorf("hook saw %+v for the failed INCR", got)
	}
}

// A hook that returns an error without calling next refuses the command:
// nothing is sent, and the caller gets the hook's error; a pipeline's
// commands each get it.
func TestHookRefusesCommands(t *testing.T) {
	errOpen := errors.New("breaker open")
	refuse := keel.Hook{
		Command: func(keel.CommandFunc) keel.CommandFunc {
			return func(context.Context, *keel.CommandInfo) error { return errOpen }
		},
		Pipeline: func(keel.PipelineFunc) keel.PipelineFunc {
			return func(context.Context, *keel.PipelineInfo) error { return errOpen }
		},
	}
	plain := newClient(t, sharedCluster(t), keel.Options{})
	cl := newClient(t, sharedCluster(t), keel.Options{Hooks: []keel.Hook{refuse}})
	ctx := context.Background()
	if _, err := plain.Del(ctx, "hooks:refused"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Set(ctx, "hooks:refused", "v"); !errors.Is(err, errOpen) {
		t.Errorf("Set = %v, want the hook's error", err)
	}
	p := cl.Pipeline()
	f := keel.Queue(p, keel.Set("hooks:refused", "v"))
	p.Do("GET", "hooks:refused")
	for i, r := range p.Exec(ctx) {
		if !errors.Is(r.Err, errOpen) {
			t.Errorf("pipeline result %d = %+v, want the hook's error", i, r)
		}
	}
	if !errors.Is(f.Err(), errOpen) {
		t.Errorf("Future = %v, want the hook's error", f.Err())
	}
	if _, err := cl.Tx().Do("SET", "hooks:refused", "v").Exec(ctx); !errors.Is(err, errOpen) {
		t.Errorf("Tx.Exec = %v, want the hook's error", err)
	}
	if n, err := plain.Exists(ctx, "hooks:refused"); err != nil || n != 0 {
		t.Errorf("EXISTS = %d, %v; the refused commands were sent", n, err)
	}
}

// Pipelines and transactions go through the Pipeline hook: a pipeline
// over keys of every shard reports every primary; a transaction reports
// Tx, its one node, one attempt; Node and Watch commands go through the
// Command hook, with their node.
func TestHooksWrapPipelinesAndTransactions(t *testing.T) {
	var log []string
	r := &recorder{name: "r", log: &log}
	cl := newClient(t, sharedCluster(t), keel.Options{Hooks: []keel.Hook{r.hook()}})
	ctx := context.Background()
	p := cl.Pipeline()
	for i := range 30 {
		p.Do("SET", fmt.Sprintf("hooks:p:%d", i), i)
	}
	for i, res := range p.Exec(ctx) {
		if res.Err != nil {
			t.Fatalf("pipeline result %d: %v", i, res.Err)
		}
	}
	primaries := len(cl.Primaries())
	got := r.pipe[0]
	if got.Tx || len(got.Commands) != 30 || len(got.Results) != 30 || len(got.Nodes) != primaries || got.Attempts != primaries {
		t.Errorf("pipeline hook saw tx %v, %d commands, %d results, nodes %v, %d attempts; want %d nodes and attempts",
			got.Tx, len(got.Commands), len(got.Results), got.Nodes, got.Attempts, primaries)
	}
	if _, err := cl.Tx().Do("SET", "{hooks}a", 1).Do("INCR", "{hooks}a").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	got = r.pipe[1]
	if !got.Tx || len(got.Nodes) != 1 || got.Attempts != 1 || len(got.Results) != 2 {
		t.Errorf("transaction hook saw %+v", got)
	}
	txNode := got.Nodes[0]

	err := cl.Watch(ctx, func(w *keel.Watch) error {
		if _, err := w.Do(ctx, "GET", "{hooks}a"); err != nil {
			return err
		}
		_, err := w.Tx().Do("SET", "{hooks}a", 5).Exec(ctx)
		return err
	}, "{hooks}a")
	if err != nil {
		t.Fatal(err)
	}
	if c := r.last(); c.Name != "GET" || c.Node != txNode {
		t.Errorf("watch's GET seen as %s on %q, want GET on %s", c.Name, c.Node, txNode)
	}
	if got := r.pipe[2]; !got.Tx || len(got.Nodes) != 1 || got.Nodes[0] != txNode {
		t.Errorf("watch's transaction seen as %+v, want on %s", got, txNode)
	}

	n := cl.Primaries()[0]
	if _, err := n.Do(ctx, "PING"); err != nil {
		t.Fatal(err)
	}
	if c := r.last(); c.Name != "PING" || c.Node != n.Addr() || c.Attempts != 1 {
		t.Errorf("node's PING seen as %+v, want on %s", c, n.Addr())
	}
}

// A hook that panics panics the caller's goroutine, as the caller's own
// code would; the client keeps working, and a pipeline is empty afterwards.
func TestHookPanicReachesTheCaller(t *testing.T) {
	var armed bool
	boom := keel.Hook{
		Command: func(next keel.CommandFunc) keel.CommandFunc {
			return func(ctx context.Context, cmd *keel.CommandInfo) error {
				err := next(ctx, cmd)
				if armed {
					panic("hook bug")
				}
				return err
			}
		},
		Pipeline: func(next keel.PipelineFunc) keel.PipelineFunc {
			return func(ctx context.Context, p *keel.PipelineInfo) error {
				if armed {
					panic("hook bug")
				}
				return next(ctx, p)
			}
		},
	}
	cl := newClient(t, sharedCluster(t), keel.Options{Hooks: []keel.Hook{boom}})
	ctx := context.Background()
	mustPanic := func(what string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "hook bug") {
				t.Errorf("%s: recovered %v, want the hook's panic", what, r)
			}
		}()
		f()
	}
	armed = true
	mustPanic("Set", func() { _ = cl.Set(ctx, "hooks:panic", "v") })
	p := cl.Pipeline().Do("GET", "hooks:panic")
	mustPanic("Exec", func() { p.Exec(ctx) })
	armed = false
	if p.Len() != 0 {
		t.Errorf("pipeline holds %d commands after the panic, want 0", p.Len())
	}
	if v, err := cl.Get(ctx, "hooks:panic"); err != nil || v != "v" {
		t.Errorf("after the panic, Get = %q, %v; want the value the SET wrote", v, err)
	}
}

// A Hook whose field returns a nil step is refused by New.
func TestHookNilStepRefused(t *testing.T) {
	bad := keel.Hook{Command: func(keel.CommandFunc) keel.CommandFunc { return nil }}
	_, err := keel.New(context.Background(), keel.Options{Seeds: sharedCluster(t).Addrs()[:1], Hooks: []keel.Hook{bad}})
	if !errors.Is(err, keel.ErrBadOptions) {
		t.Fatalf("New = %v, want ErrBadOptions", err)
	}
}

// NodeStats lists the nodes keel connected to, sorted, with their sends;
// the sum of sends covers the commands run.
func TestNodeStats(t *testing.T) {
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	const n = 60
	for i := range n {
		if err := cl.Set(ctx, fmt.Sprintf("nodestats:%d", i), i); err != nil {
			t.Fatal(err)
		}
	}
	stats := cl.NodeStats()
	var sum int64
	for i, s := range stats {
		if i > 0 && stats[i-1].Addr >= s.Addr {
			t.Errorf("not sorted: %s before %s", stats[i-1].Addr, s.Addr)
		}
		sum += s.Requests
		if s.Requests > 0 && (!s.Connected || s.Dials < 1 || s.InFlight < 0) {
			t.Errorf("node %+v: served requests but is not shown connected", s)
		}
	}
	if sum < n {
		t.Errorf("nodes' requests sum to %d, want at least %d", sum, n)
	}
	if len(stats) < len(cl.Primaries()) {
		t.Errorf("%d nodes in NodeStats, want at least the %d primaries", len(stats), len(cl.Primaries()))
	}
}

// A blocking command run through a hook reports where it went and its
// tries, and counts on that node's NodeStats, as any other command does.
func TestHookSeesBlockingCommand(t *testing.T) {
	var log []string
	rec := &recorder{name: "rec", log: &log}
	cl, ctx, key, addr := blockEnv(t, sharedCluster(t), keel.Options{Hooks: []keel.Hook{rec.hook()}})
	k := key("list")
	if _, err := cl.Do(ctx, "RPUSH", k, "elem"); err != nil {
		t.Fatal(err)
	}
	before := nodeRequests(cl, addr)
	v, err := cl.Do(ctx, "BLPOP", k, "1")
	if err != nil || len(v.Elems) != 2 || v.Elems[1].Str != "elem" {
		t.Fatalf("BLPOP = %v, %v; want [%s elem]", v, err, k)
	}
	got := rec.last()
	if got.Name != "BLPOP" || got.Node != addr || got.Attempts < 1 {
		t.Errorf("hook saw %+v; want BLPOP on %s, at least one attempt", got, addr)
	}
	if after := nodeRequests(cl, addr); after <= before {
		t.Errorf("NodeStats requests of %s: %d before the BLPOP, %d after; want it counted", addr, before, after)
	}
}

// nodeRequests returns the NodeStats requests of the node at addr.
func nodeRequests(cl *keel.Client, addr string) int64 {
	for _, s := range cl.NodeStats() {
		if s.Addr == addr {
			return s.Requests
		}
	}
	return 0
}
