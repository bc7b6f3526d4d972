package keel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keel-go/keel"
)

// point is a value that knows its own wire form.
type point struct{ x, y int }

func (p point) MarshalBinary() ([]byte, error) {
	return []byte{byte('0' + p.x), ',', byte('0' + p.y)}, nil
}

func TestDoConvertsArguments(t *testing.T) {
	c, ctx, key := cmdEnv(t)
	for _, tc := range []struct {
		value any
		want  string
	}{
		{[]byte("raw"), "raw"},
		{int64(-7), "-7"},
		{uint16(9), "9"},
		{2.5, "2.5"},
		{true, "1"},
		{point{3, 4}, "3,4"},
	} {
		if _, err := c.Do(ctx, "SET", key("v"), tc.value); err != nil {
			t.Fatalf("SET %#v: %v", tc.value, err)
		}
		eqValue(t, c, ctx, key("v"), tc.want)
		// The typed command converts the same way.
		must(t, c.Set(ctx, key("typed"), tc.value))
		eqValue(t, c, ctx, key("typed"), tc.want)
	}
}

func eqValue(t *testing.T, c *keel.Client, ctx context.Context, key, want string) {
	t.Helper()
	got, err := c.Get(ctx, key)
	eq(t, "GET "+key, got, err, want)
}

func TestBadArgumentsAreNotSent(t *testing.T) {
	c, ctx, key := cmdEnv(t)
	before := c.Stats().Requests
	for name, run := range map[string]func() error{
		"Do nil":       func() error { _, err := c.Do(ctx, "SET", key("k"), nil); return err },
		"Do empty":     func() error { _, err := c.Do(ctx); return err },
		"Do struct":    func() error { _, err := c.Do(ctx, "SET", key("k"), struct{}{}); return err },
		"Set nil":      func() error { return c.Set(ctx, key("k"), nil) },
		"MGet no keys": func() error { _, err := c.MGet(ctx); return err },
		"MSet odd":     func() error { return c.MSet(ctx, key("k")) },
		"control":      func() error { _, err := c.SetWith(ctx, key("k"), 1, keel.SetOptions{}); return err },
	} {
		err := run()
		if name == "control" { // a sound command: the control
			must(t, err)
			continue
		}
		if !errors.Is(err, keel.ErrArgument) {
			t.Errorf("%s: err = %v, want ErrArgument", name, err)
		}
	}
	if sent := c.Stats().Requests - before; sent != 1 {
		t.Errorf("%d requests reached the engine, want 1 (the control)", sent)
	}
	if n, err := c.Exists(ctx, key("k")); err != nil || n != 1 {
		t.Errorf("EXISTS = %d, %v; want only the control's key", n, err)
	}
}

func TestPipelineTypedResults(t *testing.T) {
	c, ctx, key := cmdEnv(t)
	p := c.Pipeline()
	set := keel.Queue(p, keel.Set(key("a"), []byte("1")))
	incr := keel.Queue(p, keel.IncrBy(key("a"), 41))
	get := keel.Queue(p, keel.Get(key("a")))
	missing := keel.Queue(p, keel.Get(key("missing")))
	bad := keel.Queue(p, keel.Set(key("b"), nil))
	p.Do("SET", key("c"), 3.5) // untyped, between typed ones
	raw := keel.Queue(p, keel.Command("GET", key("c")))
	mget := keel.Queue(p, keel.MGet(key("a"), key("missing"), key("c")))

	results := p.Exec(ctx)
	if len(results) != 8 {
		t.Fatalf("%d results, want 8", len(results))
	}
	must(t, set.Err())
	n, err := incr.Result()
	eq(t, "INCRBY", n, err, 42)
	s, err := get.Result()
	eq(t, "GET", s, err, "42")
	if _, err := missing.Result(); !errors.Is(err, keel.ErrNil) {
		t.Errorf("GET missing: %v, want ErrNil", err)
	}
	if err := bad.Err(); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("SET nil in a pipeline: %v, want ErrArgument", err)
	}
	if !errors.Is(results[4].Err, keel.ErrArgument) || results[5].Err != nil {
		t.Errorf("results[4:6] = %+v, want the build error then the untyped SET's OK", results[4:6])
	}
	v, err := raw.Result()
	if err != nil || v.Str != "3.5" {
		t.Errorf("raw GET = %v, %v; want 3.5", v, err)
	}
	vals, err := mget.Result()
	if err != nil || len(vals) != 3 || vals[0].Value != "42" || vals[1].Valid || vals[2].Value != "3.5" {
		t.Errorf("MGET = %+v, %v", vals, err)
	}
	if n, _ := c.Exists(ctx, key("b")); n != 0 {
		t.Error("the command that failed to build was sent")
	}

	// The pipeline is reusable, and a Future from before keeps its result.
	again := keel.Queue(p, keel.Incr(key("a")))
	p.Exec(ctx)
	n, err = again.Result()
	eq(t, "INCR after reuse", n, err, 43)
	s, _ = get.Result()
	eq(t, "old future", s, nil, "42")
}

func TestRunOnClient(t *testing.T) {
	c, ctx, key := cmdEnv(t)
	if _, err := keel.Run(ctx, c, keel.Set(key("k"), 5)); err != nil {
		t.Fatal(err)
	}
	n, err := keel.Run(ctx, c, keel.Incr(key("k")))
	eq(t, "Run INCR", n, err, 6)
	if _, err := keel.Run(ctx, c, keel.Set(key("k"), nil)); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("Run with a bad argument: %v, want ErrArgument", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := keel.Run(cancelled, c, keel.Get(key("k"))); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestCommandsOnClosedClient(t *testing.T) {
	c := newClient(t, sharedCluster(t), keel.Options{})
	must(t, c.Close())
	ctx := context.Background()
	if _, err := keel.Run(ctx, c, keel.Get("k")); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	p := c.Pipeline()
	f := keel.Queue(p, keel.Get("k"))
	p.Exec(ctx)
	if err := f.Err(); !errors.Is(err, keel.ErrClosed) {
		t.Errorf("Future after Close: %v, want ErrClosed", err)
	}
}
