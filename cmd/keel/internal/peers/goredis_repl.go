package peers

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/go-redis/v9"
)

// openGoRedisStandalone opens a go-redis Client (redis.NewClient) to a
// replication group's primary endpoint, as go-redis's documentation
// recommends for a deployment without cluster mode: the endpoint's name as
// Addr, default options. Every dial resolves the name again, so new
// connections follow it; go-redis does nothing special on READONLY.
func openGoRedisStandalone(ctx context.Context, t drill.Target) (drill.Client, error) {
	if len(t.Seeds) != 1 {
		return nil, errors.New("go-redis: a replication group needs exactly one primary endpoint")
	}
	dialer := t.Dialer()
	dialer.KeepAliveConfig = goRedisKeepAlive
	c := redis.NewClient(&redis.Options{
		Addr:     t.Seeds[0],
		Username: t.Username,
		Password: t.Password,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTarget(ctx, t, dialer, network, addr)
		},
		TLSConfig: t.TLS,
	})
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("go-redis: connect to %v: %w", t.Seeds, err)
	}
	return goRedisClient{c}, nil
}
