package cluster

import (
	"context"
	"fmt"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Scan is the state of a cursor-driven scan (SCAN, HSCAN, SSCAN, ZSCAN) of
// one shard's primary: the cursor and the connection it came from.
//
// A cursor means something only to the process that made it: it walks that
// process's hash table, whose hashing is seeded anew at every start. So a
// step that would go to another connection than the previous one — the
// shard failed over, its primary restarted, the connection was lost, the
// key's slot moved — starts the shard's scan again from cursor 0. Elements
// may then come twice, never fewer: SCAN's own guarantee (an element present
// for the whole scan is returned at least once) holds for the shard.
//
// A Scan is not safe for concurrent use.
type Scan struct {
	name  string   // SCAN, HSCAN, SSCAN or ZSCAN
	key   string   // the scanned key; "" for SCAN
	opts  []string // MATCH, COUNT, TYPE… sent after the cursor
	slots []int    // the shard's slots when the scan began (the key's slot for a key scan)

	conn     *conn.Conn // the connection cursor came from; nil before the first step
	cursor   string
	done     bool
	restarts int

	// The node chosen last, and the topology it was chosen from: a step
	// under an unchanged topology does not search the slots again.
	topo *Topology
	node string

	// ask is the node an ASK sent a key scan to while its slot migrates;
	// it holds until the topology changes.
	ask     string
	askTopo *Topology

	args []string // reused for each step's command
}

// ShardScans returns one SCAN per shard of the current topology, each to
// run until Done with ScanNext. opts follow the cursor in every step (MATCH
// pattern, COUNT n, TYPE t).
//
// Each shard is identified by the slots it serves now. A later step goes to
// the node that answered the previous one while that node is still the
// primary of one of these slots, and otherwise (a failover) to the primary
// that serves most of them, starting again from cursor 0.
// Keys of slots that move to another shard during the scan may be missed:
// they can arrive on a shard whose scan is over.
func (e *Engine) ShardScans(opts ...string) []*Scan {
	t := e.topo.Load()
	slots := make([][]int, len(t.Shards))
	for s := range SlotCount {
		if o := t.ownerOf(s); o != 0 {
			slots[o-1] = append(slots[o-1], s)
		}
	}
	scans := make([]*Scan, 0, len(t.Shards))
	for _, sl := range slots {
		if len(sl) > 0 {
			scans = append(scans, &Scan{name: "SCAN", opts: opts, slots: sl, cursor: "0"})
		}
	}
	return scans
}

// KeyScan returns a scan of the collection at key: name is HSCAN, SSCAN or
// ZSCAN, and opts follow the cursor in every step. It goes to the primary of
// the key's slot, and starts again from cursor 0 when that changes.
func KeyScan(name, key string, opts ...string) *Scan {
	return &Scan{name: name, key: key, opts: opts, slots: []int{Slot(key)}, cursor: "0"}
}

// Done reports whether the scan has finished: the server returned cursor 0.
func (s *Scan) Done() bool { return s.done }

// Restarts reports how many times the scan started again from cursor 0
// because its next step had to go to another connection.
func (s *Scan) Restarts() int { return s.restarts }

// ScanNext runs the scan's next step and returns the elements of the reply
// (keys; or fields and values, members and scores, alternating). It retries
// what certainly did not run and whatever failed on the connection, as Do
// does for a read-only command, until ctx ends — or RetryTimeout, when ctx
// has no deadline. Calling it once the scan is Done returns nothing.
func (e *Engine) ScanNext(ctx context.Context, s *Scan) ([]resp.Value, error) {
	if s.done {
		return nil, nil
	}
	if !e.begin() {
		return nil, ErrClosed
	}
	defer e.end()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.stats.requests.Add(1)
	var a attempt
	var elems []resp.Value
	err := e.retry(ctx, &a, func() (bool, error) {
		got, err, again := e.scanTry(ctx, s, &a)
		if !again {
			elems = got
		}
		return again, err
	})
	if err != nil {
		e.stats.errors.Add(1)
	}
	return elems, err
}

// scanTry makes one attempt of the scan's next step; again reports that it
// should be retried.
func (e *Engine) scanTry(ctx context.Context, s *Scan, a *attempt) (elems []resp.Value, err error, again bool) {
	// The scan keeps an ASK's target itself, for as long as the topology
	// stays (s.ask); a.askAddr only tells retry to go again at once.
	a.askAddr = ""
	addr, asking, err := s.target(e.topo.Load())
	if err != nil {
		e.trigger("slot not covered")
		return nil, err, true
	}
	c, err := e.pool.get(ctx, addr, !e.isSuspect(addr))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err(), false
		}
		return nil, err, true // never sent
	}
	if c != s.conn {
		if s.conn != nil {
			s.restarts++
		}
		s.conn, s.cursor = c, "0"
	}
	s.args = append(s.args[:0], s.name)
	if s.key != "" {
		s.args = append(s.args, s.key)
	}
	s.args = append(append(s.args, s.cursor), s.opts...)
	var v resp.Value
	if asking {
		var replies []resp.Value
		if replies, err = c.DoMulti(ctx, []string{"ASKING"}, s.args); err == nil {
			v = replies[1]
			err = v.Err()
		}
	} else {
		v, err = c.Do(ctx, s.args...)
	}
	if err != nil {
		_, err, again = e.classify(ctx, addr, v, err, a, true) // a scan step only reads
		if a.askAddr != "" {
			s.ask, s.askTopo = a.askAddr, e.topo.Load()
		}
		return nil, err, again
	}
	cursor, elems, err := parseScanReply(v)
	if err != nil {
		return nil, err, false
	}
	s.cursor, s.done = cursor, cursor == "0"
	return elems, nil, false
}

