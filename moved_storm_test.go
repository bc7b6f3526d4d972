package keel_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// stormSlots is how many slots TestMovedStorm migrates.
const stormSlots = 1000

// A migration of 1,000 slots under a concurrent workload (a MOVED storm):
// every write and read succeeds, each worker reads back what it wrote, and
// afterwards every key holds the last value acknowledged for it.
func TestMovedStorm(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 2})
	cl := newClient(t, c, keel.Options{})
	from, err := c.PrimaryFor(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	to, err := c.PrimaryFor(ctx, 16383)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, stormSlots)
	slots := make([]int, stormSlots)
	for s := range slots {
		slots[s] = s
		keys[s] = lab.KeyInSlot(s, "storm")
		if err := cl.Set(ctx, keys[s], "initial"); err != nil {
			t.Fatal(err)
		}
	}

	const workers = 4
	last := make([]string, stormSlots) // worker w owns the keys s with s%workers == w
	var (
		mu   sync.Mutex
		errs []error
		ops  int
		wg   sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := w + (i*workers)%stormSlots
				if s >= stormSlots {
					continue
				}
				v := strconv.Itoa(w) + "-" + strconv.Itoa(i)
				err := cl.Set(ctx, keys[s], v)
				if err == nil {
					last[s] = v
					var got string
					got, err = cl.Get(ctx, keys[s])
					if err == nil && got != v {
						err = errors.New(keys[s] + ": read " + got + ", want " + v)
					}
				}
				mu.Lock()
				ops++
				if err != nil && len(errs) < 10 {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	step, err := c.MigrateSlots(ctx, slots, from, to, lab.MigrateOptions{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		t.Errorf("workload: %v", err)
	}
	for s, k := range keys {
		want := last[s]
		if want == "" {
			want = "initial"
		}
		if got, err := cl.Get(ctx, k); err != nil || got != want {
			t.Errorf("after the migration, %s = %q, %v; want %q", k, got, err, want)
		}
	}
	st := cl.Stats()
	t.Logf("%d slots moved in %v under %d operations: %d MOVED, %d ASK followed, %d topology changes",
		stormSlots, step.Took().Round(time.Millisecond), ops, st.Moved, st.Asked, st.TopologyChanges)
	if st.Moved == 0 {
		t.Error("the migration caused no MOVED redirect; the test did not test a MOVED storm")
	}
}
