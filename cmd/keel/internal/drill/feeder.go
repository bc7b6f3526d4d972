package drill

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// feedInterval is how often the feeder sends: a message or an item every
// 5 ms, so a delivery gap is measured to within 5 ms.
const feedInterval = 5 * time.Millisecond

// feedTimeout bounds each send: the feeder never waits long on a node that
// stopped answering, so it keeps its rate.
const feedTimeout = 100 * time.Millisecond

// Sent is one message or item the feeder sent.
type Sent struct {
	Seq int64
	// At is when it was sent, as an offset from the run's start.
	At time.Duration
	// Acked is true when the server acknowledged it (a PUBLISH or RPUSH
	// count, an XADD ID).
	Acked bool
}

// feeder is the independent publisher or producer of one probe: it sends
// sequence-numbered messages (PUBLISH, SPUBLISH) or items (RPUSH, XADD) at
// a fixed rate through its own connections (see wireConn), to the node
// owner names each time: the node the cluster's own watcher last saw serve
// the key's slot. It goes through no client under test.
type feeder struct {
	target Target
	probe  string
	key    string
	owner  func() string // "" while no node serves the slot
	start  time.Time

	conns map[string]*wireConn // used only by the feeding goroutine, then closed

	mu   sync.Mutex
	sent []Sent
}

// command returns the command that sends item seq.
func (f *feeder) command(seq int64) []string {
	v := strconv.FormatInt(seq, 10)
	switch f.probe {
	case ProbeSubscribe:
		return []string{"PUBLISH", f.key, v}
	case ProbeSSubscribe:
		return []string{"SPUBLISH", f.key, v}
	case ProbeBLPop:
		return []string{"RPUSH", f.key, v}
	default:
		return []string{"XADD", f.key, "*", StreamField, v}
	}
}

// call sends one command to the owner of the slot, following one MOVED,
// and returns its reply; ok is false when no node answered it.
func (f *feeder) call(ctx context.Context, args []string) (reply any, ok bool) {
	addr := f.owner()
	for range 2 {
		if addr == "" {
			return nil, false
		}
		c, err := f.conn(ctx, addr)
		if err != nil {
			return nil, false
		}
		replies, err := c.do(time.Now().Add(feedTimeout), args)
		if err != nil {
			c.Close()
			delete(f.conns, addr)
			return nil, false
		}
		if e, isErr := replies[0].(replyError); isErr && strings.HasPrefix(string(e), "MOVED ") {
			if fields := strings.Fields(string(e)); len(fields) == 3 {
				addr = fields[2]
				continue
			}
		}
		return replies[0], true
	}
	return nil, false
}

func (f *feeder) conn(ctx context.Context, addr string) (*wireConn, error) {
	if c := f.conns[addr]; c != nil {
		return c, nil
	}
	c, err := dialWire(ctx, f.target, addr, feedTimeout)
	if err != nil {
		return nil, err
	}
	f.conns[addr] = c
	return c, nil
}

// setup prepares the key before anything is sent: the consumer group of a
// stream.
func (f *feeder) setup(ctx context.Context) error {
	if f.probe != ProbeXReadGroup {
		return nil
	}
	reply, ok := f.call(ctx, []string{"XGROUP", "CREATE", f.key, consumerGroup, "0", "MKSTREAM"})
	if !ok {
		return errNoOwner
	}
	if e, isErr := reply.(replyError); isErr {
		return e
	}
	return nil
}

// run sends until ctx ends, one command every feedInterval on schedule
// from f.start (a send that ran late does not shift the next ones).
func (f *feeder) run(ctx context.Context) {
	var n int64
	for {
		due := f.start.Add(time.Duration(n) * feedInterval)
		if due.Before(time.Now()) {
			// Behind schedule (a slow node): skip the missed ticks.
			n = int64(time.Since(f.start) / feedInterval)
			due = f.start.Add(time.Duration(n) * feedInterval)
		}
		if sleep(ctx, time.Until(due)) != nil {
			return
		}
		n++
		seq := n
		at := time.Since(f.start)
		reply, ok := f.call(ctx, f.command(seq))
		_, isErr := reply.(replyError)
		f.mu.Lock()
		f.sent = append(f.sent, Sent{Seq: seq, At: at, Acked: ok && !isErr && reply != nil})
		f.mu.Unlock()
	}
}

// items returns what the feeder sent so far.
func (f *feeder) items() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// left returns the items still in the list, for a BLPOP probe, and deletes
// the key; call it after run returned.
func (f *feeder) left(ctx context.Context) ([]int64, error) {
	var out []int64
	if f.probe == ProbeBLPop {
		reply, ok := f.call(ctx, []string{"LRANGE", f.key, "0", "-1"})
		if !ok {
			return nil, errNoOwner
		}
		if e, isErr := reply.(replyError); isErr {
			return nil, e
		}
		items, _ := reply.([]any)
		for _, it := range items {
			s, _ := it.(string)
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				out = append(out, v)
			}
		}
	}
	if f.probe == ProbeBLPop || f.probe == ProbeXReadGroup {
		f.call(ctx, []string{"DEL", f.key})
	}
	return out, nil
}

// close closes the feeder's connections.
func (f *feeder) close() {
	for addr, c := range f.conns {
		c.Close()
		delete(f.conns, addr)
	}
}