// target returns the node the scan's next step goes to under topology t,
// and whether it must be preceded by ASKING.
func (s *Scan) target(t *Topology) (addr string, asking bool, err error) {
	if s.ask != "" {
		if s.askTopo == t {
			return s.ask, true, nil
		}
		s.ask, s.askTopo = "", nil
	}
	if t == s.topo {
		return s.node, false, nil
	}
	if s.node != "" {
		// Stay on the node chosen last while it is still a primary of the
		// shard's slots: slots moving away from it change nothing for the
		// keys that stay, and its cursor stays good.
		for _, slot := range s.slots {
			if sh, ok := t.ShardFor(slot); ok && sh.Primary.Addr == s.node {
				s.topo = t
				return s.node, false, nil
			}
		}
	}
	if addr := mainOwner(t, s.slots); addr != "" {
		s.topo, s.node = t, addr
		return s.node, false, nil
	}
	return "", false, fmt.Errorf("%w: %d slots of the scanned shard, from %d", ErrSlotUncovered, len(s.slots), s.slots[0])
}

// mainOwner returns the primary that serves most of slots under t: after a
// failover, the shard's new primary, even if a few of its slots moved
// elsewhere. It is "" when none of slots is served.
func mainOwner(t *Topology, slots []int) string {
	count := map[string]int{}
	best := ""
	for _, slot := range slots {
		if sh, ok := t.ShardFor(slot); ok {
			addr := sh.Primary.Addr
			count[addr]++
			if best == "" || count[addr] > count[best] {
				best = addr
			}
		}
	}
	return best
}

// parseScanReply splits a SCAN-family reply into its next cursor and its
// elements.
func parseScanReply(v resp.Value) (string, []resp.Value, error) {
	if v.Kind != resp.KindArray || len(v.Elems) != 2 {
		return "", nil, fmt.Errorf("%w: want [cursor elements], got %s", resp.ErrType, v)
	}
	cursor, err := v.Elems[0].Text()
	if err != nil {
		return "", nil, err
	}
	elems, err := v.Elems[1].Slice()
	if err != nil {
		return "", nil, err
	}
	return cursor, elems, nil
}
