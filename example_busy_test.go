package keel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-go/keel"
)

// A node busy with one slow command (here a script spinning for 0.8 s, past
// the 0.5 s health timeout) is not taken for a hung one: it answers keel's
// probe on a second connection once the script is done, so the commands
// queued behind the script get their replies and the node is never
// suspected.
func ExampleOptions_busyTimeout() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := shared.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := keel.New(ctx, keel.Options{
		Seeds:         cluster.Addrs()[:1],
		HealthTimeout: 500 * time.Millisecond,
		BusyTimeout:   5 * time.Second, // a node answering probes may hold a request this long
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	spin := `local t = redis.call('TIME'); local start = t[1] * 1e6 + t[2]
repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] - start > tonumber(ARGV[1])
return 1`
	// One pipeline: the GET is queued behind the script on the node's
	// connection, which has no reply for longer than the health timeout.
	results := client.Pipeline().
		Do("EVAL", spin, 1, "{busy}script", 800_000).
		Do("SET", "{busy}key", "v").
		Exec(ctx)
	for _, r := range results {
		fmt.Println(r.Value, r.Err)
	}
	fmt.Println("suspect nodes:", client.Stats().SuspectNodes)
	// Output:
	// 1 <nil>
	// OK <nil>
	// suspect nodes: 0
}
