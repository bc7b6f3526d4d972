package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ReplicationOptions configures a replication group: servers without
// cluster support, one primary and its replicas, behind a primary endpoint
// (a DNS name), as managed services run them (ElastiCache with cluster mode
// disabled).
type ReplicationOptions struct {
	// Replicas is the number of replicas. Default 0: none; negative is an
	// error.
	Replicas int
	// Name is the primary endpoint's DNS name, served by the group's
	// [DNSServer]. Default "primary.keel.test".
	Name string
	// Password is set with requirepass on every server (and masterauth).
	// Default "": no authentication.
	Password string
	// Binary is the redis-server executable. Default "": "redis-server".
	Binary string
}

// ReplicationGroup is a running replication group: each server on its own
// 127.x address, all on one port, and a DNS server that resolves the
// endpoint name to the primary's address. Its methods are safe for
// concurrent use.
type ReplicationGroup struct {
	opts ReplicationOptions
	dns  *DNSServer
	port int

	mu      sync.Mutex
	servers []*Server
	primary *Server
	closed  bool
}

// StartReplicationGroup starts the servers, makes the replicas replicate
// from the primary, waits until the primary lists every replica as online,
// and serves the endpoint name. Close it with [ReplicationGroup.Close].
func StartReplicationGroup(ctx context.Context, opts ReplicationOptions) (*ReplicationGroup, error) {
	if opts.Replicas < 0 {
		return nil, fmt.Errorf("lab: %d replicas", opts.Replicas)
	}
	if opts.Name == "" {
		opts.Name = "primary.keel.test"
	}
	g := &ReplicationGroup{opts: opts}
	hosts := newHostAllocator(true)
	for i := 0; i <= opts.Replicas; i++ {
		s, err := g.startOne(ctx, hosts)
		if err != nil {
			_ = g.Close()
			return nil, err
		}
		g.servers = append(g.servers, s)
	}
	g.primary = g.servers[0]
	g.port = portOf(g.primary.Addr())
	for _, r := range g.servers[1:] {
		if err := g.replicate(ctx, r, g.primary); err != nil {
			_ = g.Close()
			return nil, err
		}
	}
	if err := g.waitReplicas(ctx, g.primary, opts.Replicas); err != nil {
		_ = g.Close()
		return nil, err
	}
	d, err := StartDNS("", opts.Name, []string{hostOf(g.primary.Addr())})
	if err != nil {
		_ = g.Close()
		return nil, err
	}
	g.dns = d
	return g, nil
}

// StartReplicationGroupT starts a group for a test and closes it when the
// test ends; see [StartServerT] for failures and a missing redis-server.
func StartReplicationGroupT(t TB, opts ReplicationOptions) *ReplicationGroup {
	t.Helper()
	return startT(t, opts.Binary, func() (*ReplicationGroup, error) {
		return StartReplicationGroup(context.Background(), opts)
	})
}

// startOne starts one server on the next distinct host, on the group's
// shared port.
func (g *ReplicationGroup) startOne(ctx context.Context, hosts *hostAllocator) (*Server, error) {
	var lastErr error
	for range 8 {
		host, port, _, err := hosts.addr()
		if err != nil {
			return nil, err
		}
		// A diskless full sync waits 5s by default for more replicas to
		// share it; lab's replicas all start at once. A replica connects
		// from 127.0.0.1, not the address it listens on: it announces that
		// one, so that the primary's ROLE and INFO list it as clients
		// reach it, as on hosts of their own.
		args := []string{"--repl-diskless-sync-delay", "0", "--replica-announce-ip", host}
		if g.opts.Password != "" {
			args = append(args, "--masterauth", g.opts.Password)
		}
		s, err := StartServer(ctx, ServerOptions{Host: host, Port: port, Password: g.opts.Password, Binary: g.opts.Binary, Args: args})
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, ErrPortTaken) {
			return nil, err
		}
		lastErr = err // taken since it was checked: the next host may do
	}
	return nil, lastErr
}

// Name returns the primary endpoint's DNS name.
func (g *ReplicationGroup) Name() string { return g.dns.Name() }

