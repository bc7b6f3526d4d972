package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/keel-go/keel/resp"
)

// Mode says what kind of deployment the seeds lead to.
type Mode uint8

// Modes.
const (
	// ModeAuto asks the seeds: a node answering CLUSTER SHARDS (or SLOTS)
	// makes a cluster, one replying "cluster support disabled" a standalone
	// server or replication group.
	ModeAuto Mode = iota
	// ModeCluster expects a Redis Cluster.
	ModeCluster
	// ModeStandalone expects a server without cluster support, alone or
	// with replicas.
	ModeStandalone
	// ModeReplication expects a replication group behind a primary
	// endpoint: a name that resolves to the primary and that the service
	// repoints after a failover. The engine treats it as ModeStandalone,
	// which already re-resolves the seeds at every refresh.
	ModeReplication
	// ModeSentinel expects the seeds to be sentinels monitoring the
	// primary named Options.SentinelMaster (see sentinel.go).
	ModeSentinel
)

// String names the mode: "auto", "cluster", "standalone", "replication",
// "sentinel".
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeCluster:
		return "cluster"
	case ModeStandalone:
		return "standalone"
	case ModeReplication:
		return "replication"
	case ModeSentinel:
		return "sentinel"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// SingleShard reports whether the engine serves a deployment without
// cluster support (standalone, replication group or Sentinel): one primary owns
// every slot, and keys of any slots go together in one command.
func (e *Engine) SingleShard() bool { return e.single }

// ignoreCrossSlot drops RouteSlot's or TxSlot's ErrCrossSlot when one
// primary serves every slot: the command goes whole to it.
func (e *Engine) ignoreCrossSlot(err error) error {
	if e.single && errors.Is(err, ErrCrossSlot) {
		return nil
	}
	return err
}

// RouteSlot is the package's RouteSlot, cross-slot keys allowed outside a
// cluster.
func (e *Engine) RouteSlot(cmd Command, args []string) (slot int, hasKeys bool, err error) {
	slot, hasKeys, err = RouteSlot(cmd, args)
	return slot, hasKeys, e.ignoreCrossSlot(err)
}

// TxSlot is the package's TxSlot, cross-slot keys allowed outside a cluster.
func (e *Engine) TxSlot(cmds [][]string) (slot int, hasKeys bool, err error) {
	if !e.single {
		return TxSlot(cmds)
	}
	// TxSlot stops at the first conflict; every command must still pass its
	// other checks, so run them one at a time.
	slot = -1
	for _, args := range cmds {
		s, keyed, err := TxSlot([][]string{args})
		if err = e.ignoreCrossSlot(err); err != nil {
			return 0, false, err
		}
		if keyed && slot < 0 {
			slot = s
		}
	}
	return max(slot, 0), slot >= 0, nil
}

// role is a node's answer to ROLE.
type role struct {
	master   bool
	replicas []string // a master's connected replicas, host:port
	upstream string   // a replica's master, host:port
}

// queryRole asks addr for its ROLE.
func (e *Engine) queryRole(ctx context.Context, addr string) (role, error) {
	c, err := e.pool.get(ctx, addr, !e.isSuspect(addr))
	if np := (*notPrimaryError)(nil); errors.As(err, &np) {
		return np.role, nil // its connection's check asked already
	}
	if err != nil {
		return role{}, err
	}
	v, err := c.Do(ctx, "ROLE")
	if err != nil {
		return role{}, queryError(addr, []string{"ROLE"}, err)
	}
	r, err := parseRole(v)
	if err != nil {
		return role{}, fmt.Errorf("keel: %s: ROLE: %w", addr, err)
	}
	return r, nil
}

// parseRole reads ROLE's reply: ["master", offset, [[ip, port, offset]…]]
// or ["slave", ip, port, state, offset]. A sentinel's is an error.
func parseRole(v resp.Value) (role, error) {
	items, err := v.Slice()
	if err != nil || len(items) == 0 {
		return role{}, fmt.Errorf("%w: unexpected reply %v", resp.ErrProtocol, v)
	}
	kind, _ := items[0].Text()
	switch kind {
	case "master":
		var r role
		r.master = true
		if len(items) < 3 {
			return r, nil
		}
		reps, _ := items[2].Slice()
		for _, rep := range reps {
			f, err := rep.Strings()
			if err != nil || len(f) < 2 {
				continue
			}
			r.replicas = append(r.replicas, net.JoinHostPort(f[0], f[1]))
		}
		return r, nil
	case "slave", "replica":
		if len(items) < 3 {
			return role{}, fmt.Errorf("%w: short replica ROLE %v", resp.ErrProtocol, v)
		}
		host, _ := items[1].Text()
		port, err := items[2].Int64()
		if err != nil {
			return role{}, fmt.Errorf("%w: replica ROLE port: %w", resp.ErrProtocol, err)
		}
		return role{upstream: net.JoinHostPort(host, strconv.FormatInt(port, 10))}, nil
	}
	return role{}, fmt.Errorf("%w: ROLE %q is neither master nor replica", ErrNoNode, kind)
}

