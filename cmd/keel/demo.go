package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

type demoConfig struct {
	goroutines  int
	duration    time.Duration
	health      time.Duration
	nodeTimeout time.Duration
}

// demoShards is the size of the demo's cluster: each shard has one replica.
const demoShards = 3

// runDemo implements "keel demo": one keel.Client on a local cluster, under
// load, while a primary is paused and then killed.
func runDemo(ctx context.Context, out io.Writer, args []string) error {
	var cfg demoConfig
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.IntVar(&cfg.goroutines, "goroutines", 64, "concurrent callers sharing the client, spread over the shards")
	fs.DurationVar(&cfg.duration, "duration", 2*time.Second, "how long the first act runs the load")
	fs.DurationVar(&cfg.health, "health-timeout", time.Second, "keel.Options.HealthTimeout: how long a node may leave a request unanswered before keel suspects it")
	fs.DurationVar(&cfg.nodeTimeout, "node-timeout", 2*time.Second, "the cluster's cluster-node-timeout; longer than -health-timeout, so the pause is over before the cluster fails the node over")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.goroutines < demoShards || cfg.duration <= 0 || cfg.health <= 0 {
		return fmt.Errorf("demo: -goroutines must be at least %d (one per shard), -duration and -health-timeout positive", demoShards)
	}
	if cfg.nodeTimeout <= cfg.health {
		return errors.New("demo: -node-timeout must be longer than -health-timeout")
	}

	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: demoShards, Replicas: 1, NodeTimeout: cfg.nodeTimeout})
	if err != nil {
		return err
	}
	defer c.Close()
	top, err := c.Topology(ctx)
	if err != nil {
		return err
	}
	var slots []int
	for _, sh := range top.Shards {
		slots = append(slots, sh.Slots[0].Start)
	}
	w, err := c.Watch(ctx, lab.WatchOptions{Slots: slots})
	if err != nil {
		return err
	}
	defer w.Close()

	suspects := make(chan keel.Event, 64)
	cl, err := keel.New(ctx, keel.Options{
		Seeds:         c.Addrs(),
		ClientName:    "keel-demo",
		HealthTimeout: cfg.health,
		OnEvent: func(ev keel.Event) {
			if ev.Kind == keel.EventNodeSuspect {
				select {
				case suspects <- ev:
				default: // only the first few matter
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer cl.Close()
	fmt.Fprintf(out, "keel demo: one keel.Client, %d goroutines, on a local cluster of %d shards × 1 replica (node timeout %v)\n",
		cfg.goroutines, demoShards, cfg.nodeTimeout)

	d := demo{cfg: cfg, out: out, cluster: c, watcher: w, client: cl, slots: slots, suspects: suspects}
	for _, act := range []func(context.Context) error{d.load, d.pause, d.kill} {
		if err := act(ctx); err != nil {
			return err
		}
	}
	return nil
}

type demo struct {
	cfg      demoConfig
	out      io.Writer
	cluster  *lab.Cluster
	watcher  *lab.Watcher
	client   *keel.Client
	slots    []int // the first slot of each shard, where the load's keys live
	suspects <-chan keel.Event
}

// servedWithin is how long the demo waits for callers to be served: at start, and
// after the cluster serves a broken shard again.
const servedWithin = 10 * time.Second

// start starts the load and waits until every caller has been served once.
func (d *demo) start(ctx context.Context) (*demoLoad, error) {
	l := startDemoLoad(ctx, d.client, d.slots, d.cfg.goroutines)
	if err := l.waitServed(ctx, -1, time.Time{}, servedWithin); err != nil {
		l.stop()
		return nil, err
	}
	return l, nil
}

// load is the first act: throughput of the shared client.
func (d *demo) load(ctx context.Context) error {
	l, err := d.start(ctx)
	if err != nil {
		return err
	}
	select {
	case <-time.After(d.cfg.duration):
	case <-ctx.Done():
	}
	l.stop()
	all := l.tally(func(int) bool { return true })
	fmt.Fprintf(d.out, "  load    %d goroutines for %v: %d requests, %.0f req/s, %d errors%s\n",
		d.cfg.goroutines, d.cfg.duration, all.ok+all.failed, float64(all.ok)/l.ended.Sub(l.began).Seconds(), all.failed, firstErr(all))
	return ctx.Err()
}

// pause is the second act: SIGSTOP shard 0's primary under load, measure how
// long keel takes to suspect it, then SIGCONT it.
func (d *demo) pause(ctx context.Context) error {
	primary, l, step, err := d.breakPrimary(ctx, d.cluster.Pause)
	if err != nil {
		return err
	}
	defer l.stop()
	suspected, waitErr := d.waitSuspect(ctx, primary.Addr(), step.Began)
	resumed, err := d.cluster.Resume(primary)
	if err = errors.Join(waitErr, err); err != nil {
		return err
	}
	if err := l.waitServed(ctx, 0, resumed.Done, servedWithin); err != nil {
		return err
	}
	l.stop()
	hit, rest := d.split(l)
	fmt.Fprintf(d.out, "  pause   SIGSTOP primary %s: keel suspected it %v later (health timeout %v); SIGCONT after that\n",
		primary.Addr(), ms(suspected.Sub(step.Began)), d.cfg.health)
	fmt.Fprintf(d.out, "          its %d callers waited at most %v, %d errors; other shards: %d requests, %d errors%s\n",
		hit.callers, ms(hit.longestWait), hit.failed, rest.ok+rest.failed, rest.failed, firstErr(rest))
	return nil
}

// kill is the third act: SIGKILL shard 0's primary under load and measure how
// long after the cluster promoted its replica keel served the shard's callers.
func (d *demo) kill(ctx context.Context) error {
	if err := d.cluster.WaitStable(ctx); err != nil {
		return err
	}
	primary, l, step, err := d.breakPrimary(ctx, d.cluster.Kill)
	if err != nil {
		return err
	}
	defer l.stop()
	wctx, cancel := context.WithTimeout(ctx, 10*d.cfg.nodeTimeout+servedWithin)
	defer cancel()
	served, by, err := d.watcher.WaitServed(wctx, d.slots[0], step.Began)
	if err != nil {
		return fmt.Errorf("demo: the cluster did not serve %s's slots again: %w", primary.Addr(), err)
	}
	if err := l.waitServed(ctx, 0, served, servedWithin); err != nil {
		return err
	}
	l.stop()
	hit, rest := d.split(l)
	fmt.Fprintf(d.out, "  kill    SIGKILL primary %s under load: the cluster served its slots again from %s %v later\n",
		primary.Addr(), by, ms(served.Sub(step.Began)))
	fmt.Fprintf(d.out, "          its %d callers waited at most %v, %d errors; keel served the last of them %+v after the cluster did\n",
		hit.callers, ms(hit.longestWait), hit.failed, ms(hit.lastServed.Sub(served)))
	fmt.Fprintf(d.out, "          other shards: %d requests, %d errors%s\n", rest.ok+rest.failed, rest.failed, firstErr(rest))
	return nil
}

// breakPrimary starts the load and, once every caller has been served, acts
// on shard 0's primary. The caller stops the load; on error it is stopped.
func (d *demo) breakPrimary(ctx context.Context, act func(*lab.Node) (lab.Step, error)) (*lab.Node, *demoLoad, lab.Step, error) {
	primary, err := d.cluster.PrimaryFor(ctx, d.slots[0])
	if err != nil {
		return nil, nil, lab.Step{}, err
	}
	l, err := d.start(ctx)
	if err != nil {
		return nil, nil, lab.Step{}, err
	}
	step, err := act(primary)
	if err != nil {
		l.stop()
		return nil, nil, lab.Step{}, err
	}
	return primary, l, step, nil
}

// waitSuspect returns when keel reported addr suspect after t.
func (d *demo) waitSuspect(ctx context.Context, addr string, t time.Time) (time.Time, error) {
	timeout := time.NewTimer(d.cfg.health + 5*time.Second)
	defer timeout.Stop()
	for {
		select {
		case ev := <-d.suspects:
			if ev.Node == addr && ev.Time.After(t) {
				return ev.Time, nil
			}
		case <-timeout.C:
			return time.Time{}, fmt.Errorf("demo: keel did not report paused %s as suspect", addr)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// split tallies shard 0, where the demo breaks things, and the other shards.
func (d *demo) split(l *demoLoad) (hit, rest shardTally) {
	return l.tally(func(s int) bool { return s == 0 }), l.tally(func(s int) bool { return s != 0 })
}

// firstErr names the first error of t, if any, so a failure is explained.
func firstErr(t shardTally) string {
	if t.firstErr == nil {
		return ""
	}
	return fmt.Sprintf(" (first: %v)", t.firstErr)
}

// ms rounds d for printing: to the millisecond, or to 10µs below one.
func ms(d time.Duration) time.Duration {
	if d > -time.Millisecond && d < time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
