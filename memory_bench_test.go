package keel_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// BenchmarkClientMemory30x1 reports the heap one client takes on a
// 30-primary × 1-replica cluster: after New (topology known, seed
// connection open), and once it has sent a command to every primary (a
// connection to each). It starts its own cluster, so -short skips it.
func BenchmarkClientMemory30x1(b *testing.B) {
	testutil.SkipIfShort(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := lab.StartClusterT(b, lab.ClusterOptions{Shards: 30, Replicas: 1})
	keys := make([]string, 30) // one key on each primary
	for i := range keys {
		keys[i] = lab.KeyInSlot(i*16384/30, "mem")
	}
	const clients = 20
	var afterNew, afterUse float64
	for b.Loop() {
		before := heapInUse()
		cls := make([]*keel.Client, clients)
		for i := range cls {
			cl, err := keel.New(ctx, keel.Options{Seeds: c.Addrs()[:1]})
			if err != nil {
				b.Fatal(err)
			}
			cls[i] = cl
		}
		afterNew = float64(heapInUse()-before) / clients
		for _, cl := range cls {
			for _, k := range keys {
				if _, err := cl.Exists(ctx, k); err != nil {
					b.Fatal(err)
				}
			}
		}
		afterUse = float64(heapInUse()-before) / clients
		for _, cl := range cls {
			if err := cl.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(afterNew, "bytes/client-new")
	b.ReportMetric(afterUse, "bytes/client-used")
}

// heapInUse is the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
