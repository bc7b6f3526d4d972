package drill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

// Subscribe implements Subscriber with keel's Client.Subscribe or
// Client.SSubscribe, which return once the server confirmed and restore the
// subscription by themselves after failures, with default options (a
// buffer of keel.DefaultSubscriptionBuffer messages). Messages the
// Subscription dropped (its buffer full) are reported to failed at the end.
func (k keelClient) Subscribe(ctx context.Context, channel string, sharded bool, deliver func(string), failed func(error)) (<-chan struct{}, error) {
	subscribe := k.c.Subscribe
	if sharded {
		subscribe = k.c.SSubscribe
	}
	sub, err := subscribe(ctx, channel)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
		for m := range sub.Messages() {
			deliver(m.Payload)
		}
		if stop() { // Messages closed first: the client was closed
			_ = sub.Close()
		}
		if n := sub.Dropped(); n > 0 {
			failed(fmt.Errorf("keel: the subscription dropped %d messages", n))
		}
	}()
	return done, nil
}

// BLPop implements Consumer with Client.BLPop.
func (k keelClient) BLPop(ctx context.Context, key string, timeout time.Duration) (string, bool, error) {
	kv, err := k.c.BLPop(ctx, timeout, key)
	if errors.Is(err, keel.ErrNil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return kv.Value, true, nil
}

// XReadGroup implements Consumer with Client.XReadGroup and Block.
func (k keelClient) XReadGroup(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]StreamEntry, error) {
	res, err := k.c.XReadGroup(ctx, keel.XReadGroupArgs{Group: group, Consumer: consumer,
		Streams: []string{stream}, Count: int64(count), Block: block})
	if err != nil {
		return nil, err
	}
	var out []StreamEntry
	for _, s := range res {
		for _, m := range s.Messages {
			e := StreamEntry{ID: m.ID}
			for _, f := range m.Fields {
				if f.Name == StreamField {
					e.Value = f.Value
				}
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// XAck implements Consumer with Client.XAck.
func (k keelClient) XAck(ctx context.Context, stream, group string, ids ...string) error {
	_, err := k.c.XAck(ctx, stream, group, ids...)
	return err
}
