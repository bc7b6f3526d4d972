package peers

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/go-redis/v9"
)

// openGoRedisFailover opens go-redis's Sentinel client
// (redis.NewFailoverClient), as its documentation recommends for a Sentinel
// group: the master name and the sentinels' addresses, default options
// otherwise. go-redis asks the sentinels for the master, subscribes to
// +switch-master on one of them and closes its connections to the old
// master when a switch is announced.
func openGoRedisFailover(ctx context.Context, t drill.Target) (drill.Client, error) {
	if len(t.Seeds) == 0 {
		return nil, errors.New("go-redis: no sentinel addresses")
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    t.SentinelMaster,
		SentinelAddrs: append([]string(nil), t.Seeds...),
		Username:      t.Username,
		Password:      t.Password,
		TLSConfig:     t.TLS,
	})
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("go-redis: connect to master %q through %v: %w", t.SentinelMaster, t.Seeds, err)
	}
	return goRedisClient{c}, nil
}
