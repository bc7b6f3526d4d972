package bench

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	"github.com/redis/go-redis/v9"
)

// scanKeys is how many keys BenchmarkClusterScan scans, and scanCount the
// COUNT both clients send.
const (
	scanKeys  = 100_000
	scanCount = 1000
)

// BenchmarkClusterScan scans every key of a 3-primary cluster holding
// scanKeys keys, COUNT scanCount: one op is the whole scan. keel's Scan
// iterates over the shards one after another; go-redis's ForEachMaster
// scans them concurrently. The cluster is its own, so that the other
// benchmarks' keys do not count.
func BenchmarkClusterScan(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	kc, err := keel.New(ctx, keel.Options{Seeds: c.Addrs()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = kc.Close() })
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	b.Cleanup(func() { _ = rc.Close() })
	if err := rc.Ping(ctx).Err(); err != nil { // loads go-redis's slot map
		b.Fatal(err)
	}
	loadScanKeys(ctx, b, kc)

	b.Run("keel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for _, err := range kc.Scan(ctx, keel.ScanOptions{Count: scanCount}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			checkScanned(b, n)
		}
	})
	b.Run("go-redis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var n atomic.Int64
			err := rc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
				var cursor uint64
				for {
					keys, next, err := m.Scan(ctx, cursor, "", scanCount).Result()
					if err != nil {
						return err
					}
					n.Add(int64(len(keys)))
					if cursor = next; cursor == 0 {
						return nil
					}
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			checkScanned(b, int(n.Load()))
		}
	})
}

// loadScanKeys sets scanKeys keys with pipelines of 10,000.
func loadScanKeys(ctx context.Context, b *testing.B, kc *keel.Client) {
	p := kc.Pipeline()
	for i := range scanKeys {
		p.Do("SET", "scan:"+strconv.Itoa(i), i)
		if p.Len() == 10_000 || i == scanKeys-1 {
			for _, r := range p.Exec(ctx) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		}
	}
}

// checkScanned fails the benchmark unless a scan saw every key: SCAN may
// repeat keys, but not while nothing changes.
func checkScanned(b *testing.B, n int) {
	if n != scanKeys {
		b.Fatalf("scanned %d keys, want %d", n, scanKeys)
	}
}
