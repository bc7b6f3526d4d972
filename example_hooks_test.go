package keel_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/keel-go/keel"
)

// A hook that logs slow or failed commands with the node that served them,
// and a second one that counts commands; the first listed is the outermost.
func ExampleHook() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := shared.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "node" || a.Key == "latency" {
				return slog.Attr{} // vary from run to run
			}
			return a
		},
	}))
	logSlow := keel.Hook{Command: func(next keel.CommandFunc) keel.CommandFunc {
		return func(ctx context.Context, cmd *keel.CommandInfo) error {
			err := next(ctx, cmd)
			if err != nil || cmd.Latency > 100*time.Millisecond {
				logger.Warn("redis command", "cmd", cmd.Name, "node", cmd.Node,
					"attempts", cmd.Attempts, "latency", cmd.Latency, "err", err)
			}
			return err
		}
	}}
	var commands, pipelined int
	count := keel.Hook{
		Command: func(next keel.CommandFunc) keel.CommandFunc {
			return func(ctx context.Context, cmd *keel.CommandInfo) error {
				commands++
				return next(ctx, cmd)
			}
		},
		Pipeline: func(next keel.PipelineFunc) keel.PipelineFunc {
			return func(ctx context.Context, p *keel.PipelineInfo) error {
				pipelined += len(p.Commands)
				return next(ctx, p)
			}
		},
	}
	client, err := keel.New(ctx, keel.Options{Seeds: cluster.Addrs(), Hooks: []keel.Hook{logSlow, count}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	_ = client.Set(ctx, "example:hook", "not a number")
	_, _ = client.Incr(ctx, "example:hook") // fails: logged
	client.Pipeline().Do("GET", "a").Do("GET", "b").Exec(ctx)
	fmt.Println(commands, "commands,", pipelined, "pipelined")
	// Output:
	// level=WARN msg="redis command" cmd=INCR attempts=1 err="ERR value is not an integer or out of range"
	// 2 commands, 2 pipelined
}

// NodeStats shows each node's share of the traffic.
func ExampleClient_NodeStats() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, done, err := exampleClient(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer done()
	for i := range 100 {
		_ = client.Set(ctx, fmt.Sprint("example:stats:", i), i)
	}
	var requests int64
	busy := 0
	for _, n := range client.NodeStats() {
		requests += n.Requests
		if n.Requests > 0 {
			busy++
		}
	}
	fmt.Println(busy, "nodes served", requests >= 100)
	// Output: 3 nodes served true
}
