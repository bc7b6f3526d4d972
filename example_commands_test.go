package keel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

func ExampleQueue_sortedSet() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// A command is defined once: client.ZAdd runs keel.ZAdd, and Queue puts
	// the same definition in a pipeline, its result typed.
	p := client.Pipeline()
	added := keel.Queue(p, keel.ZAdd("scores", keel.Z{Member: "ada", Score: 36}, keel.Z{Member: "grace", Score: 85}))
	top := keel.Queue(p, keel.ZRangeByWithScores("scores", keel.ZRangeArgs{Start: "+inf", Stop: "-inf", ByScore: true, Rev: true, Count: 1}))
	missing := keel.Queue(p, keel.Get("nobody"))
	bad := keel.Queue(p, keel.Set("key", nil)) // refused before sending
	p.Exec(ctx)

	fmt.Println(added.Val())
	fmt.Println(top.Val())
	fmt.Println(missing.Err())
	fmt.Println(bad.Err())

	// Run runs one Cmd alone: here the same as client.ZScore.
	score, err := keel.Run(ctx, client, keel.ZScore("scores", "ada"))
	fmt.Println(score, err)
	// Output:
	// 2
	// [{grace 85}]
	// resp: nil reply
	// keel: SET: bad argument: nil
	// 36 <nil>
}

func ExampleHGetAllAs() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	type User struct {
		Name    string        `redis:"name"`
		Age     int           `redis:"age"`
		Admin   bool          `redis:"admin"`
		Timeout time.Duration `redis:"timeout"`
		Notes   string        // untagged: not read
	}
	if _, err := client.HSet(ctx, "user:1", "name", "ada", "age", 36, "admin", true, "timeout", "1m30s"); err != nil {
		fmt.Println(err)
		return
	}
	u, err := keel.Run(ctx, client, keel.HGetAllAs[User]("user:1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", u)

	// ScanStruct reads any map reply, such as an untyped command's.
	v, err := client.Do(ctx, "HGETALL", "user:1")
	var again User
	if err == nil {
		err = keel.ScanStruct(v, &again)
	}
	fmt.Println(again.Name, again.Age, err)

	// A value that does not convert names the field.
	if _, err := client.HSet(ctx, "user:2", "age", "old"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = keel.Run(ctx, client, keel.HGetAllAs[User]("user:2"))
	fmt.Println(err)
	// Output:
	// {Name:ada Age:36 Admin:true Timeout:1m30s Notes:}
	// ada 36 <nil>
	// keel: scan hash field "age" into keel_test.User.Age: resp: unexpected reply type: strconv.ParseInt: parsing "old": invalid syntax
}
