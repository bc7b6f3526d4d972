package keel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

func ExampleClient_Do() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()
	client, err := keel.New(ctx, keel.Options{Seeds: cluster.Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

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