// findPrimary finds the primary of a deployment without cluster support and
// returns it as a topology of one shard owning every slot. The seeds are
// resolved anew each time, because a primary endpoint's name is what the
// service repoints after a failover. The primary is, in this order:
//
//  1. a seed address whose ROLE is master (the endpoint is the authority);
//  2. the master a seed replica names, once it confirms ROLE master (a
//     server given as seed that was made a replica, or an endpoint not yet
//     repointed after its old primary rejoined as a replica);
//  3. a node of the current topology whose ROLE is master (the old primary
//     lost, its promoted replica found before the name is repointed).
//
// Writes are only ever sent to a node that answered ROLE master.
func (e *Engine) findPrimary(ctx context.Context) (*Topology, error) {
	if e.opts.Mode == ModeSentinel {
		return e.findSentinelPrimary(ctx)
	}
	seeds, err := e.resolveSeedsCtx(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	roles := e.gatherRoles(ctx, seeds, &errs)
	pick := func(addrs []string) (string, bool) {
		for _, a := range addrs {
			if r, ok := roles[a]; ok && r.master {
				return a, true
			}
		}
		return "", false
	}
	primary, ok := pick(seeds)
	if !ok {
		var upstream []string
		for _, a := range seeds {
			if r, ok := roles[a]; ok && !r.master && !slices.Contains(upstream, r.upstream) {
				upstream = append(upstream, r.upstream)
			}
		}
		maps.Copy(roles, e.gatherRoles(ctx, upstream, &errs))
		primary, ok = pick(upstream)
	}
	if !ok {
		if cur := e.topo.Load(); cur != nil {
			known := slices.DeleteFunc(cur.Addrs(), func(a string) bool { _, asked := roles[a]; return asked })
			maps.Copy(roles, e.gatherRoles(ctx, known, &errs))
			primary, ok = pick(cur.Addrs())
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: no node of %s answers ROLE master: %w", ErrNoNode, strings.Join(e.opts.Seeds, ","), errors.Join(errs...))
	}
	sh := Shard{Primary: Node{Addr: primary}}
	for _, r := range roles[primary].replicas {
		if r != primary && !slices.ContainsFunc(sh.Replicas, func(n Node) bool { return n.Addr == r }) {
			sh.Replicas = append(sh.Replicas, Node{Addr: r})
		}
	}
	sh.Replicas = append(sh.Replicas, e.readerReplicas(ctx, primary, sh.Replicas, roles)...)
	e.searched(seeds)
	return Merge(View{From: primary, Claims: []Claim{{Start: 0, End: SlotCount - 1, Shard: sh}}}), nil
}

// gatherRoles asks every address for its ROLE in parallel, bounded by
// RefreshTimeout, and returns the answers by address; failures are added
// to errs.
func (e *Engine) gatherRoles(ctx context.Context, addrs []string, errs *[]error) map[string]role {
	ctx, cancel := context.WithTimeout(ctx, e.opts.RefreshTimeout)
	defer cancel()
	type result struct {
		addr string
		r    role
		err  error
	}
	results := make(chan result, len(addrs))
	for _, addr := range addrs {
		go func() {
			r, err := e.queryRole(ctx, addr)
			results <- result{addr, r, err}
		}()
	}
	out := map[string]role{}
	for range addrs {
		res := <-results
		if res.err != nil {
			*errs = append(*errs, res.err)
			continue
		}
		out[res.addr] = res.r
	}
	return out
}

// refreshPrimary is refresh outside a cluster.
func (e *Engine) refreshPrimary(cause string) {
	timeout := e.opts.RefreshTimeout
	if e.inIncident() {
		timeout = min(timeout, 4*e.opts.IncidentInterval)
	}
	if cause == periodicCause && e.endpointsUnchanged() {
		return
	}
	ctx, cancel := context.WithTimeout(e.pool.ctx, 4*timeout) // seeds, their masters, known nodes, reader endpoint
	defer cancel()
	t, err := e.findPrimary(ctx)
	if err != nil {
		e.opts.Logger.Warn("keel: primary search failed", "cause", cause, "err", err)
		e.emit(Event{Kind: RefreshFailed, Cause: cause, Err: err})
		return
	}
	e.demoted.Store(nil) // the primary in t answered ROLE master just now
	e.install(t, cause)
}

// primaryRefused records, outside a cluster, that the primary at addr
// refused a write as a replica (READONLY): until a refresh finds a primary
// again, keel polls at the incident pace.
func (e *Engine) primaryRefused(addr string) {
	if e.single {
		e.demoted.Store(&addr)
	}
}

// primaryDemoted reports whether t's primary refused a write as a replica
// since it was last confirmed.
func (e *Engine) primaryDemoted(t *Topology) bool {
	d := e.demoted.Load()
	return d != nil && len(t.Shards) > 0 && t.Shards[0].Primary.Addr == *d
}
