package testutil

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchSetGet measures SET then GET of a 16-byte value from 1, 16 and 256
// goroutines, each on a key of its own, as one sub-benchmark per count. set
// and get send one command each; it reports requests/s besides ns/op.
func BenchSetGet(b *testing.B, set func(ctx context.Context, key, value string) error, get func(ctx context.Context, key string) error) {
	const value = "0123456789abcdef"
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
						if err := set(ctx, key, value); err != nil {
							b.Error(err)
							return
						}
						if err := get(ctx, key); err != nil {
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
