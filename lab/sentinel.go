package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// SentinelOptions configures a Sentinel group: a replication group watched
// by redis-server processes in sentinel mode, which fail the primary over
// by themselves.
type SentinelOptions struct {
	// Master is the name the sentinels monitor the primary under.
	// Default "mymaster".
	Master string
	// Sentinels is the number of sentinels; the quorum is a majority.
	// Default 3.
	Sentinels int
	// Replicas is the number of replicas. Default 0: none (no failover is
	// then possible); negative is an error.
	Replicas int
	// DownAfter is the sentinels' down-after-milliseconds: how long the
	// primary must not answer before it is thought down. Default 1s.
	DownAfter time.Duration
	// FailoverTimeout is the sentinels' failover-timeout. Default 3s.
	FailoverTimeout time.Duration
	// Password is set with requirepass on every data server (masterauth,
	// and auth-pass for the sentinels). Default "": no authentication.
	Password string
	// SentinelPassword is set with requirepass on every sentinel (and
	// sentinel-pass, which they use with each other). Default "": the
	// sentinels take no authentication.
	SentinelPassword string
	// Binary is the redis-server executable. Default "": "redis-server".
	Binary string
}

// SentinelGroup is a running Sentinel group: a [ReplicationGroup] whose
// failovers the sentinels decide, and the sentinels, each on 127.0.0.1 with
// a port of its own. Its methods are safe for concurrent use.
type SentinelGroup struct {
	opts  SentinelOptions
	group *ReplicationGroup

	mu        sync.Mutex
	sentinels []*Server
}

// StartSentinelGroup starts the replication group and the sentinels, and
// waits until every sentinel knows every replica and every other sentinel.
// Close it with [SentinelGroup.Close].
func StartSentinelGroup(ctx context.Context, opts SentinelOptions) (*SentinelGroup, error) {
	if opts.Master == "" {
		opts.Master = "mymaster"
	}
	if opts.Sentinels == 0 {
		opts.Sentinels = 3
	}
	if opts.Sentinels < 0 {
		return nil, fmt.Errorf("lab: %d sentinels", opts.Sentinels)
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = time.Second
	}
	if opts.FailoverTimeout <= 0 {
		opts.FailoverTimeout = 3 * time.Second
	}
	rg, err := StartReplicationGroup(ctx, ReplicationOptions{Replicas: opts.Replicas, Password: opts.Password, Binary: opts.Binary})
	if err != nil {
		return nil, err
	}
	g := &SentinelGroup{opts: opts, group: rg}
	for range opts.Sentinels {
		s, err := g.startSentinel(ctx)
		if err != nil {
			_ = g.Close()
			return nil, err
		}
		g.sentinels = append(g.sentinels, s)
	}
	if err := g.waitKnown(ctx); err != nil {
		_ = g.Close()
		return nil, err
	}
	return g, nil
}

// StartSentinelGroupT starts a group for a test and closes it when the test
// ends; see [StartServerT] for failures and a missing redis-server.
func StartSentinelGroupT(t TB, opts SentinelOptions) *SentinelGroup {
	t.Helper()
	return startT(t, opts.Binary, func() (*SentinelGroup, error) {
		return StartSentinelGroup(context.Background(), opts)
	})
}

// sentinelReady is what a sentinel logs once it listens and monitors.
const sentinelReady = "Sentinel ID is"

