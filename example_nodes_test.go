package keel_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel"
)

func ExampleClient_ForEachPrimary() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	if err := client.MSet(ctx, "a", "1", "b", "2", "c", "3"); err != nil {
		fmt.Println(err)
		return
	}
	// INFO answers for one node, so Client.Do refuses it; ask each primary.
	var keys atomic.Int64
	err = client.ForEachPrimary(ctx, func(ctx context.Context, n *keel.Node) error {
		info, err := n.Do(ctx, "INFO", "keyspace")
		if err != nil {
			return err
		}
		var count int64
		if i := strings.Index(info.Str, "keys="); i >= 0 {
			fmt.Sscanf(info.Str[i:], "keys=%d", &count)
		}
		keys.Add(count)
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// DBSIZE through Client.Do is the whole cluster's.
	size, err := client.Do(ctx, "DBSIZE")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("keys on the primaries:", keys.Load(), "DBSIZE:", size)
	// Output: keys on the primaries: 3 DBSIZE: 3
}

func ExampleScript() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()

	// Make a Script once. Run sends EVALSHA, and the source only to a node
	// that does not have it yet.
	incrMax := keel.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n > tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]); return tonumber(ARGV[1]) end
return n`)
	for range 3 {
		v, err := incrMax.Run(ctx, client, []string{"visits"}, 2)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(v)
	}
	// Output:
	// 1
	// 2
	// 2
}
