package keel_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
)

// BenchmarkClusterSetGet measures SET then GET (16-byte values) on keys spread
// over every shard of a real 3-shard cluster; each op is one command.
func BenchmarkClusterSetGet(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	testutil.BenchSetGet(b,
		func(ctx context.Context, key, value string) error { return cl.Set(ctx, key, value) },
		func(ctx context.Context, key string) error {
			_, err := cl.Get(ctx, key)
			return err
		})
}

// BenchmarkClusterSetGetHooked is BenchmarkClusterSetGet through a hook
// that only passes each command on: the price of the hook machinery itself
// (its bookkeeping and a copy of the arguments), which a client without hooks
// does not pay.
func BenchmarkClusterSetGetHooked(b *testing.B) {
	pass := keel.Hook{Command: func(next keel.CommandFunc) keel.CommandFunc { return next }}
	cl := newClient(b, sharedCluster(b), keel.Options{Hooks: []keel.Hook{pass}})
	testutil.BenchSetGet(b,
		func(ctx context.Context, key, value string) error { return cl.Set(ctx, key, value) },
		func(ctx context.Context, key string) error {
			_, err := cl.Get(ctx, key)
			return err
		})
}

// BenchmarkPipeline100 runs pipelines of 100 GETs (keys on every shard),
// queued untyped with Do or typed with Queue, to compare what typed results
// cost per pipeline.
func BenchmarkPipeline100(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "bench:pipe:" + strconv.Itoa(i)
		if err := cl.Set(ctx, keys[i], "0123456789abcdef"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Do", func(b *testing.B) {
		b.ReportAllocs()
		p := cl.Pipeline()
		for b.Loop() {
			for _, k := range keys {
				p.Do("GET", k)
			}
			for _, r := range p.Exec(ctx) {
				if _, err := r.Value.Text(); err != nil || r.Err != nil {
					b.Fatal(r.Err, err)
				}
			}
		}
	})
	b.Run("Queue", func(b *testing.B) {
		b.ReportAllocs()
		p := cl.Pipeline()
		futures := make([]*keel.Future[string], len(keys))
		for b.Loop() {
			for i, k := range keys {
				futures[i] = keel.Queue(p, keel.Get(k))
			}
			p.Exec(ctx)
			for _, f := range futures {
				if _, err := f.Result(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkWatchIncr measures one optimistic increment (WATCH, GET, MULTI
// SET EXEC) on one goroutine: the cost of a watch, its dedicated connection
// taken from the pool included.
func BenchmarkWatchIncr(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := cl.Watch(ctx, func(w *keel.Watch) error {
			v, err := keel.Run(ctx, w, keel.Get("{bw}n"))
			if err != nil && !errors.Is(err, keel.ErrNil) {
				return err
			}
			n, _ := strconv.Atoi(v)
			_, err = w.Tx().Do("SET", "{bw}n", n+1).Exec(ctx)
			return err
		}, "{bw}n")
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBLPop pushes an element and pops it with BLPOP (which finds it
// at once): the round trips of a queue consumer, the pop on a dedicated
// connection from the blocking pool, against LPOP on the shared one.
func BenchmarkBLPop(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	ctx := context.Background()
	b.Run("BLPOP", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cl.RPush(ctx, "{bq}q", "x"); err != nil {
				b.Fatal(err)
			}
			if _, err := cl.BLPop(ctx, time.Second, "{bq}q"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LPOP", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cl.RPush(ctx, "{bq}q", "x"); err != nil {
				b.Fatal(err)
			}
			if _, err := cl.LPop(ctx, "{bq}q"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
