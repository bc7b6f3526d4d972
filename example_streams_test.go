package keel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

// A consumer group shares a stream's entries among workers: each entry goes
// to one consumer and stays pending until acknowledged; XAutoClaim hands a
// stalled consumer's entries to another.
func ExampleClient_XReadGroup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// The group delivers entries added from now on; MkStream creates the
	// stream if needed.
	err = client.XGroupCreateWith(ctx, "orders", "billing", "$", keel.XGroupCreateOptions{MkStream: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, item := range []string{"book", "lamp", "chair"} {
		if _, err := client.XAdd(ctx, keel.XAddArgs{Stream: "orders", Values: []any{"item", item, "qty", 1}}); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Worker one takes two orders and handles only the first.
	streams, err := client.XReadGroup(ctx, keel.XReadGroupArgs{
		Group: "billing", Consumer: "worker-1", Streams: []string{"orders"}, Count: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	first := streams[0].Messages[0]
	item, _ := first.Get("item")
	fmt.Println("worker-1 got", len(streams[0].Messages), "orders, handles", item)
	if _, err := client.XAck(ctx, "orders", "billing", first.ID); err != nil {
		fmt.Println(err)
		return
	}

	pending, err := client.XPending(ctx, "orders", "billing")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pending:", pending.Count, "with worker-1:", pending.Consumers["worker-1"])

	// Worker two takes over what worker one left pending (idle for any time
	// here; a real worker would ask for a minimum, say a minute).
	claimed, err := client.XAutoClaim(ctx, "orders", keel.XAutoClaimArgs{Group: "billing", Consumer: "worker-2"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range claimed.Messages {
		item, _ := m.Get("item")
		fmt.Println("worker-2 claimed", item)
	}
	// Output:
	// worker-1 got 2 orders, handles book
	// pending: 1 with worker-1: 1
	// worker-2 claimed lamp
}
