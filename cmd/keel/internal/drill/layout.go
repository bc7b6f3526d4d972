package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Layout is a cluster's shards as discovered at one moment.
type Layout struct {
	Shards []ShardLayout
}

// ShardLayout is one shard of a Layout.
type ShardLayout struct {
	Primary  string // "host:port"
	Replicas []string
	Ranges   [][2]int // inclusive slot ranges, sorted
}

// Discover asks the seeds, in order, for CLUSTER SHARDS (CLUSTER SLOTS on
// servers without it) and returns the first answer's layout, shards sorted
// by their first slot. Shards with no slots are left out. An answer that
// covers no slot, gives a slot to two shards or lists a node in two shards
// is rejected.
func Discover(ctx context.Context, t Target) (Layout, error) {
	if len(t.Seeds) == 0 {
		return Layout{}, errors.New("drill: Discover: no seeds")
	}
	var errs []error
	for _, seed := range t.Seeds {
		l, err := discoverFrom(ctx, t, seed)
		if err == nil {
			return l, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return Layout{}, fmt.Errorf("drill: Discover: %w", errors.Join(errs...))
}

func discoverFrom(ctx context.Context, t Target, addr string) (Layout, error) {
	c, err := conn.Dial(ctx, addr, targetConnOptions(t, 0))
	if err != nil {
		return Layout{}, err
	}
	defer c.Close()
	return askLayout(ctx, c, t.TLS != nil)
}

// askLayout asks c's node for CLUSTER SHARDS, or CLUSTER SLOTS when the
// server does not know SHARDS, and converts the answer.
func askLayout(ctx context.Context, c *conn.Conn, useTLS bool) (Layout, error) {
	var claims []cluster.Claim
	v, err := c.Do(ctx, "CLUSTER", "SHARDS")
	if err == nil {
		claims, err = cluster.ParseShards(v, c.Addr(), useTLS)
	} else if unknownCommand(err) {
		if v, err = c.Do(ctx, "CLUSTER", "SLOTS"); err == nil {
			claims, err = cluster.ParseSlots(v, c.Addr())
		}
	}
	if err != nil {
		return Layout{}, fmt.Errorf("%s: %w", c.Addr(), err)
	}
	l, err := layoutOf(claims)
	if err != nil {
		return Layout{}, fmt.Errorf("%s: %w", c.Addr(), err)
	}
	return l, nil
}

func unknownCommand(err error) bool {
	var re *resp.Error
	return errors.As(err, &re) && strings.Contains(strings.ToLower(re.Msg), "unknown")
}

// layoutOf groups claims by primary. Slots are scanned in order, so each
// shard's ranges come out sorted and merged, and shards ordered by their
// first slot.
func layoutOf(claims []cluster.Claim) (Layout, error) {
	var owner [cluster.SlotCount]*cluster.Shard
	byPrimary := map[string]*cluster.Shard{}
	member := map[string]string{} // node address → its shard's primary
	for _, c := range claims {
		sh := byPrimary[c.Shard.Primary.Addr]
		if sh == nil {
			sh = &c.Shard
			byPrimary[sh.Primary.Addr] = sh
			for _, n := range append([]cluster.Node{sh.Primary}, sh.Replicas...) {
				if p, ok := member[n.Addr]; ok {
					return Layout{}, fmt.Errorf("drill: node %s listed in the shards of both %s and %s", n.Addr, p, sh.Primary.Addr)
				}
				member[n.Addr] = sh.Primary.Addr
			}
		}
		for s := c.Start; s <= c.End; s++ {
			if owner[s] != nil && owner[s] != sh {
				return Layout{}, fmt.Errorf("drill: slot %d claimed by both %s and %s", s, owner[s].Primary.Addr, sh.Primary.Addr)
			}
			owner[s] = sh
		}
	}
	var l Layout
	index := map[*cluster.Shard]int{}
	for s := 0; s < cluster.SlotCount; s++ {
		sh := owner[s]
		if sh == nil {
			continue
		}
		i, ok := index[sh]
		if !ok {
			i = len(l.Shards)
			index[sh] = i
			sl := ShardLayout{Primary: sh.Primary.Addr}
			for _, r := range sh.Replicas {
				sl.Replicas = append(sl.Replicas, r.Addr)
			}
			l.Shards = append(l.Shards, sl)
		}
		rs := l.Shards[i].Ranges
		if n := len(rs); n > 0 && rs[n-1][1] == s-1 {
			rs[n-1][1] = s
		} else {
			l.Shards[i].Ranges = append(rs, [2]int{s, s})
		}
	}
	if len(l.Shards) == 0 {
		return Layout{}, errors.New("drill: the cluster serves no slot")
	}
	return l, nil
}

// ShardOf returns the index of the shard serving slot, or -1 if none does.
func (l Layout) ShardOf(slot int) int {
	for i, sh := range l.Shards {
		for _, r := range sh.Ranges {
			if slot >= r[0] && slot <= r[1] {
				return i
			}
		}
	}
	return -1
}

// FirstSlots returns the first slot of each shard, by index (-1 for a shard
// without ranges, which Discover never returns).
func (l Layout) FirstSlots() []int {
	out := make([]int, len(l.Shards))
	for i, sh := range l.Shards {
		out[i] = -1
		if len(sh.Ranges) > 0 {
			out[i] = sh.Ranges[0][0]
		}
	}
	return out
}

// targetConnOptions returns the options of a connection to one of t's
// nodes: t's credentials and TLS, names resolved with t's Resolver, and
// timeout (when positive) bounding the dial and handshake.
func targetConnOptions(t Target, timeout time.Duration) conn.Options {
	return conn.Options{
		Username:     t.Username,
		Password:     t.Password,
		TLS:          t.TLS,
		ClientName:   "keel-drill",
		DialTimeout:  timeout,
		PingInterval: -1,
		DialContext:  t.Dialer().DialContext,
	}
}
