package keel_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
)

// TestCommandAllocations guards the hot path's allocations, which a small
// refactor can silently undo (a variadic args slice that starts escaping,
// say): a SET costs nothing on the heap, a GET only its reply's bytes. The
// counts are the whole process's, reader and writer goroutines included.
func TestCommandAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	var err error
	// Values made at run time: a constant boxed into the value's `any`
	// would never allocate, whatever the escape analysis decided.
	value := strconv.Itoa(int(time.Now().UnixNano()))
	set := testing.AllocsPerRun(500, func() { err = cl.Set(ctx, "allocs:key", value) })
	if err != nil {
		t.Fatal(err)
	}
	bytes := []byte(value)
	setBytes := testing.AllocsPerRun(500, func() { err = cl.Set(ctx, "allocs:key", bytes) })
	if err != nil {
		t.Fatal(err)
	}
	get := testing.AllocsPerRun(500, func() { _, err = cl.Get(ctx, "allocs:key") })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("allocations per call: SET %.2f, SET []byte %.2f, GET %.2f", set, setBytes, get)
	// The half allows for a rare refill of an emptied request pool.
	if set > 0.5 {
		t.Errorf("SET allocates %.2f times per call, want 0", set)
	}
	if setBytes > 0.5 {
		t.Errorf("SET of a []byte allocates %.2f times per call, want 0 (no copy)", setBytes)
	}
	if get > 1.5 {
		t.Errorf("GET allocates %.2f times per call, want 1 (its reply)", get)
	}
}

// TestPipelineAllocations guards a pipeline's allocations per command: a
// reply's bytes, plus a share of the batch's bookkeeping; a typed command
// adds its Future. A per-reply cost on the engine's path (classifying every
// reply, say) shows here at once.
func TestPipelineAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	cl := newClient(t, sharedCluster(t), keel.Options{})
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "allocs:pipe:" + strconv.Itoa(i)
		if err := cl.Set(ctx, keys[i], "v"); err != nil {
			t.Fatal(err)
		}
	}
	p := cl.Pipeline()
	untyped := testing.AllocsPerRun(50, func() {
		for _, k := range keys {
			p.Do("GET", k)
		}
		p.Exec(ctx)
	}) / float64(len(keys))
	typed := testing.AllocsPerRun(50, func() {
		for _, k := range keys {
			keel.Queue(p, keel.Get(k))
		}
		p.Exec(ctx)
	}) / float64(len(keys))
	t.Logf("allocations per command: untyped %.2f, typed %.2f", untyped, typed)
	if untyped > 1.5 {
		t.Errorf("an untyped pipelined GET allocates %.2f times, want about 1 (its reply)", untyped)
	}
	if typed > 2.5 {
		t.Errorf("a typed pipelined GET allocates %.2f times, want about 2 (its reply and its Future)", typed)
	}
}

// TestHookedCommandAllocations bounds what a pass-through hook adds to a
// command: the command's description for the hooks and its copy of the
// arguments, and nothing per hook beyond what the hook itself allocates.
func TestHookedCommandAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	pass := keel.Hook{Command: func(next keel.CommandFunc) keel.CommandFunc {
		return func(ctx context.Context, cmd *keel.CommandInfo) error { return next(ctx, cmd) }
	}}
	cl := newClient(t, sharedCluster(t), keel.Options{Hooks: []keel.Hook{pass, pass}})
	ctx := context.Background()
	var err error
	value := strconv.Itoa(int(time.Now().UnixNano()))
	set := testing.AllocsPerRun(500, func() { err = cl.Set(ctx, "allocs:hooked", value) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("allocations per hooked SET: %.2f", set)
	if set > 2.5 {
		t.Errorf("a SET through two pass-through hooks allocates %.2f times, want 2 (its CommandInfo and arguments)", set)
	}
}
