package peers

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/rueidis"
)

// Subscribe implements drill.Subscriber as rueidis's README ("Pub/Sub")
// shows it: Client.Receive with a SUBSCRIBE (or SSUBSCRIBE) command, which
// blocks while the subscription lasts, in a loop: Receive returns nil on an
// unsubscribe message (the server's SUNSUBSCRIBE after a slot migration)
// and an error when the connection breaks, and calling it again
// resubscribes, on the node that serves the channel's slot for SSUBSCRIBE
// and on any node for SUBSCRIBE. After an error the loop pauses
// drill.RetryPause, as the drill's consumers do. The subscription hook
// (WithOnSubscriptionHook) tells when the server confirmed the first
// subscription.
func (c rueidisClient) Subscribe(ctx context.Context, channel string, sharded bool, deliver func(string), failed func(error)) (<-chan struct{}, error) {
	cmd := func() rueidis.Completed {
		if sharded {
			return c.c.B().Ssubscribe().Channel(channel).Build()
		}
		return c.c.B().Subscribe().Channel(channel).Build()
	}
	confirmed := make(chan struct{}, 1)
	hooked := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
		if s.Kind == "subscribe" || s.Kind == "ssubscribe" {
			select {
			case confirmed <- struct{}{}:
			default:
			}
		}
	})
	done := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := c.c.Receive(hooked, cmd(), func(m rueidis.PubSubMessage) { deliver(m.Message) })
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				failed(rueidisErr(err))
				select {
				case ended <- err:
				default:
				}
				select {
				case <-ctx.Done():
				case <-time.After(drill.RetryPause):
				}
			}
		}
	}()
	select {
	case <-confirmed:
		return done, nil
	case err := <-ended:
		return done, fmt.Errorf("rueidis: subscribing: %w", err)
	case <-time.After(subscribeConfirmTimeout):
		return done, fmt.Errorf("rueidis: no subscription confirmed within %v", subscribeConfirmTimeout)
	case <-ctx.Done():
		return done, ctx.Err()
	}
}

// subscribeConfirmTimeout bounds the wait for the first confirmation.
const subscribeConfirmTimeout = 10 * time.Second

// BLPop implements drill.Consumer. rueidis sends blocking commands on
// connections of its own pool, not on the shared pipeline.
func (c rueidisClient) BLPop(ctx context.Context, key string, timeout time.Duration) (string, bool, error) {
	kv, err := c.c.Do(ctx, c.c.B().Blpop().Key(key).Timeout(timeout.Seconds()).Build()).AsStrSlice()
	if rueidis.IsRedisNil(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, rueidisErr(err)
	}
	if len(kv) != 2 {
		return "", false, fmt.Errorf("rueidis: BLPOP returned %d values", len(kv))
	}
	return kv[1], true, nil
}

// XReadGroup implements drill.Consumer.
func (c rueidisClient) XReadGroup(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]drill.StreamEntry, error) {
	res, err := c.c.Do(ctx, c.c.B().Xreadgroup().Group(group, consumer).Count(int64(count)).
		Block(block.Milliseconds()).Streams().Key(stream).Id(">").Build()).AsXRead()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, rueidisErr(err)
	}
	var out []drill.StreamEntry
	for _, e := range res[stream] {
		out = append(out, drill.StreamEntry{ID: e.ID, Value: e.FieldValues[drill.StreamField]})
	}
	return out, nil
}

// XAck implements drill.Consumer.
func (c rueidisClient) XAck(ctx context.Context, stream, group string, ids ...string) error {
	return rueidisErr(c.c.Do(ctx, c.c.B().Xack().Key(stream).Group(group).Id(ids...).Build()).Error())
}
