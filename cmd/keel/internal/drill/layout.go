package drill

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-go/keel/lab"
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
	shards, err := t.lab().Shards(ctx)
	if err != nil {
		return Layout{}, fmt.Errorf("drill: Discover: %w", err)
	}
	return layoutOf(shards)
}

// layoutOf groups shards by primary (CLUSTER SLOTS lists a shard once per
// range). Slots are scanned in order, so each shard's ranges come out
// sorted and merged, and shards ordered by their first slot.
func layoutOf(shards []lab.ShardInfo) (Layout, error) {
	var owner [16384]*lab.ShardInfo
	byPrimary := map[string]*lab.ShardInfo{}
	member := map[string]string{} // node address → its shard's primary
	for i := range shards {
		c := &shards[i]
		sh := byPrimary[c.Primary]
		if sh == nil {
			sh = c
			byPrimary[sh.Primary] = sh
			for _, n := range append([]string{sh.Primary}, sh.Replicas...) {
				if p, ok := member[n]; ok {
					return Layout{}, fmt.Errorf("drill: node %s listed in the shards of both %s and %s", n, p, sh.Primary)
				}
				member[n] = sh.Primary
			}
		}
		for _, r := range c.Slots {
			for s := r.Start; s <= r.End; s++ {
				if owner[s] != nil && owner[s] != sh {
					return Layout{}, fmt.Errorf("drill: slot %d claimed by both %s and %s", s, owner[s].Primary, sh.Primary)
				}
				owner[s] = sh
			}
		}
	}
	var l Layout
	index := map[*lab.ShardInfo]int{}
	for s, sh := range owner {
		if sh == nil {
			continue
		}
		i, ok := index[sh]
		if !ok {
			i = len(l.Shards)
			index[sh] = i
			l.Shards = append(l.Shards, ShardLayout{Primary: sh.Primary, Replicas: sh.Replicas})
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
