package conn_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
)

// BenchmarkSetGet measures concurrent SET then GET (16-byte values) over one
// auto-pipelined connection; each op is one command. It reports requests/s.
func BenchmarkSetGet(b *testing.B) {
	s := lab.StartServerT(b, lab.ServerOptions{})
	c := dial(b, s, conn.Options{})
	value := "0123456789abcdef"
	for _, goroutines := range []int{1, 16, 256} {
		b.Run("goroutines="+strconv.Itoa(goroutines), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			var wg sync.WaitGroup
			per := (b.N + goroutines - 1) / goroutines
			start := time.Now()
			b.ResetTimer()
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := "bench:" + strconv.Itoa(g)
					for i := 0; i < per; i += 2 {
						if _, err := c.Do(ctx, "SET", key, value); err != nil {
							b.Error(err)
							return
						}
						if _, err := c.Do(ctx, "GET", key); err != nil {
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
