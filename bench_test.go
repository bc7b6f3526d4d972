package keel_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
)

// BenchmarkClusterSetGet measures SET then GET (16-byte values) on keys spread
// over every shard of a real 3-shard cluster; each op is one command.
func BenchmarkClusterSetGet(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	value := "0123456789abcdef"
	for _, goroutines := range []int{1, 16, 256} {
		b.Run("goroutines="+strconv.Itoa(goroutines), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			per := (b.N + goroutines - 1) / goroutines
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := "bench:" + strconv.Itoa(g)
					for i := 0; i < per; i += 2 {
						if err := cl.Set(ctx, key, value); err != nil {
							b.Error(err)
							return
						}
						if _, err := cl.Get(ctx, key); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(per*goroutines)/time.Since(start).Seconds(), "req/s")
		})
	}
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
