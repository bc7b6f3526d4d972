// Command keel is keel's command-line tool: a demo of keel's connection and a
// local Redis Cluster lab. The failover drill joins them as the main job.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `keel — a Redis Cluster client that stays up through failovers

usage:
  keel demo [flags]    start a local redis-server, drive one auto-pipelined
                       connection under load, then pause and kill the server
                       and show how fast the connection notices
  keel lab up [flags]  start a local Redis Cluster, print how to connect to
                       it with redis-cli, and keep it up until Ctrl-C

Run "keel demo -h" or "keel lab up -h" for their flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch os.Args[1] {
	case "demo":
		err = runDemo(ctx, os.Stdout, os.Args[2:])
	case "lab":
		err = runLab(ctx, os.Stdout, os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "keel: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keel:", err)
		os.Exit(1)
	}
}
