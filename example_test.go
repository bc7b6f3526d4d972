package keel_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// exampleClient connects to the cluster the tests share, emptied (FLUSHALL)
// so that each example starts from no keys; done closes the client. Examples
// run one at a time, after every test, so emptying it disturbs nobody.
// ExampleNew shows the whole setup.
func exampleClient(ctx context.Context) (client *keel.Client, done func(), err error) {
	cluster, err := shared.Start()
	if err != nil {
		return nil, nil, err
	}
	client, err = keel.New(ctx, keel.Options{Seeds: cluster.Addrs()})
	if err != nil {
		return nil, nil, err
	}
	if _, err := client.Do(ctx, "FLUSHALL"); err != nil {
		client.Close()
		return nil, nil, err
	}
	return client, func() { client.Close() }, nil
}

func ExampleClient_MGet() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

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
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

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
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

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

func ExampleClient_Tx() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// Both keys share the hash tag {user42}, so they are in one slot.
	tx := client.Tx()
	visits := keel.Queue(tx, keel.Incr("{user42}visits"))
	keel.Queue(tx, keel.Set("{user42}last", "home"))
	if _, err := tx.Exec(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(visits.Val())
	// Output: 1
}

func ExampleClient_Watch() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// Double a balance: read it, then write it back only if nobody changed
	// it meanwhile. Watch runs the function again if somebody did.
	if err := client.Set(ctx, "{acct7}balance", 21); err != nil {
		fmt.Println(err)
		return
	}
	err = client.Watch(ctx, func(w *keel.Watch) error {
		balance, err := keel.Run(ctx, w, keel.Get("{acct7}balance"))
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(balance)
		tx := w.Tx()
		keel.Queue(tx, keel.Set("{acct7}balance", 2*n))
		_, err = tx.Exec(ctx)
		return err
	}, "{acct7}balance")
	if err != nil {
		fmt.Println(err)
		return
	}
	balance, _ := client.Get(ctx, "{acct7}balance")
	fmt.Println(balance)
	// Output: 42
}
