package drill

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// WatchOptions configure [RunWatch].
type WatchOptions struct {
	// Target is the existing cluster.
	Target Target
	// Drivers are the clients to drive, all at once, each with its own
	// workload. Default: keel only.
	Drivers []Driver
	// Workload is each client's load. Zero fields take its defaults.
	Workload Workload
	// Bucket is the timeline's bucket width. Default 100ms.
	Bucket time.Duration
	// Duration stops the watch after this long. Default 0: until ctx ends
	// (Ctrl-C).
	Duration time.Duration
	// Progress, when set, is called about five times a second per client.
	Progress func(Progress)
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

// RunWatch drives the workload through every driver against an existing
// cluster until ctx ends or Duration passes, watching the cluster's own
// topology for the "served again" marks, then verifies the data and
// returns the report. Its runs are named scenario "watch". Every sample is
// kept in memory (about 40 bytes each: some 300 MB per hour at the
// default rate), so watch a maintenance window, not a week.
//
// The workload writes keys prefixed "drill:" and deletes them at the end.
func RunWatch(ctx context.Context, opts WatchOptions) (report.Report, error) {
	if len(opts.Drivers) == 0 {
		opts.Drivers = []Driver{KeelDriver{}}
	}
	if opts.Bucket <= 0 {
		opts.Bucket = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Workload = opts.Workload.withDefaults()
	rep := newReport("watch", opts.Drivers, opts.Workload, opts.Bucket)
	rep.Scenarios = []report.ScenarioInfo{{Name: "watch", Description: "an existing cluster, watched while its operator maintains it"}}

	// The watch ends with ctx; what follows it (closing, verifying) must not.
	work := context.WithoutCancel(ctx)
	layout, err := Discover(ctx, opts.Target)
	if err != nil {
		return rep, err
	}
	env := runEnv{target: opts.Target, layout: layout, slots: layout.FirstSlots()}
	rep.Settings.Shards = len(layout.Shards)
	rep.Settings.Replicas = len(layout.Shards[0].Replicas)

	var runs []*runCore
	defer func() {
		for _, rc := range runs {
			if rc.client != nil && rc.started.IsZero() {
				rc.client.Close()
			}
		}
	}()
	for i, d := range opts.Drivers {
		rc := &runCore{env: env, driver: d, scenario: "watch", work: opts.Workload, bucket: opts.Bucket,
			seq: i + 1, progress: opts.Progress, log: opts.Logger}
		if err := rc.open(work); err != nil {
			return rep, err
		}
		runs = append(runs, rc)
	}
	// An existing cluster is watched more gently than the lab's own: a
	// managed service's nodes may be far and busy.
	w, err := lab.WatchTarget(ctx, opts.Target.lab(), lab.WatchOptions{
		Interval: 50 * time.Millisecond, ProbeTimeout: 200 * time.Millisecond, MembersEvery: time.Second,
		Slots: env.slots, ProbeKey: "drill:probe"})
	if err != nil {
		return rep, fmt.Errorf("drill: watching the cluster: %w", err)
	}
	var stops []func()
	for _, rc := range runs {
		stops = append(stops, rc.start(work))
	}
	stopTicker := ticker(200*time.Millisecond, func() {
		for _, rc := range runs {
			rc.report("watching", opts.Duration)
		}
	})
	if opts.Duration > 0 {
		sleep(ctx, opts.Duration)
	} else {
		<-ctx.Done()
	}
	for _, stop := range stops {
		stop()
	}
	stopTicker()
	w.Close()
	events := w.Events()
	// Finish the latest-opened client first: each run counts goroutines left
	// since its own open, which includes the clients opened before it.
	for i := len(runs) - 1; i >= 0; i-- {
		run := runs[i].finish(work, events)
		rep.Runs = append([]report.Run{run}, rep.Runs...)
		if opts.Progress != nil {
			opts.Progress(Progress{Scenario: "watch", Client: run.Client, Phase: "done", Run: &run})
		}
	}
	rep.Finished = time.Now()
	return rep, nil
}
