package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// switchChannel is where a sentinel announces a failover's outcome:
// "<master name> <old ip> <old port> <new ip> <new port>".
const switchChannel = "+switch-master"

// sentinels is the list of sentinels keel asks, kept current from SENTINEL
// SENTINELS; the one that answered last comes first.
type sentinels struct {
	mu    sync.Mutex
	addrs []string
}

func (s *sentinels) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.addrs)
}

// learned puts answered first, then the sentinels it knows, then those
// known before (a sentinel missing from one answer may come back).
func (s *sentinels) learned(answered string, known []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{answered}
	for _, a := range append(known, s.addrs...) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	s.addrs = out
}

// sentinelConnOptions are the options of a connection to a sentinel: the
// nodes' TLS, timeouts and limits, but no database (a sentinel has none) and
// the sentinels' credentials, not the nodes'.
func (e *Engine) sentinelConnOptions(addr string) conn.Options {
	o := e.connOptions(e.opts.Conn, addr)
	o.DB, o.ReadOnly = 0, false
	o.Username, o.Password, o.Credentials = e.opts.SentinelUsername, e.opts.SentinelPassword, nil
	o.OnPush, o.OnClose = nil, nil
	return o
}

// candidateSentinels returns the known sentinels, then the seeds resolved
// anew.
func (e *Engine) candidateSentinels(ctx context.Context) ([]string, error) {
	out := e.sentinels.list()
	seeds, err := e.resolveSeedsCtx(ctx)
	for _, a := range seeds {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, err
	}
	return out, nil
}

