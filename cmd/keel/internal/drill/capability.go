package drill

import (
	"context"
	"time"
)

// The optional capabilities below sit beside [Client]: a driver's client
// implements those its library supports, and a scenario with probes (see
// [Scenario.Probes]) uses them. A client lacking one gets the probe reported
// as an error, not a failed run.

// Subscriber is a Client that can subscribe to Pub/Sub channels.
type Subscriber interface {
	// Subscribe subscribes to channel, with SSUBSCRIBE when sharded and
	// SUBSCRIBE otherwise, configured as the library's documentation
	// recommends for a cluster. It returns once the subscription is set up
	// (confirmed by the server where the library says so). Until ctx ends,
	// deliver receives each message's payload in order, from one goroutine;
	// the subscription is kept up through failures as the library does, or
	// as its documentation tells users to (resubscribing in a loop, for
	// instance). Errors the library reports along the way go to failed,
	// which may be called from any goroutine. done is closed once
	// everything Subscribe started has ended, after ctx ends.
	Subscribe(ctx context.Context, channel string, sharded bool, deliver func(payload string), failed func(error)) (done <-chan struct{}, err error)
}

// Consumer is a Client that can run blocking consumers: BLPOP on a list
// and XREADGROUP BLOCK on a stream.
type Consumer interface {
	// BLPop pops the first item of the list at key, waiting at most
	// timeout for one; found is false when the timeout passed first.
	BLPop(ctx context.Context, key string, timeout time.Duration) (value string, found bool, err error)
	// XReadGroup reads at most count new entries (ID ">") of stream as
	// consumer of group, waiting at most block for some; none when the
	// wait passed first.
	XReadGroup(ctx context.Context, stream, group, consumer string, count int, block time.Duration) ([]StreamEntry, error)
	// XAck acknowledges the entries ids of stream for group.
	XAck(ctx context.Context, stream, group string, ids ...string) error
}

// StreamEntry is one stream entry a consumer read.
type StreamEntry struct {
	ID string
	// Value is the entry's field "v", where the drill's producer puts the
	// item's sequence number.
	Value string
}

// StreamField is the field of the entries the producer adds.
const StreamField = "v"
