package drill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keel-go/keel/lab"
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
// a fixed rate through its own connections (lab.Conn: lab's RESP, not keel's
// nor any client's), to the node
// owner names each time: the node the cluster's own watcher last saw serve
// the key's slot. It goes through no client under test.
type feeder struct {
	target Target
	probe  string
	key    string
	owner  func() string // "" while no node serves the slot
	start  time.Time
	// timeout bounds each command; zero means feedTimeout.
	timeout time.Duration

	conns map[string]*lab.Conn // used only by the feeding goroutine, then closed

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
// and returns its reply. An error reply is returned as a lab.ReplyError;
// any other error means no node took the command (none serves the slot,
// or the connection failed).
func (f *feeder) call(ctx context.Context, args []string) (any, error) {
	addr := f.owner()
	for range 2 {
		if addr == "" {
			return nil, errNoOwner
		}
		c, err := f.conn(ctx, addr)
		if err != nil {
			return nil, err
		}
		v, err := c.Do(cmp.Or(f.timeout, feedTimeout), args...)
		var re lab.ReplyError
		switch {
		case errors.As(err, &re):
			if fields := strings.Fields(string(re)); len(fields) == 3 && fields[0] == "MOVED" {
				addr = fields[2]
				continue
			}
			return nil, re
		case err != nil:
			c.Close()
			delete(f.conns, addr)
			return nil, err
		}
		return v, nil
	}
	return nil, errNoOwner
}

// answered reports whether err, from call, is the server's own answer.
func answered(err error) bool {
	var re lab.ReplyError
	return err == nil || errors.As(err, &re)
}

func (f *feeder) conn(ctx context.Context, addr string) (*lab.Conn, error) {
	if c := f.conns[addr]; c != nil {
		return c, nil
	}
	c, err := f.target.lab().Dial(ctx, addr, cmp.Or(f.timeout, feedTimeout))
	if err != nil {
		return nil, err
	}
	f.conns[addr] = c
	return c, nil
}

// setupTimeout bounds the wait for a node serving the slot when the feeder
// prepares its key: the watcher may have seen a blip just then.
const setupTimeout = 5 * time.Second

// setup prepares the key before anything is sent: the consumer group of a
// stream. It retries, for up to setupTimeout, while no node serves the
// slot.
func (f *feeder) setup(ctx context.Context) error {
	if f.probe != ProbeXReadGroup {
		return nil
	}
	deadline := time.Now().Add(setupTimeout)
	for {
		_, err := f.call(ctx, []string{"XGROUP", "CREATE", f.key, consumerGroup, "0", "MKSTREAM"})
		if answered(err) {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
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
		reply, err := f.call(ctx, f.command(seq))
		f.mu.Lock()
		f.sent = append(f.sent, Sent{Seq: seq, At: at, Acked: err == nil && reply != nil})
		f.mu.Unlock()
	}
}

// items returns what the feeder sent so far.
func (f *feeder) items() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// left returns the items still stored and not consumed: those in the
// list, for a BLPOP probe; those the group never delivered (after its
// last-delivered ID), for an XREADGROUP probe. It then deletes the key. Call
// it after run returned.
func (f *feeder) left(ctx context.Context) ([]int64, error) {
	defer f.call(ctx, []string{"DEL", f.key})
	var items []any
	switch f.probe {
	case ProbeBLPop:
		reply, err := f.call(ctx, []string{"LRANGE", f.key, "0", "-1"})
		if err != nil {
			return nil, err
		}
		items, _ = reply.([]any)
	case ProbeXReadGroup:
		last, err := f.lastDelivered(ctx)
		if err != nil {
			return nil, err
		}
		reply, err := f.call(ctx, []string{"XRANGE", f.key, "(" + last, "+"})
		if err != nil {
			return nil, err
		}
		entries, _ := reply.([]any)
		for _, e := range entries { // [id, [field, value, ...]]
			if pair, _ := e.([]any); len(pair) == 2 {
				if fv, _ := pair[1].([]any); len(fv) == 2 && fv[0] == StreamField {
					items = append(items, fv[1])
				}
			}
		}
	default:
		return nil, nil
	}
	var out []int64
	for _, it := range items {
		s, _ := it.(string)
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// lastDelivered returns the consumer group's last-delivered ID (XINFO GROUPS).
func (f *feeder) lastDelivered(ctx context.Context) (string, error) {
	reply, err := f.call(ctx, []string{"XINFO", "GROUPS", f.key})
	if err != nil {
		return "", err
	}
	groups, _ := reply.([]any)
	for _, g := range groups {
		fields, _ := g.([]any)
		var name, last string
		for i := 0; i+1 < len(fields); i += 2 {
			switch fields[i] {
			case "name":
				name, _ = fields[i+1].(string)
			case "last-delivered-id":
				last, _ = fields[i+1].(string)
			}
		}
		if name == consumerGroup && last != "" {
			return last, nil
		}
	}
	return "", fmt.Errorf("drill: no group %q on %s", consumerGroup, f.key)
}

// close closes the feeder's connections.
func (f *feeder) close() {
	for addr, c := range f.conns {
		c.Close()
		delete(f.conns, addr)
	}
}
