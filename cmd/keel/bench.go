package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/bench"
	"github.com/keel-go/keel/lab"
)

// runBench implements "keel bench": start a local cluster of three primaries,
// measure keel, rueidis and go-redis on it side by side (see package bench),
// and print the table; progress goes to stderr.
func runBench(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	cfg := bench.Config{Progress: stderr}
	var workloads, goroutines, clients, jsonPath string
	var quiet, fleet bool
	var fleetCfg bench.FleetConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "measured time per client, cell and round")
	fs.DurationVar(&cfg.Warmup, "warmup", bench.DefaultWarmup, "unmeasured load before each measured window")
	fs.IntVar(&cfg.Rounds, "rounds", bench.DefaultRounds, "rounds per cell; the clients take turns in each, each round starting with the next (A B C, B C A…)")
	fs.StringVar(&goroutines, "goroutines", joinInts(bench.DefaultGoroutines), "goroutine counts, comma-separated")
	fs.StringVar(&workloads, "workloads", joinWorkloads(bench.Workloads), "workloads, comma-separated")
	fs.StringVar(&clients, "clients", strings.Join(bench.ClientNames, ","), "clients, comma-separated")
	fs.IntVar(&cfg.Keys, "keys", bench.DefaultKeys, "keys read (pre-populated) and as many written")
	fs.IntVar(&cfg.MemoryClients, "memory-clients", bench.DefaultMemoryClients, "clients of each library opened together to measure memory per client and connection; 0 for none")
	fs.BoolVar(&cfg.NoLimit, "no-limit", false, "do not measure the servers' limit per workload with redis-benchmark")
	fs.StringVar(&jsonPath, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&fleet, "fleet", false, "measure a fleet instead: topology queries per client per second and recovery after a failover (see -fleet-*)")
	fs.IntVar(&fleetCfg.Clients, "fleet-clients", 200, "with -fleet: clients of each kind, run together")
	fs.DurationVar(&fleetCfg.Steady, "fleet-steady", 20*time.Second, "with -fleet: the steady-state window")
	fs.DurationVar(&fleetCfg.WriteEvery, "fleet-write-every", 0, "with -fleet: the pause between one client's writes (default 10ms, longer for fleets of more than 100 clients: at most 10,000 writes a second in all)")
	fs.StringVar(&fleetCfg.CPUProfileDir, "fleet-cpuprofile", "", "with -fleet: write a CPU profile of each window (steady, incident, after failover) to this directory")
	fs.DurationVar(&fleetCfg.Incident, "fleet-incident", 2*time.Second, "with -fleet: how long the killed primary stays unreplaced, and the window after the failover")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: keel bench [flags]\n\n"+
			"Starts a local Redis Cluster (3 primaries, no replicas) and measures keel,\n"+
			"rueidis and go-redis on it, interleaved, with their default options; before\n"+
			"each workload, redis-benchmark --cluster (pipelined) measures what the servers\n"+
			"deliver, and every figure is also shown as a share of that limit. Memory per\n"+
			"client and per connection is measured first.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err // flag.ErrHelp after -h, which main takes for success
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Workloads, err = bench.ParseWorkloads(workloads); err != nil {
		return fmt.Errorf("bench: -workloads: %w", err)
	}
	if cfg.Goroutines, err = bench.ParseGoroutines(goroutines); err != nil {
		return fmt.Errorf("bench: -goroutines: %w", err)
	}
	if cfg.Clients, err = bench.ParseClients(clients); err != nil {
		return fmt.Errorf("bench: -clients: %w", err)
	}
	if fleet {
		fleetCfg.Kinds = cfg.Clients
		if !quiet {
			fleetCfg.Progress = stderr
		}
		return runFleet(ctx, stdout, fleetCfg, args)
	}
	if cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Rounds < 1 || cfg.Keys < 100 || cfg.MemoryClients < 0 {
		return errors.New("bench: want -duration > 0, -warmup ≥ 0, -rounds ≥ 1, -keys ≥ 100 and -memory-clients ≥ 0")
	}
	if cfg.MemoryClients == 0 {
		cfg.MemoryClients = -1 // none; Config reads 0 as the default
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = -1 // none; Config reads 0 as the default
	}
	if quiet {
		cfg.Progress = nil
	}

	fmt.Fprintf(stderr, "keel bench: starting a local cluster; the measurements take about %v\n",
		bench.RoundDuration(cfg.EstimatedTime()))
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, Replicas: 0})
	if err != nil {
		return err
	}
	defer c.Close()
	cfg.Seeds = c.Addrs()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if jsonPath != "" {
		if err := writeJSONFile(jsonPath, rep); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "keel bench %s\n", strings.Join(args, " "))
	return rep.WriteText(stdout)
}

// runFleet implements "keel bench -fleet" (see bench.RunFleet).
func runFleet(ctx context.Context, stdout io.Writer, cfg bench.FleetConfig, args []string) error {
	if cfg.Clients < 1 || cfg.Steady <= 0 || cfg.Incident <= 0 {
		return errors.New("bench: want -fleet-clients ≥ 1, -fleet-steady > 0 and -fleet-incident > 0")
	}
	results, err := bench.RunFleet(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "keel bench %s\n", strings.Join(args, " "))
	fmt.Fprintln(stdout, "topology commands served per client per second: full (CLUSTER SHARDS/SLOTS/NODES) / ROLE")
	return bench.WriteFleetText(stdout, results)
}

func writeJSONFile(path string, rep *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func joinWorkloads(ws []bench.Workload) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = string(w)
	}
	return strings.Join(s, ",")
}