// startSentinel starts one sentinel on 127.0.0.1 with a generated config
// file (a sentinel rewrites its config, so it must have one).
func (g *SentinelGroup) startSentinel(ctx context.Context) (*Server, error) {
	bin, err := resolveBinary(g.opts.Binary)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "keel-lab-sentinel-")
	if err != nil {
		return nil, fmt.Errorf("lab: create temp dir: %w", err)
	}
	primary := g.group.Primary().Addr()
	host, port := hostOf(primary), strconv.Itoa(portOf(primary))
	name := g.opts.Master
	conf := fmt.Sprintf("sentinel monitor %s %s %s %d\n", name, host, port, g.opts.Sentinels/2+1) +
		fmt.Sprintf("sentinel down-after-milliseconds %s %d\n", name, g.opts.DownAfter.Milliseconds()) +
		fmt.Sprintf("sentinel failover-timeout %s %d\n", name, g.opts.FailoverTimeout.Milliseconds()) +
		fmt.Sprintf("sentinel parallel-syncs %s 1\n", name)
	if g.opts.Password != "" {
		conf += fmt.Sprintf("sentinel auth-pass %s %s\n", name, g.opts.Password)
	}
	if g.opts.SentinelPassword != "" {
		conf += fmt.Sprintf("requirepass %s\nsentinel sentinel-pass %s\n", g.opts.SentinelPassword, g.opts.SentinelPassword)
	}
	confFile := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lab: write sentinel config: %w", err)
	}
	for attempt := 1; ; attempt++ {
		p, err := freePortExcept("127.0.0.1", 0)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args := []string{confFile, "--sentinel",
			"--port", strconv.Itoa(p), "--bind", "127.0.0.1", "--protected-mode", "no",
			"--daemonize", "no", "--dir", dir, "--logfile", filepath.Join(dir, logFileName), "--loglevel", "notice"}
		s, err := launch(ctx, bin, args, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), dir, nil, sentinelReady)
		if errors.Is(err, ErrPortTaken) && attempt < maxPortAttempts {
			continue
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.ownDir = true
		return s, nil
	}
}

// waitKnown waits until every live sentinel lists the group's replicas and
// the other live sentinels.
func (g *SentinelGroup) waitKnown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return g.group.poll(ctx, "sentinels to know each other and the replicas", func() (bool, error) {
		live := g.liveSentinels()
		for _, s := range live {
			reps, err1 := g.sentinelCall(ctx, s, "SENTINEL", "REPLICAS", g.opts.Master)
			sens, err2 := g.sentinelCall(ctx, s, "SENTINEL", "SENTINELS", g.opts.Master)
			r, _ := reps.([]any)
			n, _ := sens.([]any)
			if err1 != nil || err2 != nil || len(r) < g.opts.Replicas || len(n) < len(live)-1 {
				return false, nil
			}
		}
		return true, nil
	})
}

// Master returns the name the sentinels monitor the primary under.
func (g *SentinelGroup) Master() string { return g.opts.Master }

// Sentinels returns the addresses of the sentinels still running.
func (g *SentinelGroup) Sentinels() []string {
	var out []string
	for _, s := range g.liveSentinels() {
		out = append(out, s.Addr())
	}
	return out
}

// SentinelServers returns every sentinel, running or not, in start order.
func (g *SentinelGroup) SentinelServers() []*Server {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sentinels)
}

// Servers returns every data server, primary or not, in start order.
func (g *SentinelGroup) Servers() []*Server { return g.group.Servers() }

func (g *SentinelGroup) liveSentinels() []*Server {
	return slices.DeleteFunc(g.SentinelServers(), func(s *Server) bool {
		select {
		case <-s.Exited():
			return true
		default:
			return false
		}
	})
}

