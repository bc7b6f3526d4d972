package keel_test

import (
	"context"
	"fmt"
	"time"
)

// A subscription delivers messages in order on a channel; keel keeps it
// subscribed through failovers and lost connections, reporting each gap as
// an EventResubscribed.
func ExampleClient_Subscribe() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	sub, err := client.Subscribe(ctx, "news")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()

	for _, headline := range []string{"keel 1.0", "Redis 8"} {
		if _, err := client.Publish(ctx, "news", headline); err != nil {
			fmt.Println(err)
			return
		}
	}
	for range 2 {
		m := <-sub.Messages()
		fmt.Println(m.Channel+":", m.Payload)
	}
	fmt.Println("dropped:", sub.Dropped())
	// Output:
	// news: keel 1.0
	// news: Redis 8
	// dropped: 0
}

// Sharded channels are served by the primary owning their slot: SPublish
// goes there, and so does the SSubscribe connection.
func ExampleClient_SSubscribe() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	sub, err := client.SSubscribe(ctx, "orders:eu", "orders:us")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()

	n, err := client.SPublish(ctx, "orders:eu", "order 17")
	if err != nil {
		fmt.Println(err)
		return
	}
	m := <-sub.Messages()
	fmt.Println(n, "receiver;", m.Channel+":", m.Payload)
	// Output: 1 receiver; orders:eu: order 17
}
