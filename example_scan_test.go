package keel_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/keel-go/keel"
)

func ExampleClient_Scan() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// Keys on every shard; Scan visits each shard's primary in turn.
	for _, k := range []string{"user:1", "user:2", "user:3", "order:1"} {
		if err := client.Set(ctx, k, "x"); err != nil {
			fmt.Println(err)
			return
		}
	}
	var users []string
	for key, err := range client.Scan(ctx, keel.ScanOptions{Match: "user:*", Count: 1000}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		users = append(users, key)
	}
	// Scan returns keys in no particular order, and may return one twice.
	slices.Sort(users)
	fmt.Println(slices.Compact(users))
	// Output: [user:1 user:2 user:3]
}

func ExampleClient_HScan() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	if _, err := client.HSet(ctx, "user:1", "name", "Ada", "lang", "en"); err != nil {
		fmt.Println(err)
		return
	}
	fields := map[string]string{}
	for f, err := range client.HScan(ctx, "user:1", keel.ScanOptions{}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fields[f.Field] = f.Value
	}
	fmt.Println(fields)
	// Output: map[lang:en name:Ada]
}
