// Command keel is keel's command-line tool. Its main job is the failover
// drill (keel drill): it breaks a local Redis Cluster the way maintenance
// does and measures how long each client stays down. It also has a demo of
// keel's client and a local cluster lab.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `keel — a Redis Cluster client that stays up through failovers

usage:
  keel drill [flags]   start a local Redis Cluster, break it the way maintenance
                       does (failover, kill, hang, replace, migrate, restarts)
                       while keel, go-redis and rueidis run the same workload,
                       and report each client's downtime side by side
  keel drill watch -seeds host:port[,...] [flags]
                       the same workload and report against an existing cluster
                       while its operator fails it over, until Ctrl-C
  keel drill soak -duration 1m [-seed N] [flags]
                       chaos soak: random faults on a local cluster for the
                       duration under the audited workload (lost and
                       duplicated writes, goroutines and heap over time)
  keel demo [flags]    start a local 3×1 cluster, load one keel.Client from
                       many goroutines, then pause a primary (how fast keel
                       notices) and kill one (how soon after the cluster keel
                       serves its callers again)
  keel lab up [flags]  start a local Redis Cluster, print how to connect to
                       it with redis-cli, and keep it up until Ctrl-C
  keel bench [flags]   start a local Redis Cluster and measure keel, rueidis
                       and go-redis on it side by side (GET, SET, MGET,
                       pipelines at 1–256 goroutines): req/s, p50/p99,
                       allocs/op; "keel bench -h" for its flags
  keel version         print keel's version and the keel library version it
                       was built with

Run "keel drill -h", "keel drill watch -h", "keel drill soak -h", "keel demo -h"
or "keel lab up -h" for their flags.
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
	case "drill":
		err = runDrill(ctx, os.Stdout, os.Stderr, os.Args[2:])
	case "demo":
		err = runDemo(ctx, os.Stdout, os.Args[2:])
	case "lab":
		err = runLab(ctx, os.Stdout, os.Args[2:])
	case "bench":
		err = runBench(ctx, os.Stdout, os.Stderr, os.Args[2:])
	case "version", "-version", "--version":
		err = runVersion(os.Stdout, os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "keel: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // a subcommand's -h printed its flags: asked for, not a failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keel:", err)
		if errors.Is(err, errAudit) || errors.Is(err, errGrowth) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}
