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
	attempts int             // INCRs issued, whatever their outcome
	acked    []time.Duration // when each INCR the client acknowledged was issued
	seen     map[int64]bool  // values acknowledged INCRs returned
	repeats  int             // acknowledged INCRs that returned a value already returned
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
		c = &counterAudit{seen: make(map[int64]bool)}
		a.counters[key] = c
	}
	return c
}

func (a *audit) attemptIncr(key string) {
	a.mu.Lock()
	a.counter(key).attempts++
	a.mu.Unlock()
}

func (a *audit) ackIncr(key string, issued time.Duration, v int64) {
	a.mu.Lock()
	c := a.counter(key)
	c.acked = append(c.acked, issued)
	if c.seen[v] {
		c.repeats++
	}
	c.seen[v] = true
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
func (a *audit) verify(ctx context.Context, c *keel.Client, since, lossUntil time.Duration, counters bool) (auditResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var r auditResult
	var keys []string
	var early []bool // the SET was issued before lossUntil
	for _, s := range a.acked {
		if s.at >= since {
			keys = append(keys, s.key)
			early = append(early, s.issued < lossUntil)
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
		lost := max(int(int64(len(ca.acked))-v), ca.repeats)
		early := 0
		for _, at := range ca.acked {
			if at < lossUntil {
				early++
			}
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