// Seed returns "name:port", the primary endpoint a client connects to.
func (g *ReplicationGroup) Seed() string {
	return net.JoinHostPort(g.dns.Name(), strconv.Itoa(g.port))
}

// Resolver returns a resolver that asks the group's DNS server.
func (g *ReplicationGroup) Resolver() *net.Resolver { return g.dns.Resolver() }

// DNS returns the group's DNS server.
func (g *ReplicationGroup) DNS() *DNSServer { return g.dns }

// Primary returns the server lab made primary last.
func (g *ReplicationGroup) Primary() *Server {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.primary
}

// Replicas returns every server but the primary.
func (g *ReplicationGroup) Replicas() []*Server {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(g.servers), func(s *Server) bool { return s == g.primary })
}

// Servers returns every server, primary or not, in start order.
func (g *ReplicationGroup) Servers() []*Server {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.servers)
}

// Failover moves the primary role to replica the way a managed service's
// failover does, in this order:
//
//  1. writes on the old primary are paused (CLIENT PAUSE WRITE: they wait,
//     neither refused nor run), and lab waits until replica has every
//     write the old primary acknowledged;
//  2. replica is promoted (REPLICAOF NO ONE);
//  3. after repointAfter, the endpoint name is repointed to replica;
//  4. the old primary, and every other replica, is made a replica of the
//     new primary, then the old primary's writes are unpaused: those
//     waiting are refused there with READONLY, never run.
//
// Nothing the old primary acknowledged is lost. The Step's Began is when
// the pause took effect, Done when the name was repointed, and Detail the
// new primary's address.
func (g *ReplicationGroup) Failover(ctx context.Context, replica *Server, repointAfter time.Duration) (Step, error) {
	old := g.Primary()
	if replica == old || !slices.Contains(g.Servers(), replica) {
		return Step{}, fmt.Errorf("lab: failover: %s is not a replica of the group", replica.Addr())
	}
	step := Step{Action: "failover", Node: old.Addr(), Detail: replica.Addr()}
	pause := strconv.FormatInt((repointAfter + 30*time.Second).Milliseconds(), 10)
	if _, err := g.call(ctx, old, "CLIENT", "PAUSE", pause, "WRITE"); err != nil {
		return step, err
	}
	step.Began = time.Now()
	unpaused := false
	defer func() {
		if !unpaused {
			_, _ = g.call(context.Background(), old, "CLIENT", "UNPAUSE")
		}
	}()
	if err := g.waitCaughtUp(ctx, old, replica); err != nil {
		return step, err
	}
	if err := g.promote(ctx, replica); err != nil {
		return step, err
	}
	if err := g.repoint(ctx, replica, repointAfter, &step); err != nil {
		return step, err
	}
	if err := g.follow(ctx, replica, nil); err != nil {
		return step, err
	}
	unpaused = true
	if _, err := g.call(ctx, old, "CLIENT", "UNPAUSE"); err != nil {
		return step, err
	}
	return step, g.waitReplicas(ctx, replica, len(g.Servers())-1)
}

// KillPrimary fails the primary over to replica the way a managed service
// does when the primary's host dies: the primary is killed (SIGKILL), then
// replica is promoted (REPLICAOF NO ONE) and the other replicas made its
// replicas, and after repointAfter the endpoint name is repointed to
// replica. The old primary stays dead. Writes the old primary acknowledged
// and had not yet sent to replica are lost, as in the real event. The
// Step's Began is the kill, Done the repointing.
func (g *ReplicationGroup) KillPrimary(ctx context.Context, replica *Server, repointAfter time.Duration) (Step, error) {
	old := g.Primary()
	if replica == old || !slices.Contains(g.Servers(), replica) {
		return Step{}, fmt.Errorf("lab: failover: %s is not a replica of the group", replica.Addr())
	}
	step := Step{Action: "kill", Node: old.Addr(), Detail: replica.Addr(), Began: time.Now()}
	if err := old.Kill(); err != nil {
		return step, err
	}
	if err := g.promote(ctx, replica); err != nil {
		return step, err
	}
	if err := g.follow(ctx, replica, old); err != nil {
		return step, err
	}
	return step, g.repoint(ctx, replica, repointAfter, &step)
}