// findSentinelPrimary asks the sentinels, one after the other until one
// answers, for the primary of SentinelMaster and its replicas, and returns
// them as a topology of one shard owning every slot once the primary has
// confirmed ROLE master.
func (e *Engine) findSentinelPrimary(ctx context.Context) (*Topology, error) {
	addrs, err := e.candidateSentinels(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, addr := range addrs {
		t, err := e.askSentinel(ctx, addr)
		if err == nil {
			return t, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: no sentinel of %s named a primary for %q: %w", ErrNoNode, strings.Join(e.opts.Seeds, ","), e.opts.SentinelMaster, errors.Join(errs...))
}

// askSentinel asks the sentinel at addr.
func (e *Engine) askSentinel(ctx context.Context, addr string) (*Topology, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.RefreshTimeout)
	defer cancel()
	raw, err := conn.DialRaw(ctx, addr, e.sentinelConnOptions(addr))
	e.stats.dials.Add(1)
	if err != nil {
		return nil, fmt.Errorf("sentinel %s: %w", addr, err)
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	name := e.opts.SentinelMaster
	call := func(args ...string) (resp.Value, error) {
		if _, err := raw.Write(resp.AppendCommand(nil, args)); err != nil {
			return resp.Value{}, err
		}
		v, err := raw.Reader.Read()
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return v, fmt.Errorf("sentinel %s: %s: %w", addr, strings.Join(args[:2], " "), err)
		}
		return v, nil
	}
	v, err := call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
	if err != nil {
		return nil, err
	}
	if v.IsNull() {
		return nil, fmt.Errorf("sentinel %s monitors no master named %q", addr, name)
	}
	f, err := v.Strings()
	if err != nil || len(f) != 2 {
		return nil, fmt.Errorf("sentinel %s: %w: GET-MASTER-ADDR-BY-NAME %v", addr, resp.ErrProtocol, v)
	}
	primary := net.JoinHostPort(f[0], f[1])
	v, err = call("SENTINEL", "REPLICAS", name)
	if err != nil {
		return nil, err
	}
	replicas := instanceAddrs(v, true)
	v, err = call("SENTINEL", "SENTINELS", name)
	if err != nil {
		return nil, err
	}
	e.sentinels.learned(addr, instanceAddrs(v, false))
	r, err := e.queryRole(ctx, primary)
	if err != nil {
		return nil, fmt.Errorf("sentinel %s names %s: %w", addr, primary, err)
	}
	if !r.master {
		return nil, fmt.Errorf("%w: sentinel %s names %s, which answers ROLE replica", ErrNoNode, addr, primary)
	}
	sh := Shard{Primary: Node{Addr: primary}}
	for _, a := range replicas {
		if a != primary {
			sh.Replicas = append(sh.Replicas, Node{Addr: a})
		}
	}
	return Merge(View{From: primary, Claims: []Claim{{Start: 0, End: SlotCount - 1, Shard: sh}}}), nil
}

// instanceAddrs reads the instances of SENTINEL REPLICAS or SENTINELS
// (each a map, or in RESP2 a flat list, of fields) as host:port addresses.
// With healthyOnly, instances flagged down or disconnected are left out.
func instanceAddrs(v resp.Value, healthyOnly bool) []string {
	items, _ := v.Slice()
	var out []string
	for _, it := range items {
		m, err := it.StringMap()
		if err != nil || m["ip"] == "" || m["port"] == "" {
			continue
		}
		if healthyOnly && slices.ContainsFunc(strings.Split(m["flags"], ","), func(f string) bool {
			return f == "s_down" || f == "o_down" || f == "disconnected"
		}) {
			continue
		}
		out = append(out, net.JoinHostPort(m["ip"], m["port"]))
	}
	return out
}

// watchSwitches subscribes to +switch-master on a sentinel, one after the
// other as they fail, and triggers a refresh at each announcement for
// SentinelMaster, until the engine stops.
func (e *Engine) watchSwitches() {
	defer e.wg.Done()
	ctx := e.pool.ctx
	for ctx.Err() == nil {
		for _, addr := range e.sentinels.list() {
			if ctx.Err() != nil {
				return
			}
			if e.followSwitches(ctx, addr) {
				// It was subscribed, then lost: the switch may have been
				// missed meanwhile.
				e.trigger("sentinel " + addr + " lost")
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(e.opts.IncidentInterval):
		}
	}
}

// followSwitches subscribes on the sentinel at addr and reads until the
// connection fails or the sentinel stops answering; it reports whether the
// subscription was confirmed. It pings the sentinel every PingInterval and
// gives up when nothing arrives for PingInterval+HealthTimeout, so a hung
// or paused sentinel is left within that bound.
func (e *Engine) followSwitches(ctx context.Context, addr string) (subscribed bool) {
	dctx, cancel := context.WithTimeout(ctx, e.opts.RefreshTimeout)
	raw, err := conn.DialRaw(dctx, addr, e.sentinelConnOptions(addr))
	cancel()
	e.stats.dials.Add(1)
	if err != nil {
		return false
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	every, patience := e.sentinelPingTimes()
	_ = raw.SetWriteDeadline(time.Now().Add(patience))
	if _, err := raw.Write(resp.AppendCommand(nil, []string{"SUBSCRIBE", switchChannel})); err != nil {
		return false
	}
	pinging := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go pingRaw(raw, every, patience, pinging, &wg)
	defer func() { close(pinging); wg.Wait() }()
	for {
		_ = raw.SetReadDeadline(time.Now().Add(every + patience))
		v, err := raw.Reader.Read()
		if err != nil {
			return subscribed
		}
		items, err := v.Slice()
		if err != nil || len(items) < 3 {
			continue // a PING's answer
		}
		kind, _ := items[0].Text()
		switch kind {
		case "subscribe":
			subscribed = true
		case "message":
			text, _ := items[2].Text()
			if name, _, _ := strings.Cut(text, " "); name == e.opts.SentinelMaster {
				e.trigger(switchChannel)
			}
		}
	}
}

// sentinelPingTimes returns how often the +switch-master subscriber pings
// its sentinel, and how long past that it waits for an answer: the nodes'
// PingInterval and HealthTimeout, or their defaults when those are zero or
// disabled.
func (e *Engine) sentinelPingTimes() (every, patience time.Duration) {
	every, patience = e.opts.Conn.PingInterval, e.opts.Conn.HealthTimeout
	if every <= 0 {
		every = conn.DefaultPingInterval
	}
	if patience <= 0 {
		patience = conn.DefaultHealthTimeout
	}
	return every, patience
}

// pingRaw writes PING on raw every interval until stop is closed or a write
// fails; each write must be taken within patience. It calls wg.Done when it
// returns.
func pingRaw(raw *conn.Raw, every, patience time.Duration, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	ping := resp.AppendCommand(nil, []string{"PING"})
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		_ = raw.SetWriteDeadline(time.Now().Add(patience))
		if _, err := raw.Write(ping); err != nil {
			return
		}
	}
}
