package keel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

func ExampleClient_Do() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// Any command, routed by its keys.
	if _, err := client.Do(ctx, "XADD", "events", "1-1", "kind", "login"); err != nil {
		fmt.Println(err)
		return
	}
	n, err := client.Do(ctx, "XLEN", "events")
	fmt.Println(n, err)

	// A command that would change the connection every goroutine shares is
	// refused before it is sent.
	_, err = client.Do(ctx, "MULTI")
	fmt.Println(errors.Is(err, keel.ErrConnState))
	// Output:
	// 1 <nil>
	// true
}