// promote makes replica the primary (REPLICAOF NO ONE).
func (g *ReplicationGroup) promote(ctx context.Context, replica *Server) error {
	if _, err := g.call(ctx, replica, "REPLICAOF", "NO", "ONE"); err != nil {
		return err
	}
	g.mu.Lock()
	g.primary = replica
	g.mu.Unlock()
	return nil
}

// repoint repoints the endpoint name to primary after delay, and sets
// step.Done then.
func (g *ReplicationGroup) repoint(ctx context.Context, primary *Server, delay time.Duration, step *Step) error {
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := g.dns.SetAddrs([]string{hostOf(primary.Addr())}); err != nil {
		return err
	}
	step.Done = time.Now()
	return nil
}

// follow makes every server but primary and skip a replica of primary.
func (g *ReplicationGroup) follow(ctx context.Context, primary, skip *Server) error {
	for _, s := range g.Servers() {
		if s == primary || s == skip {
			continue
		}
		if err := g.replicate(ctx, s, primary); err != nil {
			return err
		}
	}
	return nil
}

// replicate makes s a replica of primary.
func (g *ReplicationGroup) replicate(ctx context.Context, s, primary *Server) error {
	host, port, _ := net.SplitHostPort(primary.Addr())
	_, err := g.call(ctx, s, "REPLICAOF", host, port)
	return err
}

// waitReplicas waits until primary lists n replicas as online.
func (g *ReplicationGroup) waitReplicas(ctx context.Context, primary *Server, n int) error {
	return g.poll(ctx, fmt.Sprintf("%d replicas online on %s", n, primary.Addr()), func() (bool, error) {
		info, err := g.info(ctx, primary)
		return err == nil && strings.Count(info, ",state=online,") == n, nil
	})
}

// waitCaughtUp waits until replica's replication offset reaches primary's.
func (g *ReplicationGroup) waitCaughtUp(ctx context.Context, primary, replica *Server) error {
	return g.poll(ctx, replica.Addr()+" caught up", func() (bool, error) {
		pi, err := g.info(ctx, primary)
		if err != nil {
			return false, err
		}
		ri, err := g.info(ctx, replica)
		if err != nil {
			return false, err
		}
		want, got := infoInt(pi, "master_repl_offset"), infoInt(ri, "slave_repl_offset")
		return want >= 0 && got >= want, nil
	})
}

// poll calls cond every 10ms until it holds, fails, or 10 seconds (or ctx)
// run out.
func (g *ReplicationGroup) poll(ctx context.Context, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		ok, err := cond()
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: waiting for %s: %w", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (g *ReplicationGroup) info(ctx context.Context, s *Server) (string, error) {
	v, err := g.call(ctx, s, "INFO", "replication")
	if err != nil {
		return "", err
	}
	text, _ := v.(string)
	return text, nil
}

// infoInt returns the integer field of an INFO text, or -1.
func infoInt(info, field string) int64 {
	for line := range strings.Lines(info) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// call sends one command to s on a fresh connection.
func (g *ReplicationGroup) call(ctx context.Context, s *Server, args ...string) (any, error) {
	return callOnce(ctx, s, g.opts.Password, args...)
}

// callOnce sends one command to s on a fresh connection, authenticated with
// password unless it is empty.
func callOnce(ctx context.Context, s *Server, password string, args ...string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	rc, err := dialRaw(ctx, s.Addr(), nil)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", s.Addr(), err)
	}
	defer rc.Close()
	if password != "" {
		if _, err := rc.call("AUTH", password); err != nil {
			return nil, fmt.Errorf("lab: %s: AUTH: %w", s.Addr(), err)
		}
	}
	v, err := rc.call(args...)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %s: %w", s.Addr(), strings.Join(args, " "), err)
	}
	return v, nil
}

// Close stops every server and the DNS server.
func (g *ReplicationGroup) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	servers := g.servers
	g.mu.Unlock()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Close())
	}
	if g.dns != nil {
		errs = append(errs, g.dns.Close())
	}
	return errors.Join(errs...)
}

func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return host
}

func portOf(addr string) int {
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return n
}
