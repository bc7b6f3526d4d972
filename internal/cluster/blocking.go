package cluster

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, …) run on
// dedicated connections (Engine.blockers), one call per connection at a
// time, with no health timeout: they block by design. A blocked call is
// never left hanging on a node keel has given up on: when the node becomes
// suspect its connection is closed at once, and when a new topology moves
// the call's slot to another node the call is unblocked (CLIENT UNBLOCK)
// and re-issued there.
//
// The outcome rules:
//
//   - A reply proving nothing was taken (MOVED, ASK, TRYAGAIN, CLUSTERDOWN,
//     LOADING, MASTERDOWN, READONLY, and UNBLOCKED, which Redis sends to the
//     clients blocked on a primary that becomes a replica and keel asks for
//     with CLIENT UNBLOCK … ERROR), or a failure before the command was
//     written: the command is sent again to the slot's owner as then known,
//     within MaxRedirects and the context (or RetryTimeout). The timeout
//     starts again with each send.
//   - The connection lost, or closed by keel, while the call was blocked:
//     a pop (and XREADGROUP, which moves entries to the pending list) may
//     have taken something whose reply was lost: ErrUnknownOutcome, unless
//     RetryUnknownOutcome. XREAD, which takes nothing, is sent again.
//   - The context ends, or Shutdown begins: keel sends CLIENT UNBLOCK <id>
//     ERROR on its shared connection to the node (again, every few
//     milliseconds, while the node has not yet processed the call) and reads
//     the blocked call's reply. UNBLOCKED (or the timeout's nil) means nothing was
//     taken: the call returns ctx's error (ErrClosed on Shutdown) and the
//     connection is reused. An element that raced in is returned with a nil
//     error: it was taken, and is the caller's. When the node does not
//     answer within unblockWait, the connection is closed and a pop returns
//     ErrUnknownOutcome (wrapping ctx's error).

// blockingConnOptions are the options of a blocking command's connection:
// no health timeout, as a blocked command's reply may take forever.
func blockingConnOptions(o conn.Options) conn.Options {
	o.HealthTimeout = -1
	return o
}

// blockedCall is one blocking command in progress on a dedicated connection.
type blockedCall struct {
	addr string
	slot int
	// keyed is false for a call sent with ASKING (the topology still names
	// the slot's old owner) or without keys: no slot check then.
	keyed bool
	once  sync.Once
	abort chan struct{} // closed when the call must give up its node
	hard  bool          // set before abort closes: the node is failing, don't ask it anything
}

func (b *blockedCall) stop(hard bool) {
	b.once.Do(func() {
		b.hard = hard
		close(b.abort)
	})
}

// blockedCalls tracks the calls blocked now.
type blockedCalls struct {
	mu    sync.Mutex
	calls map[*blockedCall]struct{}
	n     atomic.Int32 // len(calls): a topology change with none blocked takes no lock
}

func (bc *blockedCalls) add(b *blockedCall) {
	bc.mu.Lock()
	if bc.calls == nil {
		bc.calls = map[*blockedCall]struct{}{}
	}
	bc.calls[b] = struct{}{}
	bc.n.Store(int32(len(bc.calls)))
	bc.mu.Unlock()
}

func (bc *blockedCalls) remove(b *blockedCall) {
	bc.mu.Lock()
	delete(bc.calls, b)
	bc.n.Store(int32(len(bc.calls)))
	bc.mu.Unlock()
}

