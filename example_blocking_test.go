package keel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

// A job queue: a consumer blocks on BLPOP until a producer pushes. The call
// runs on a connection of its own, so it holds up nothing else.
func ExampleClient_BLPop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	got := make(chan string)
	go func() {
		kv, err := client.BLPop(ctx, 0, "queue") // 0: wait with no limit
		if err != nil {
			got <- err.Error()
			return
		}
		got <- kv.Key + ": " + kv.Value
	}()
	if _, err := client.RPush(ctx, "queue", "job-1"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(<-got)

	// Nothing arrives within the timeout: ErrNil.
	_, err = client.BLPop(ctx, 50*time.Millisecond, "queue")
	fmt.Println(errors.Is(err, keel.ErrNil))

	// A cancelled context unblocks the call at once and takes nothing.
	cctx, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	_, err = client.BLPop(cctx, 0, "queue")
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// queue: job-1
	// true
	// true
}

// WAIT counts the writes made on its own connection, so it runs on a Watch,
// after writing through the same Watch.
func ExampleWait() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	err = client.Watch(ctx, func(w *keel.Watch) error {
		if _, err := keel.Run(ctx, w, keel.Set("balance", 100)); err != nil {
			return err
		}
		replicas, err := keel.Run(ctx, w, keel.Wait(1, 200*time.Millisecond))
		fmt.Println("replicas that have the write:", replicas)
		return err
	}, "balance")
	if err != nil {
		fmt.Println(err)
	}
	_, err = keel.Run(ctx, client, keel.Wait(1, 200*time.Millisecond))
	fmt.Println("on the client:", errors.Is(err, keel.ErrBlocking))
	// Output:
	// replicas that have the write: 1
	// on the client: true
}
