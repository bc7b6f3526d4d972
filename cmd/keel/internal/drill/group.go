package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// groupLab is the lab group a replication or Sentinel scenario runs on: one
// primary and its replica, reached as the group's clients reach it.
type groupLab interface {
	// target says how clients reach the group.
	target() Target
	// primary returns the address of the primary of the moment.
	primary(ctx context.Context) (string, error)
	// do carries out one step of the scenario.
	do(ctx context.Context, st Step) (groupStep, error)
	Close() error
}

// groupStep is what one step did to a group.
type groupStep struct {
	lab.Step
	// unserved says the group stopped serving writes when the step began.
	unserved bool
	// served is when the group served writes again, and servedBy the
	// primary that did; zero when the step did not stop the serving.
	served   time.Time
	servedBy string
	// lossUntil, when set, ends the time in which the old primary could
	// acknowledge writes that the group then lost by design (asynchronous
	// replication): see runCore.lossUntil.
	lossUntil time.Time
}

// runGroupInLab runs one driver through one replication or Sentinel
// scenario on the group start returns, and closes it. loadStopped is called
// once the workload has stopped.
//
// The group's own serving is marked from the steps: served from the start,
// unserved when a step that stops it began, served again when the step says
// (see the groupLab implementations).
func runGroupInLab(ctx context.Context, opts Options, sc Scenario, d Driver, seq int, loadStopped func(), start func(context.Context) (groupLab, error)) report.Run {
	rc := &runCore{driver: d, scenario: sc.Name, work: opts.Workload, bucket: opts.Bucket,
		seq: seq, progress: opts.Progress, log: opts.Logger}
	rc.run = report.Run{Scenario: sc.Name, Client: d.Name()}
	rc.report("starting", 0)
	defer loadStopped()
	g, err := start(ctx)
	if err != nil {
		rc.setError(fmt.Errorf("starting the %s: %w", sc.kind(), err))
		return rc.run
	}
	defer g.Close()
	primary, err := g.primary(ctx)
	if err != nil {
		rc.setError(err)
		return rc.run
	}
	rc.env.target = g.target()
	rc.env.layout = replicationLayout(primary)
	rc.env.slots = rc.env.layout.FirstSlots()
	if err := rc.open(ctx); err != nil {
		rc.setError(err)
		return rc.run
	}
	stopLoad := rc.start(ctx)
	rc.markers = append(rc.markers, report.Marker{At: 0, Kind: report.MarkServed, Shard: replicationShard, Label: "served by " + primary})

	setPhase, stopTicker := rc.reportPhases(sc)
	servedAt, err := groupSteps(ctx, sc, g, rc, setPhase)
	if err != nil {
		rc.setError(err)
	}
	setPhase("recovery")
	rc.replTail(ctx, sc)
	stopLoad()
	stopTicker()
	run := rc.finish(context.WithoutCancel(ctx), nil)
	run.Figures.ReadOnlyAfterServed = readOnlyAfter(rc.load.rec.Samples(), servedAt)
	return run
}

// groupSteps waits out the warm-up, then carries out each step after its
// delay, marking it and the group's serving on the timeline. It returns
// when the group served writes again after the last step that stopped it.
func groupSteps(ctx context.Context, sc Scenario, g groupLab, rc *runCore, phase func(string)) (servedAt time.Duration, err error) {
	if err := sleep(ctx, time.Duration(sc.Warmup)); err != nil {
		return 0, err
	}
	phase("fault")
	for _, st := range sc.Steps {
		if err := sleep(ctx, time.Duration(st.After)); err != nil {
			return servedAt, err
		}
		gs, err := g.do(ctx, st)
		label := gs.Action + " " + gs.Node
		if gs.Detail != "" {
			label += " (" + gs.Detail + ")"
		}
		if !gs.Began.IsZero() {
			at := gs.Began.Sub(rc.started)
			rc.markers = append(rc.markers, report.Marker{At: at, Kind: report.MarkStep, Shard: replicationShard, Label: label})
			if gs.unserved {
				rc.markers = append(rc.markers, report.Marker{At: at, Kind: report.MarkUnserved, Shard: replicationShard, Label: "unserved"})
			}
		}
		if !gs.Done.IsZero() {
			rc.markers = append(rc.markers, report.Marker{At: gs.Done.Sub(rc.started), Kind: report.MarkStepDone, Shard: replicationShard, Label: label})
		}
		if !gs.lossUntil.IsZero() {
			rc.lossUntil = gs.lossUntil.Sub(rc.started)
		}
		if err != nil {
			return servedAt, fmt.Errorf("drill: %s: %w", label, err)
		}
		if !gs.served.IsZero() {
			servedAt = gs.served.Sub(rc.started)
			rc.markers = append(rc.markers, report.Marker{At: servedAt, Kind: report.MarkServed, Shard: replicationShard, Label: "served by " + gs.servedBy})
		}
	}
	return servedAt, nil
}

// watchExit records when s's process exits: the returned function stops
// watching and returns that instant, zero if it has not exited.
func watchExit(s *lab.Server) (exitedAt func() time.Time) {
	var at time.Time
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-s.Exited():
			at = time.Now()
		case <-stop:
			select {
			case <-s.Exited():
				at = time.Now()
			default:
			}
		}
	}()
	return func() time.Time {
		close(stop)
		<-done
		return at
	}
}
