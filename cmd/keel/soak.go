package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// errGrowth marks a soak whose goroutines or client heap grew from the first
// sample to the last beyond the allowance: main exits with status 3.
var errGrowth = errors.New("a client's goroutines or heap grew during the soak")

// runSoak implements "keel drill soak".
func runSoak(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f drillFlags
	var plan drill.Soak
	var duration, maxGap time.Duration
	var seed, faults string
	var shape drill.ClusterShape
	var network bool
	fs := flag.NewFlagSet("drill soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, "keel")
	fs.DurationVar(&duration, "duration", time.Minute, "how long to inject faults (then the run waits for the cluster and the client to settle)")
	fs.StringVar(&seed, "seed", "", "seed of the fault sequence, to replay a soak (default: a random one, printed)")
	fs.StringVar(&faults, "faults", "", "kinds of fault to draw, comma-separated (default: all; see below)")
	fs.DurationVar(&maxGap, "max-gap", 2*time.Second, "longest random pause after each fault")
	fs.IntVar(&shape.Shards, "shards", 3, "primaries in the local cluster")
	fs.IntVar(&shape.Replicas, "replicas", 1, "replicas per primary (at least 1)")
	fs.DurationVar(&shape.NodeTimeout, "node-timeout", time.Second, "cluster-node-timeout")
	fs.BoolVar(&network, "network", false, "give each node a network namespace of its own (Linux, as root) and draw partitions too")
	// The summary charts a whole soak: 100 ms buckets would make an hour's
	// report needlessly large.
	fs.Lookup("bucket").DefValue, f.bucket = "1s", time.Second
	f.jsonPath, f.htmlPath = "soak-report.json", "soak-report.html"
	fs.Lookup("json").DefValue, fs.Lookup("html").DefValue = f.jsonPath, f.htmlPath
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: keel drill soak [-duration 1m] [-seed N] [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nfaults:")
		for _, l := range drill.SoakFaults() {
			fmt.Fprintf(stderr, "  %s\n", l)
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("drill soak: unexpected argument %q", fs.Arg(0))
	}
	if shape.Replicas < 1 {
		return fmt.Errorf("drill soak: -replicas must be at least 1: failovers need a replica")
	}
	plan.Duration, plan.MaxGap = drill.Duration(duration), drill.Duration(maxGap)
	if maxGap == 0 {
		plan.MaxGap = drill.Duration(time.Nanosecond) // 0 would mean the default
	}
	if seed == "" {
		plan.Seed = rand.Uint64()
	} else if _, err := fmt.Sscan(seed, &plan.Seed); err != nil {
		return fmt.Errorf("drill soak: -seed %q: want an unsigned integer", seed)
	}
	if faults != "" {
		for _, k := range strings.Split(faults, ",") {
			plan.Faults = append(plan.Faults, strings.TrimSpace(k))
		}
	}
	sc := drill.SoakScenario(plan, network)
	if err := sc.Check(); err != nil {
		return err
	}
	drivers, err := selectDrivers(f.clients)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "soak: seed %d (replay with -seed %d), faults for %v per client\n", plan.Seed, plan.Seed, duration)
	pr := newProgress(stderr, f.quiet)
	rep, err := drill.RunSuite(ctx, drill.Options{Scenarios: []drill.Scenario{sc}, Drivers: drivers, Cluster: shape,
		Workload: drill.Workload{Rate: f.rate, Timeout: f.timeout}, Bucket: f.bucket, Progress: pr.update})
	pr.clear()
	if cerr := conclude(stdout, rep, err, f); cerr != nil || err != nil {
		return cerr
	}
	return growthVerdict(rep, f.failOn)
}

// growthVerdict fails a soak that could not be carried out for a client
// that -fail-on-loss names, or in which such a client grew its goroutines
// or heap (report.Series.Grew; errGrowth).
func growthVerdict(rep report.Report, failOn string) error {
	var bad, failed []string
	for _, r := range rep.Runs {
		if !failsOnLoss(failOn, r.Client) {
			continue
		}
		if r.Error != "" {
			failed = append(failed, fmt.Sprintf("%s: %s", r.Client, r.Error))
			continue
		}
		if s := r.Soak; s != nil && (s.Goroutines.Grew || s.ClientHeap.Grew) {
			bad = append(bad, fmt.Sprintf("%s: goroutines %d → %d, client heap %d → %d bytes",
				r.Client, s.Goroutines.First, s.Goroutines.Last, s.ClientHeap.First, s.ClientHeap.Last))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the soak could not be carried out:\n  %s", strings.Join(failed, "\n  "))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w:\n  %s", errGrowth, strings.Join(bad, "\n  "))
	}
	return nil
}
