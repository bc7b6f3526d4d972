package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// targetMembers reads the members of a cluster lab did not start, for
// [WatchTarget]. Only the watcher's start, then its membership goroutine,
// call it, one at a time.
type targetMembers struct {
	t        Target
	timeout  time.Duration   // bounds a dial, and separately one query
	answered func() []string // members whose last probe succeeded, sorted

	asker     *rawConn // where the members were last read; nil when none
	askerAddr string
}

// read asks, in turn, the members whose last probe succeeded (the one asked
// last time first), then the seeds, for the cluster's members.
func (m *targetMembers) read(ctx context.Context) ([]string, error) {
	candidates := m.answered()
	if m.asker != nil {
		if i := slices.Index(candidates, m.askerAddr); i > 0 {
			candidates[0], candidates[i] = candidates[i], candidates[0]
		}
	}
	var errs []error
	for _, addr := range append(candidates, m.t.Seeds...) {
		members, err := m.ask(ctx, addr)
		if err == nil {
			return members, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// ask reads the members from addr, over the connection kept from the last
// time when it was to addr.
func (m *targetMembers) ask(ctx context.Context, addr string) ([]string, error) {
	if m.asker != nil && m.askerAddr != addr {
		m.close()
	}
	if m.asker == nil {
		rc, err := m.t.dial(ctx, addr, m.timeout)
		if err != nil {
			return nil, err
		}
		m.asker, m.askerAddr = rc, addr
	}
	members, err := m.membersFrom(addr)
	if err != nil {
		m.close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return members, nil
}

func (m *targetMembers) close() {
	if m.asker != nil {
		m.asker.Close()
		m.asker, m.askerAddr = nil, ""
	}
}

// membersFrom returns the addresses of the members the asker's node, at
// addr, knows: from CLUSTER NODES or, when the server refuses it, the nodes
// of the shards that serve slots.
func (m *targetMembers) membersFrom(addr string) ([]string, error) {
	if err := m.asker.conn.SetDeadline(time.Now().Add(m.timeout)); err != nil {
		return nil, err
	}
	v, err := m.asker.call("CLUSTER", "NODES")
	var re ReplyError
	if errors.As(err, &re) {
		shards, err := askShards(m.asker, addr, m.t.TLS != nil)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, sh := range shards {
			out = append(append(out, sh.Primary), sh.Replicas...)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	text, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("CLUSTER NODES: unexpected reply %v", v)
	}
	view, err := ParseClusterNodes(text)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range view {
		a := n.Addr
		if a == "" && n.Has("myself") {
			a = addr // a node that never learnt its own IP
		}
		if a != "" && !n.Has("noaddr") && !n.Has("handshake") && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("CLUSTER NODES lists no node with an address")
	}
	return out, nil
}
