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

// ackedSet is a SET the client acknowledged, when it was issued and when
// acknowledged (offsets from the run's start).
type ackedSet struct {
	key    string
	issued time.Duration
	at     time.Duration
}

type counterAudit struct {
	attempts int                     // INCRs issued, whatever their outcome
	acked    []time.Duration         // when each INCR the client acknowledged was issued
	seen     map[int64]time.Duration // values acknowledged INCRs returned, and when first acknowledged
	repeats  []time.Duration         // per acknowledged INCR that returned a value already returned: when that value was first acknowledged
}

func newAudit() *audit { return &audit{counters: make(map[string]*counterAudit)} }

func (a *audit) attemptSet(key string) {
	a.mu.Lock()
	a.tried = append(a.tried, key)
	a.mu.Unlock()
}

func (a *audit) ackSet(key string, issued, at time.Duration) {
	a.mu.Lock()
	a.acked = append(a.acked, ackedSet{key, issued, at})
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

// ackIncr records an acknowledged INCR, issued and acknowledged at those
// offsets, that returned v.
func (a *audit) ackIncr(key string, issued, at time.Duration, v int64) {
	a.mu.Lock()
	c := a.counter(key)
	c.acked = append(c.acked, issued)
	if first, ok := c.seen[v]; ok {
		c.repeats = append(c.repeats, first)
	} else {
		c.seen[v] = at
	}
	a.mu.Unlock()
}

// auditResult is what verification found. LostWrites and LostIncrs are the
// losses no server explains; ServerLostWrites and ServerLostIncrs those a
// primary's death or demotion explains (see verify).
type auditResult struct {
	LostWrites, LostIncrs, DuplicateIncrs int
	ServerLostWrites, ServerLostIncrs     int
}

// verify reads back with c every write acknowledged at or after since
// (offset from the run's start). A SET is lost when its key is missing or
// holds another value. With counters, for a counter holding V after `acked`
// acknowledged INCRs out of `attempts`: acknowledged increments were lost
// when V < acked, or when two acknowledged INCRs returned the same value;
// an increment ran twice when V > attempts.
//
// lossUntil, when not zero, is when the group's old primary stopped being
// able to acknowledge a write that the group would then lose (it died, or
// the switch away from it was announced). A write issued before it may
// have been acknowledged by that primary and lost with it, the server's
// doing (asynchronous replication); a write issued after it can only have
// been acknowledged by a server whose data survives, so its loss is the
// client's. Lost SETs issued before lossUntil, and up to as many lost
// increments of a counter as its acknowledged INCRs issued before
// lossUntil, count as lost by the server.
//
// So do the lost writes acknowledged within forced, a forced fault's window
// on the write's shard (shardOf): for an INCR, the acknowledgement that
// first returned a value returned again later, or a value above V.
func (a *audit) verify(ctx context.Context, c *keel.Client, since, lossUntil time.Duration, counters bool, forced windows, shardOf func(key string) int) (auditResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	inForced := func(key string, at time.Duration) bool { return len(forced) > 0 && forced.contain(shardOf(key), at) }
	var r auditResult
	var keys []string
	var early []bool // the server may have lost the SET: issued before lossUntil, or acknowledged in a forced window
	for _, s := range a.acked {
		if s.at >= since {
			keys = append(keys, s.key)
			early = append(early, s.issued < lossUntil || inForced(s.key, s.at))
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
			switch {
			case v.Valid && v.Value == writeValue(part[j]):
			case early[i+j]:
				r.ServerLostWrites++
			default:
				r.LostWrites++
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
		lost := max(int(int64(len(ca.acked))-v), len(ca.repeats))
		early := 0
		for _, at := range ca.acked {
			if at < lossUntil {
				early++
			}
		}
		if len(forced) > 0 {
			early += ca.lostForced(v, forced, shardOf(key))
		}
		r.ServerLostIncrs += min(lost, early)
		r.LostIncrs += lost - min(lost, early)
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
