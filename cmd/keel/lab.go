package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keel-go/keel/lab"
)

// runLab implements "keel lab up": start a local cluster, print how to reach
// it, and keep it running until ctx ends (Ctrl-C).
func runLab(ctx context.Context, out io.Writer, args []string) error {
	if len(args) == 0 || args[0] != "up" {
		return errors.New(`lab: usage: keel lab up [flags]`)
	}
	var opts lab.ClusterOptions
	fs := flag.NewFlagSet("lab up", flag.ContinueOnError)
	fs.IntVar(&opts.Shards, "shards", 3, "primaries")
	fs.IntVar(&opts.Replicas, "replicas", 1, "replicas per primary")
	fs.DurationVar(&opts.NodeTimeout, "node-timeout", time.Second, "cluster-node-timeout")
	fs.BoolVar(&opts.DistinctHosts, "distinct-hosts", false, "give every node its own 127.x address (same port)")
	fs.StringVar(&opts.Password, "password", "", "requirepass for every node")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}

	c, err := lab.StartCluster(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := describeCluster(ctx, out, c); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(out, "stopping the cluster")
	return nil
}

// describeCluster prints the nodes and the redis-cli command to connect.
func describeCluster(ctx context.Context, out io.Writer, c *lab.Cluster) error {
	top, err := c.Topology(ctx)
	if err != nil {
		return err
	}
	o := c.Options()
	fmt.Fprintf(out, "keel lab: %d shards × %d replicas on loopback, node timeout %v\n", o.Shards, o.Replicas, o.NodeTimeout)
	for _, sh := range top.Shards {
		var slots []string
		for _, r := range sh.Slots {
			slots = append(slots, r.String())
		}
		fmt.Fprintf(out, "  %-8s %-21s primary  slots %s\n", sh.Primary.Name(), sh.Primary.Addr(), strings.Join(slots, ","))
		for _, r := range sh.Replicas {
			fmt.Fprintf(out, "  %-8s %-21s replica of %s\n", r.Name(), r.Addr(), sh.Primary.Name())
		}
	}
	first := top.Shards[0].Primary
	auth := ""
	if o.Password != "" {
		auth = " -a " + o.Password
	}
	fmt.Fprintf(out, "connect: redis-cli -c -h %s -p %d%s\n", first.Host(), first.Port(), auth)
	fmt.Fprintf(out, "seeds:   %s\n", strings.Join(c.Addrs(), ","))
	fmt.Fprintln(out, "Ctrl-C stops the cluster and removes its files.")
	return nil
}