// each calls f on every blocked call, under the lock.
func (bc *blockedCalls) each(f func(b *blockedCall)) {
	if bc.n.Load() == 0 {
		return
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	for b := range bc.calls {
		f(b)
	}
}

// abortOn closes the connections of the calls blocked on a failing node.
func (e *Engine) abortOn(addr string, _ error) {
	e.blocked.each(func(b *blockedCall) {
		if b.addr == addr {
			b.stop(true)
		}
	})
}

// abortMoved unblocks the calls whose slot the topology now places on
// another node, so that they are re-issued there.
func (e *Engine) abortMoved() {
	t := e.topo.Load()
	if t == nil {
		return
	}
	e.blocked.each(func(b *blockedCall) {
		if b.keyed && !servedBy(t, b.slot, b.addr) {
			b.stop(false)
		}
	})
}

func servedBy(t *Topology, slot int, addr string) bool {
	sh, ok := t.ShardFor(slot)
	return ok && sh.Primary.Addr == addr
}

// unblockWait bounds how long keel waits, after CLIENT UNBLOCK, for a
// blocked call's reply before it closes the call's connection: the shared
// connection's health timeout (DefaultHealthTimeout when unset or off), the
// time a node is given to answer anything.
func (e *Engine) unblockWait() time.Duration {
	if d := e.opts.Conn.HealthTimeout; d > 0 {
		return d
	}
	return conn.DefaultHealthTimeout
}

// runBlocking runs a blocking command with keys on a dedicated connection
// to its slot's primary, under the outcome rules above. obs, when not nil,
// records its tries.
//
// It repeats run's loop rather than share it through a function value:
// such a closure would capture args, and make every command's arguments
// escape to the heap (TestCommandAllocations).
func (e *Engine) runBlocking(ctx context.Context, cmd Command, args []string, slot int, obs *Observation) (resp.Value, error) {
	retryUnknown := e.opts.RetryUnknownOutcome || IsIdempotent(cmd, args)
	var a attempt
	var v resp.Value
	err := e.retry(ctx, &a, func() (bool, error) {
		tv, err, again := e.blockOnce(ctx, args, slot, &a, retryUnknown)
		if !again {
			v = tv
		}
		return again, err
	})
	if err != nil && v.Kind != resp.KindError {
		e.stats.errors.Add(1)
	}
	if obs != nil {
		obs.note(&a)
	}
	return v, err
}

type blockedReply struct {
	v   resp.Value
	err error
}

// blockOnce sends the command once and waits for its reply, the end of
// ctx, Shutdown, or an abort.
func (e *Engine) blockOnce(ctx context.Context, args []string, slot int, a *attempt, retryUnknown bool) (resp.Value, error, bool) {
	addr, asking := a.askAddr, a.askAddr != ""
	a.askAddr = ""
	if !asking {
		var err error
		if addr, err = e.pick(slot, true, false); err != nil {
			e.trigger("slot not covered")
			return resp.Value{}, err, true
		}
	}
	a.addr, a.stats = addr, e.pool.counters(addr)
	c, err := e.blockers.get(ctx, addr)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return resp.Value{}, err, false // nothing sent
		}
		return resp.Value{}, err, true
	}
	a.sent()
	b := &blockedCall{addr: addr, slot: slot, keyed: !asking, abort: make(chan struct{})}
	e.blocked.add(b)
	defer e.blocked.remove(b)
	if b.keyed && !servedBy(e.topo.Load(), slot, addr) {
		b.stop(false) // moved between pick and add
	}

	replies := make(chan blockedReply, 1)
	// A copy for the goroutine: were args captured, every command's
	// arguments would escape to the heap, blocking or not.
	sent := slices.Clone(args)
	started := e.blockers.spawn(func() {
		// Not ctx: the reply must be read even after ctx ends, to learn
		// whether something was taken. It comes, or the connection closes.
		var r blockedReply
		if asking {
			var vs []resp.Value
			vs, r.err = c.DoMulti(context.Background(), askingCmd, sent)
			if r.err == nil {
				r.v = vs[1]
				r.err = r.v.Err()
			}
		} else {
			r.v, r.err = c.Do(context.Background(), sent...)
		}
		replies <- r
	})
	if !started {
		e.blockers.put(c, false)
		return resp.Value{}, ErrClosed, false // nothing sent
	}

	var r blockedReply
	var stopped error // why keel stopped the call: ctx's error, or ErrClosed
	select {
	case r = <-replies:
	case <-ctx.Done():
		stopped = ctx.Err()
		r = e.unblock(c, addr, replies, false)
	case <-e.closing:
		stopped = ErrClosed
		r = e.unblock(c, addr, replies, false)
	case <-b.abort:
		r = e.unblock(c, addr, replies, b.hard)
	}
	// The connection is reused when the server answered: no reply is due.
	e.blockers.put(c, r.err == nil || r.v.Kind == resp.KindError)

	if r.err == nil {
		if stopped != nil && r.v.IsNull() {
			return resp.Value{}, stopped, false // timed out meanwhile: nothing taken
		}
		return r.v, nil, false // served, even when it raced a cancellation
	}
	if stopped != nil {
		if re, _ := replyAction(r.err); re != nil && re.Code == "UNBLOCKED" {
			return resp.Value{}, stopped, false // nothing taken
		}
		if r.v.Kind == resp.KindError {
			return r.v, r.err, false
		}
		a.node().errors.Add(1) // no reply: its connection was closed
		if !retryUnknown {
			e.stats.unknownOutcomes.Add(1)
			return resp.Value{}, unknownOutcome(errors.Join(stopped, r.err)), false
		}
		return resp.Value{}, stopped, false
	}
	return e.classify(ctx, addr, r.v, r.err, a, retryUnknown)
}

