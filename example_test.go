package keel_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

func ExampleNew() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A local three-shard cluster to run against.
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

	if err := client.Set(ctx, "greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	greeting, err := client.Get(ctx, "greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(greeting)
	// Output: hello
}

func ExampleClient_MGet() {
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

	// The keys are in different slots, on more than one shard: keel sends one
	// MSET, then one MGET, per slot and puts the replies back in order.
	if err := client.MSet(ctx, "user:1", "ada", "user:2", "grace", "user:3", "barbara"); err != nil {
		fmt.Println(err)
		return
	}
	keys := []string{"user:1", "user:2", "user:4", "user:3"}
	names, err := client.MGet(ctx, keys...)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, name := range names {
		if !name.Valid {
			fmt.Println(keys[i], "is missing")
			continue
		}
		fmt.Println(keys[i], "=", name.Value)
	}
	// Output:
	// user:1 = ada
	// user:2 = grace
	// user:4 is missing
	// user:3 = barbara
}

func ExamplePipeline() {
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

	// Commands on one key (or one slot) run in the order given.
	results := client.Pipeline().
		Do("SET", "visits", "10").
		Do("INCRBY", "visits", "5").
		Do("GET", "visits").
		Exec(ctx)
	for _, r := range results {
		if r.Err != nil {
			fmt.Println("error:", r.Err)
			continue
		}
		fmt.Println(r.Value)
	}
	// Output:
	// OK
	// 15
	// "15"
}

// Commands are values: the same definition runs on the client, or is queued
// in a pipeline, where its Future holds the typed result after Exec.
func ExampleQueue() {
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

	p := client.Pipeline()
	keel.Queue(p, keel.Set("visits", 41))
	visits := keel.Queue(p, keel.Incr("visits"))
	greeting := keel.Queue(p, keel.SetGet("greeting", []byte("hello")))
	p.Exec(ctx)

	n, err := visits.Result()
	fmt.Println(n, err)
	_, err = greeting.Result() // the key had no value before
	fmt.Println(errors.Is(err, keel.ErrNil))

	// The same definition, run alone.
	s, err := keel.Run(ctx, client, keel.Get("greeting"))
	fmt.Println(s, err)
	// Output:
	// 42 <nil>
	// true
	// hello <nil>
}
