package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/go-redis/v9"
)

// goRedisModule is go-redis's module path, for its version in Describe.
const goRedisModule = "github.com/redis/go-redis/v9"

// goRedisKeepAlive is go-redis's own TCP keep-alive policy (the unexported
// defaultKeepAliveConfig of options.go in v9.22 and later). A custom Dialer
// replaces go-redis's dialer and with it that policy, so the driver sets it
// again: the "default options" row must behave like go-redis out of the box.
var goRedisKeepAlive = net.KeepAliveConfig{
	Enable:   true,
	Idle:     30 * time.Second,
	Interval: 5 * time.Second,
	Count:    3,
}

// goRedisDriver opens go-redis ClusterClients, with the library's defaults
// or, when tuned, with the options of tuneGoRedis.
//
// A lab caveat: when the slot map comes from a seed whose host is a name
// that is not loopback, go-redis replaces every loopback node address in it
// with that name (newClusterState's replaceLoopbackHost, meant for nodes in
// Docker). Behind the lab's DNS name every node is a 127.x address, so such a
// map sends all slots to the name, and the dialer, resolving the name to all
// nodes, reaches whichever answers first; MOVED replies then lead go-redis to
// the right nodes and to a reload from one of them. Real nodes do not have
// loopback addresses, so this path, which also hides go-redis's slow reaction
// to a dead primary (see tuneGoRedis), exists only in the lab.
type goRedisDriver struct {
	name  string
	tuned bool
}

func (d goRedisDriver) Name() string { return d.name }

func (d goRedisDriver) Describe() string {
	opts := "default options"
	if d.tuned {
		opts = goRedisTunedOptions
	}
	return fmt.Sprintf("%s %s ClusterClient (Client on a replication group, FailoverClient on a Sentinel group), %s", goRedisModule, drill.ModuleVersion(goRedisModule, redis.Version()), opts)
}

// Open creates the ClusterClient and pings the cluster, which makes it load
// the slot map: go-redis connects lazily, and a client that cannot reach the
// cluster should fail here rather than in the workload.
func (d goRedisDriver) Open(ctx context.Context, t drill.Target) (drill.Client, error) {
	if t.SentinelMaster != "" {
		// The tuning is a ClusterClient option: both rows open the same
		// FailoverClient on a Sentinel group.
		return openGoRedisFailover(ctx, t)
	}
	if t.Replication {
		// The tuning is a ClusterClient option: both rows open the same
		// Client on a replication group.
		return openGoRedisStandalone(ctx, t)
	}
	if len(t.Seeds) == 0 {
		return nil, errors.New("go-redis: no seed addresses")
	}
	dialer := t.Dialer()
	dialer.KeepAliveConfig = goRedisKeepAlive
	opt := &redis.ClusterOptions{
		Addrs:    append([]string(nil), t.Seeds...),
		Username: t.Username,
		Password: t.Password,
		// go-redis's pool bounds every dial attempt, handshake included, by
		// DialTimeout through ctx, so the dialer needs no Timeout of its own.
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialTarget(ctx, t, dialer, network, addr)
		},
		// With a custom Dialer go-redis does not dial TLS itself (dialTarget
		// does); it only reads TLSConfig to know the connection is TLS.
		TLSConfig: t.TLS,
	}
	if d.tuned {
		tuneGoRedis(opt)
	}
	c := redis.NewClusterClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("go-redis: connect to %v: %w", t.Seeds, err)
	}
	return goRedisClient{c}, nil
}

// goRedisClient is a drill.Client over a go-redis ClusterClient, or a Client
// on a replication or Sentinel group. Its errors are go-redis's own,
// unwrapped (see the package doc).
type goRedisClient struct{ c redis.UniversalClient }

func (c goRedisClient) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := c.c.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (c goRedisClient) Set(ctx context.Context, key, value string) error {
	return c.c.Set(ctx, key, value, 0).Err()
}

func (c goRedisClient) Incr(ctx context.Context, key string) (int64, error) {
	return c.c.Incr(ctx, key).Result()
}

func (c goRedisClient) Close() error { return c.c.Close() }
