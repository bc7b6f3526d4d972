package drill

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/keel-go/keel"
)

// audit keeps what the client under test acknowledged, so the data can be
// checked afterwards with an independent client.
type audit struct {
	mu       sync.Mutex
	tried    []string // keys of every SET issued; each key is written once
	acked    []ackedSet
	counters map[string]*counterAudit
}

// ackedSet is a SET the client acknowledged, and when (offset from the run's start).
type ackedSet struct {
	key string
	at  time.Duration
}

type counterAudit struct {
	attempts int                     // INCRs issued, whatever their outcome
	acked    int                     // INCRs the client acknowledged
	seen     map[int64]time.Duration // values acknowledged INCRs returned, and when first
	repeats  []time.Duration         // per acknowledged INCR that returned a value already returned: when that value was first
}

func newAudit() *audit { return &audit{counters: make(map[string]*counterAudit)} }

func (a *audit) attemptSet(key string) {
	a.mu.Lock()
	a.tried = append(a.tried, key)
	a.mu.Unlock()
}

func (a *audit) ackSet(key string, at time.Duration) {
	a.mu.Lock()
	a.acked = append(a.acked, ackedSet{key, at})
	a.mu.Unlock()
}

func (a *audit) counter(key string) *counterAudit {
	c := a.counters[key]
	if c == nil {
		c = &counterAudit{seen: make(map[int64]time.Duration)}
		a.counters[key] = c
	}
	return c
}

func (a *audit) attemptIncr(key string) {
	a.mu.Lock()
	a.counter(key).attempts++
	a.mu.Unlock()
}

func (a *audit) ackIncr(key string, v int64, at time.Duration) {
	a.mu.Lock()
	c := a.counter(key)
	c.acked++
	if first, ok := c.seen[v]; ok {
		c.repeats = append(c.repeats, first)
	} else {
		c.seen[v] = at
	}
	a.mu.Unlock()
}

// auditResult is what verification found.
type auditResult struct {
	LostWrites, LostIncrs, DuplicateIncrs int
	// LostWritesForced and LostIncrsForced are the part of LostWrites and
	// LostIncrs acknowledged within a forced fault's window.
	LostWritesForced, LostIncrsForced int
}

// verify reads back with c every write acknowledged at or after since
// (offset from the run's start). A SET is lost when its key is missing or
// holds another value. With counters, for a counter holding V after `acked`
// acknowledged INCRs out of `attempts`: acknowledged increments were lost
// when V < acked, or when two acknowledged INCRs returned the same value;
// an increment ran twice when V > attempts. A lost acknowledgement counts
// as forced too when it came within forced: for an INCR, that of a value
// returned again later, or above V.
func (a *audit) verify(ctx context.Context, c *keel.Client, since time.Duration, counters bool, forced windows, shardOf func(key string) int) (auditResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var r auditResult
	var keys []string
	var acked []time.Duration
	for _, s := range a.acked {
		if s.at >= since {
			keys = append(keys, s.key)
			acked = append(acked, s.at)
		}
	}
	const batch = 500
	for i := 0; i < len(keys); i += batch {
		part := keys[i:min(i+batch, len(keys))]
		vals, err := c.MGet(ctx, part...)
		if err != nil {
			return r, err
		}
		for j, v := range vals {
			if !v.Valid || v.Value != writeValue(part[j]) {
				r.LostWrites++
				if forced.contain(shardOf(part[j]), acked[i+j]) {
					r.LostWritesForced++
				}
			}
		}
	}
	if !counters {
		return r, nil
	}
	for key, ca := range a.counters {
		s, err := c.Get(ctx, key)
		var v int64
		switch {
		case errors.Is(err, keel.ErrNil):
		case err != nil:
			return r, err
		default:
			if v, err = strconv.ParseInt(s, 10, 64); err != nil {
				return r, err
			}
		}
		lost := max(int(int64(ca.acked)-v), len(ca.repeats))
		r.LostIncrs += lost
		r.LostIncrsForced += min(lost, ca.lostForced(v, forced, shardOf(key)))
		r.DuplicateIncrs += max(0, int(v-int64(ca.attempts)))
	}
	return r, nil
}

// keys returns every key the run may have written, for clean-up.
func (a *audit) keys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append([]string(nil), a.tried...)
	for k := range a.counters {
		out = append(out, k)
	}
	return out
}

// lostForced counts the acknowledged INCRs known lost, with the counter
// (on shard) holding v, that came within forced: the first of each value
// returned twice, and each value above v.
func (c *counterAudit) lostForced(v int64, forced windows, shard int) int {
	n := 0
	for _, at := range c.repeats {
		if forced.contain(shard, at) {
			n++
		}
	}
	for val, at := range c.seen {
		if val > v && forced.contain(shard, at) {
			n++
		}
	}
	return n
}
