package keel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

// streamWorker is a consumer-group worker loop: it waits for entries with
// XREADGROUP BLOCK, handles each and acknowledges it (XACK), and every
// claimEvery takes over entries left pending longer than staleAfter by
// consumers that stopped (XAUTOCLAIM). It returns when ctx ends.
//
// Failures are part of the loop. A read whose outcome is unknown (its
// connection was lost while it waited, in a failover say) may have moved
// entries to this consumer's pending list with the reply lost: the worker
// then reads its own history (ID "0") before new entries again, so they are
// handled now rather than claimed later. An entry handled is remembered for
// rememberFor, and acknowledged without being handled again when it comes
// back: its XACK failed, or was lost with a primary that failed over before
// its replica had it.
type streamWorker struct {
	client                  *keel.Client
	stream, group, consumer string
	handle                  func(keel.XMessage)
	claimEvery, staleAfter  time.Duration

	handled map[string]time.Time // entries handled recently, and when
}

// rememberFor is how long a handled entry is remembered: well beyond the
// time a failover takes, and staleAfter, after which a lost XACK brings the
// entry back.
const rememberFor = time.Minute

// forget drops the entries handled longer ago than rememberFor.
func (w *streamWorker) forget() {
	for id, at := range w.handled {
		if time.Since(at) > rememberFor {
			delete(w.handled, id)
		}
	}
}

func (w *streamWorker) run(ctx context.Context) {
	w.handled = map[string]time.Time{}
	history := true // start with this consumer's pending entries, from a previous run
	lastClaim := time.Now()
	for ctx.Err() == nil {
		if time.Since(lastClaim) >= w.claimEvery {
			lastClaim = time.Now()
			w.forget()
			claimed, err := w.client.XAutoClaim(ctx, w.stream, keel.XAutoClaimArgs{
				Group: w.group, Consumer: w.consumer, MinIdle: w.staleAfter, Count: 100,
			})
			if err == nil {
				w.process(ctx, claimed.Messages)
			}
		}
		id := ">"
		if history {
			id = "0"
		}
		streams, err := w.client.XReadGroup(ctx, keel.XReadGroupArgs{
			Group: w.group, Consumer: w.consumer, Streams: []string{w.stream}, IDs: []string{id},
			Count: 100, Block: time.Second,
		})
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, keel.ErrUnknownOutcome):
			history = true // entries may be pending here, their reply lost
			continue
		case err != nil:
			// The cluster is failing over, say: keel already retried what it
			// safely could. Pause, and go on.
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		var msgs []keel.XMessage
		for _, s := range streams {
			msgs = append(msgs, s.Messages...)
		}
		if history && len(msgs) == 0 {
			history = false // history read: back to new entries
		}
		w.process(ctx, msgs)
	}
}

// process handles and acknowledges entries, handling none twice.
func (w *streamWorker) process(ctx context.Context, msgs []keel.XMessage) {
	for _, m := range msgs {
		if m.Deleted {
			continue
		}
		if _, done := w.handled[m.ID]; !done {
			w.handle(m)
			w.handled[m.ID] = time.Now()
		}
		// A handled entry is acknowledged even when the worker is stopping.
		// A failed XACK leaves it pending: it comes back, and is acknowledged
		// then.
		ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		_, _ = w.client.XAck(ackCtx, w.stream, w.group, m.ID)
		cancel()
	}
}

// A worker of a consumer group runs until its context ends, blocking on
// XREADGROUP between entries; see streamWorker for how it rides out
// failovers without losing an entry or handling one twice.
func ExampleClient_XReadGroup_worker() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	err = client.XGroupCreateWith(ctx, "jobs", "workers", "$", keel.XGroupCreateOptions{MkStream: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	workCtx, stop := context.WithCancel(ctx)
	handled := 0
	w := &streamWorker{
		client: client, stream: "jobs", group: "workers", consumer: "worker-1",
		claimEvery: 5 * time.Second, staleAfter: time.Minute,
		handle: func(m keel.XMessage) {
			job, _ := m.Get("job")
			fmt.Println("handled", job)
			if handled++; handled == 3 {
				stop() // enough for the example
			}
		},
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		w.run(workCtx)
	}()
	for _, job := range []string{"resize", "encode", "publish"} {
		if _, err := client.XAdd(ctx, keel.XAddArgs{Stream: "jobs", Values: []any{"job", job}}); err != nil {
			fmt.Println(err)
		}
	}
	<-finished
	pending, err := client.XPending(ctx, "jobs", "workers")
	fmt.Println("pending:", pending.Count, err)
	// Output:
	// handled resize
	// handled encode
	// handled publish
	// pending: 0 <nil>
}