// unblock ends a blocked call and returns its reply: it asks the node, on
// the shared connection, to unblock it (askUnblock) and waits for the reply
// up to unblockWait; then, or at once when hard (the node is failing), it
// closes the call's connection.
func (e *Engine) unblock(c *conn.Conn, addr string, replies <-chan blockedReply, hard bool) blockedReply {
	if !hard {
		ctx, cancel := context.WithTimeout(context.Background(), e.unblockWait())
		defer cancel()
		if r, ok := e.askUnblock(ctx, c, addr, replies); ok {
			return r
		}
	}
	_ = c.Close()
	return <-replies
}

// unblockRetry is how often CLIENT UNBLOCK is sent again while it answers 0
// and the call's reply has not come.
const unblockRetry = 2 * time.Millisecond

// askUnblock sends CLIENT UNBLOCK id ERROR for c's call and waits for the
// call's reply until ctx ends (ok false). CLIENT UNBLOCK answers 0 when the
// call is not blocked: either its reply is on its way, or the node has not
// processed the command yet (it was written just before the call was
// stopped, and still sits in the network or the node's input buffer). Both
// end soon, so it is sent again every unblockRetry until the reply comes:
// a call left to block would otherwise be cut off with its outcome unknown.
// A reply of 1, or a failure of the shared connection, leaves the wait to
// the call's reply.
func (e *Engine) askUnblock(ctx context.Context, c *conn.Conn, addr string, replies <-chan blockedReply) (blockedReply, bool) {
	id := e.blockers.clientIDOf(c)
	again := id != ""
	var t *time.Timer
	for {
		var retry <-chan time.Time
		if again {
			again = e.sendUnblock(ctx, addr, id)
		}
		if again {
			if t == nil {
				t = time.NewTimer(unblockRetry)
				defer t.Stop()
			} else {
				t.Reset(unblockRetry)
			}
			retry = t.C
		}
		select {
		case r := <-replies:
			return r, true
		case <-ctx.Done():
			return blockedReply{}, false
		case <-retry:
		}
	}
}

// sendUnblock sends CLIENT UNBLOCK id ERROR on addr's shared connection and
// reports whether it answered 0: no call of that id was blocked.
func (e *Engine) sendUnblock(ctx context.Context, addr, id string) bool {
	sc, err := e.pool.get(ctx, addr, true)
	if err != nil {
		return false
	}
	v, err := sc.Do(ctx, "CLIENT", "UNBLOCK", id, "ERROR")
	return err == nil && v.Kind == resp.KindInteger && v.Int == 0
}
