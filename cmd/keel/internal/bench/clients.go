package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keel-go/keel"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// The clients, by the names reports and flags use.
const (
	Keel    = "keel"
	Rueidis = "rueidis"
	GoRedis = "go-redis"
)

// ClientNames lists every client, in the order of a round.
var ClientNames = []string{Keel, Rueidis, GoRedis}

// ParseClients parses a comma-separated list of client names.
func ParseClients(s string) ([]string, error) {
	var out []string
	for _, f := range splitList(s) {
		name := strings.ToLower(f)
		found := false
		for _, c := range ClientNames {
			if name == c {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown client %q (want %s)", f, strings.Join(ClientNames, ", "))
		}
		if !contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no client given")
	}
	return out, nil
}

// Client is one library under test, reduced to the calls the workloads make.
// A call's value is read (and checked where that is cheap) as a caller
// would, so a client that defers work until its reply is read pays for it.
// Every method is safe for concurrent use.
type Client interface {
	Name() string
	Get(ctx context.Context, key string) error
	Set(ctx context.Context, key, value string) error
	// MGet reads keys, which are distinct and may span slots.
	MGet(ctx context.Context, keys []string) error
	// Batch returns a pipeliner for one goroutine's use.
	Batch() Batch
	Close() error
}

// Batch sends GETs of many keys in one pipeline. It is used by one goroutine
// at a time, so it may keep buffers between calls.
type Batch interface {
	Get(ctx context.Context, keys []string) error
}

// Open connects the client called name to the cluster reachable at seeds,
// with the library's default options.
func Open(ctx context.Context, name string, seeds []string) (Client, error) {
	if len(seeds) == 0 {
		return nil, errors.New("bench: no seed addresses")
	}
	seeds = append([]string(nil), seeds...)
	switch name {
	case Keel:
		c, err := keel.New(ctx, keel.Options{Seeds: seeds})
		if err != nil {
			return nil, fmt.Errorf("keel: %w", err)
		}
		return keelClient{c}, nil
	case Rueidis:
		// rueidis.NewClient connects and reads the slot map before it
		// returns; it takes no context.
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: seeds})
		if err != nil {
			return nil, fmt.Errorf("rueidis: %w", err)
		}
		return rueidisClient{c}, nil
	case GoRedis:
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds})
		// go-redis connects lazily; a ping loads the slot map now.
		if err := c.Ping(ctx).Err(); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("go-redis: %w", err)
		}
		return goRedisClient{c}, nil
	}
	return nil, fmt.Errorf("bench: unknown client %q", name)
}

// errMissing reports a key that should have had a value.
var errMissing = errors.New("bench: a key read back empty")

type keelClient struct{ c *keel.Client }

func (c keelClient) Name() string { return Keel }

func (c keelClient) Get(ctx context.Context, key string) error {
	_, err := c.c.Get(ctx, key)
	return err
}

func (c keelClient) Set(ctx context.Context, key, value string) error {
	return c.c.Set(ctx, key, value)
}

func (c keelClient) MGet(ctx context.Context, keys []string) error {
	vs, err := c.c.MGet(ctx, keys...)
	if err != nil {
		return err
	}
	if len(vs) != len(keys) {
		return errMissing
	}
	for _, v := range vs {
		if !v.Valid {
			return errMissing
		}
	}
	return nil
}

func (c keelClient) Batch() Batch { return &keelBatch{p: c.c.Pipeline()} }

func (c keelClient) Close() error { return c.c.Close() }

// keelBatch reuses one Pipeline: Exec leaves it empty and ready.
type keelBatch struct{ p *keel.Pipeline }

func (b *keelBatch) Get(ctx context.Context, keys []string) error {
	for _, k := range keys {
		b.p.Do("GET", k)
	}
	for _, r := range b.p.Exec(ctx) {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

type rueidisClient struct{ c rueidis.Client }

func (c rueidisClient) Name() string { return Rueidis }

func (c rueidisClient) Get(ctx context.Context, key string) error {
	_, err := c.c.Do(ctx, c.c.B().Get().Key(key).Build()).ToString()
	return err
}

func (c rueidisClient) Set(ctx context.Context, key, value string) error {
	return c.c.Do(ctx, c.c.B().Set().Key(key).Value(value).Build()).Error()
}

func (c rueidisClient) MGet(ctx context.Context, keys []string) error {
	m, err := rueidis.MGet(c.c, ctx, keys)
	if err != nil {
		return err
	}
	if len(m) != len(keys) {
		return errMissing
	}
	for _, v := range m {
		if v.IsNil() {
			return errMissing
		}
	}
	return nil
}

func (c rueidisClient) Batch() Batch { return &rueidisBatch{c: c.c} }

func (c rueidisClient) Close() error {
	c.c.Close()
	return nil
}

// rueidisBatch reuses the slice that holds the commands; the commands
// themselves are built anew every time, as rueidis recycles them after
// DoMulti.
type rueidisBatch struct {
	c    rueidis.Client
	cmds rueidis.Commands
}

func (b *rueidisBatch) Get(ctx context.Context, keys []string) error {
	b.cmds = b.cmds[:0]
	for _, k := range keys {
		b.cmds = append(b.cmds, b.c.B().Get().Key(k).Build())
	}
	for _, r := range b.c.DoMulti(ctx, b.cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

type goRedisClient struct{ c *redis.ClusterClient }

func (c goRedisClient) Name() string { return GoRedis }

func (c goRedisClient) Get(ctx context.Context, key string) error {
	_, err := c.c.Get(ctx, key).Result()
	return err
}

func (c goRedisClient) Set(ctx context.Context, key, value string) error {
	return c.c.Set(ctx, key, value, 0).Err()
}

// MGet is a pipeline of GETs: ClusterClient.MGet sends one MGET to the slot
// of the first key and fails with CROSSSLOT when the keys span slots.
func (c goRedisClient) MGet(ctx context.Context, keys []string) error {
	return goRedisGets(ctx, c.c, keys)
}

func (c goRedisClient) Batch() Batch { return goRedisBatch(c) }

func (c goRedisClient) Close() error { return c.c.Close() }

type goRedisBatch struct{ c *redis.ClusterClient }

func (b goRedisBatch) Get(ctx context.Context, keys []string) error {
	return goRedisGets(ctx, b.c, keys)
}

// goRedisGets reads keys with one Pipelined call; its error is the first
// failed command's, redis.Nil for a missing key.
func goRedisGets(ctx context.Context, c *redis.ClusterClient, keys []string) error {
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Get(ctx, k)
		}
		return nil
	})
	return err
}
