package keel_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keel-go/keel"
)

// largeValue is the 1 MiB value of the large-value benchmarks.
// largeParallelism × GOMAXPROCS goroutines run the large-value benchmarks.
var largeParallelism = 128

var largeValue = strings.Repeat("v", 1<<20)

// BenchmarkLarge measures GETs and SETs of 1 MiB values on a real 3-shard
// cluster from 256 goroutines (b.SetParallelism over GOMAXPROCS), the shape
// under which one connection per node queues tens of megabytes, and reports
// the client's diversions and retries per op: a large reply must be read,
// not taken for a stalled node.
func BenchmarkLarge(b *testing.B) {
	cl := newClient(b, sharedCluster(b), keel.Options{})
	ctx := context.Background()
	const keys = 32
	for i := range keys {
		if err := cl.Set(ctx, "bench:large:"+strconv.Itoa(i), largeValue); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B, op func(key string) error) {
		before := cl.Stats()
		b.SetBytes(1 << 20)
		b.ReportAllocs()
		b.SetParallelism(largeParallelism) // × GOMAXPROCS goroutines
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op("bench:large:" + strconv.Itoa(int(next.Add(1)%keys))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		after := cl.Stats()
		b.ReportMetric(float64(after.DivertedReads-before.DivertedReads)/float64(b.N), "diverted/op")
		b.ReportMetric(float64(after.Retries-before.Retries)/float64(b.N), "retries/op")
		b.ReportMetric(float64(after.BusyWaits-before.BusyWaits), "busywaits")
		b.ReportMetric(float64(after.ConnectionsAlive), "conns")
	}
	b.Run("GET", func(b *testing.B) {
		run(b, func(key string) error {
			_, err := cl.Get(ctx, key)
			return err
		})
	})
	b.Run("SET", func(b *testing.B) {
		run(b, func(key string) error { return cl.Set(ctx, key, largeValue) })
	})
}