// Primary asks the sentinels for the primary's address and returns its
// server.
func (g *SentinelGroup) Primary(ctx context.Context) (*Server, error) {
	var errs []error
	for _, s := range g.liveSentinels() {
		v, err := g.sentinelCall(ctx, s, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", g.opts.Master)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, _ := v.([]any)
		if len(f) != 2 {
			errs = append(errs, fmt.Errorf("lab: %s: GET-MASTER-ADDR-BY-NAME: %v", s.Addr(), v))
			continue
		}
		h, _ := f[0].(string)
		p, _ := f[1].(string)
		addr := net.JoinHostPort(h, p)
		for _, srv := range g.group.Servers() {
			if srv.Addr() == addr {
				return srv, nil
			}
		}
		return nil, fmt.Errorf("lab: the sentinels name %s, not a server of the group", addr)
	}
	return nil, fmt.Errorf("lab: no sentinel names the primary: %w", errors.Join(errs...))
}

// KillPrimary kills the primary (SIGKILL) and waits until the sentinels
// have promoted a replica and it answers ROLE master. The Step's Began is
// the kill, Done when the new primary was confirmed, Detail its address.
func (g *SentinelGroup) KillPrimary(ctx context.Context) (Step, error) {
	return g.fault(ctx, "kill", func(s *Server) error { return s.Kill() })
}

// PausePrimary stops the primary (SIGSTOP) and waits as KillPrimary does.
// Resume the returned step's server with [Server.Resume]: the sentinels
// then make it a replica of the new primary.
func (g *SentinelGroup) PausePrimary(ctx context.Context) (Step, *Server, error) {
	old, err := g.Primary(ctx)
	if err != nil {
		return Step{}, nil, err
	}
	step, err := g.fault(ctx, "pause", func(s *Server) error { return s.Pause() })
	return step, old, err
}

// Switchover asks a sentinel for a graceful failover (SENTINEL FAILOVER),
// waits until a replica is primary, then makes the old primary its replica
// (REPLICAOF) at once: a sentinel would too, but only once it next polls
// the old primary, up to 10 seconds later, and until then the old primary
// still takes writes, which its resync then drops. The Step's Done is when
// the old primary is a replica.
func (g *SentinelGroup) Switchover(ctx context.Context) (Step, error) {
	var old *Server
	step, err := g.fault(ctx, "switchover", func(s *Server) error {
		old = s
		live := g.liveSentinels()
		if len(live) == 0 {
			return errors.New("lab: no sentinel is running")
		}
		_, err := g.sentinelCall(ctx, live[0], "SENTINEL", "FAILOVER", g.opts.Master)
		return err
	})
	if err != nil {
		return step, err
	}
	for _, s := range g.group.Servers() {
		if s.Addr() == step.Detail {
			err = g.group.replicate(ctx, old, s)
		}
	}
	step.Done = time.Now()
	return step, err
}

// fault applies act to the primary, then waits for the sentinels to name
// another primary that answers ROLE master.
func (g *SentinelGroup) fault(ctx context.Context, action string, act func(*Server) error) (Step, error) {
	old, err := g.Primary(ctx)
	if err != nil {
		return Step{}, err
	}
	step := Step{Action: action, Node: old.Addr(), Began: time.Now()}
	if err := act(old); err != nil {
		return step, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = g.group.poll(ctx, "the sentinels to promote a replica", func() (bool, error) {
		p, err := g.Primary(ctx)
		if err != nil || p == old {
			return false, nil
		}
		v, err := g.group.call(ctx, p, "ROLE")
		if f, _ := v.([]any); err != nil || len(f) == 0 || f[0] != "master" {
			return false, nil
		}
		step.Detail = p.Addr()
		return true, nil
	})
	step.Done = time.Now()
	return step, err
}

// KillSentinel kills the i-th sentinel (in start order, SIGKILL).
func (g *SentinelGroup) KillSentinel(i int) (Step, error) {
	all := g.SentinelServers()
	if i < 0 || i >= len(all) {
		return Step{}, fmt.Errorf("lab: no sentinel %d of %d", i, len(all))
	}
	step := Step{Action: "kill", Node: all[i].Addr(), Began: time.Now()}
	err := all[i].Kill()
	step.Done = time.Now()
	return step, err
}

// sentinelCall sends one command to sentinel s on a fresh connection.
func (g *SentinelGroup) sentinelCall(ctx context.Context, s *Server, args ...string) (any, error) {
	return callOnce(ctx, s, g.opts.SentinelPassword, args...)
}

// Close stops every sentinel, then the replication group.
func (g *SentinelGroup) Close() error {
	var errs []error
	for _, s := range g.SentinelServers() {
		errs = append(errs, s.Close())
	}
	return errors.Join(append(errs, g.group.Close())...)
}
