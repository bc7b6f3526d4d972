package conn_test

import (
	"context"
	"testing"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// BenchmarkSetGet measures concurrent SET then GET (16-byte values) over one
// auto-pipelined connection; each op is one command. It reports requests/s.
func BenchmarkSetGet(b *testing.B) {
	s := lab.StartServerT(b, lab.ServerOptions{})
	c := dial(b, s, conn.Options{})
	testutil.BenchSetGet(b,
		func(ctx context.Context, key, value string) error {
			_, err := c.Do(ctx, "SET", key, value)
			return err
		},
		func(ctx context.Context, key string) error {
			_, err := c.Do(ctx, "GET", key)
			return err
		})
}
