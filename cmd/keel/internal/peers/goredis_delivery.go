package peers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/go-redis/v9"
)

// Subscribe implements drill.Subscriber the way go-redis's Pub/Sub guide
// (https://redis.uptrace.dev/guide/go-redis-pubsub.html) shows it:
// Subscribe (or SSubscribe), Receive to wait for the server's confirmation,
// then read PubSub.Channel with its default options (a health-check PING
// after 3 s without traffic; go-redis reconnects and resubscribes by
// itself). ClusterClient subscribes on the primary of the first channel's
// slot. The Channel reports no errors, so failed is never called.
func (c goRedisClient) Subscribe(ctx context.Context, channel string, sharded bool, deliver func(string), _ func(error)) (<-chan struct{}, error) {
	var ps *redis.PubSub
	if sharded {
		ps = c.c.SSubscribe(ctx, channel)
	} else {
		ps = c.c.Subscribe(ctx, channel)
	}
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, err
	}
	msgs := ps.Channel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		for m := range msgs {
			deliver(m.Payload)
		}
		if stop() { // the channel closed first: the client was closed
			_ = ps.Close()
		}
	}()
	return done, nil
}

// BLPop implements drill.Consumer with ClusterClient.BLPop, which go-redis
// sends on a pooled connection with a read deadline of the timeout plus
// ReadTimeout.
func (c goRedisClient) BLPop(ctx context.Context, key string, timeout time.Duration) (string, bool, error) {
	kv, err := c.c.BLPop(ctx, timeout, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if len(kv) != 2 {
		return "", false, fmt.Errorf("go-redis: BLPOP returned %d values", len(kv))
	}
	return kv[1], true, nil
}

// XReadGroup implements drill.Consumer with ClusterClient.XReadGroup.
func (c goRedisClient) XReadGroup(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]drill.StreamEntry, error) {
	res, err := c.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer,
		Streams: []string{stream, ">"}, Count: int64(count), Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []drill.StreamEntry
	for _, s := range res {
		for _, m := range s.Messages {
			v, _ := m.Values[drill.StreamField].(string)
			out = append(out, drill.StreamEntry{ID: m.ID, Value: v})
		}
	}
	return out, nil
}

// XAck implements drill.Consumer.
func (c goRedisClient) XAck(ctx context.Context, stream, group string, ids ...string) error {
	return c.c.XAck(ctx, stream, group, ids...).Err()
}
