package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// minBackoff is the first wait before a retry when nothing else wakes it;
// the wait doubles with each try up to maxBackoff.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = 100 * time.Millisecond
)

// Do runs one command on the cluster: it routes by the command's keys,
// follows redirects, and retries what certainly did not run (and what is
// idempotent) until ctx ends — or RetryTimeout, when ctx has no deadline.
// An error reply from the server is returned as the Value and as an error.
func (e *Engine) Do(ctx context.Context, args ...string) (resp.Value, error) {
	if err := e.admit(ctx, args); err != nil {
		return resp.Value{}, err
	}
	defer e.end()
	return e.runOne(ctx, args, nil)
}

// admit checks one command's request (arguments, context), lets it in
// unless Shutdown has begun (begin), and counts it. When it returns nil the
// caller must call end.
func (e *Engine) admit(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errEmptyCommand
	}
	if ctx == nil {
		return ErrNilContext
	}
	if !e.begin() {
		return ErrClosed
	}
	e.stats.requests.Add(1)
	return nil
}

var errEmptyCommand = errors.New("keel: empty command")

// runOne routes and runs one command; the caller has admitted it (begin).
// obs, when not nil, records its tries.
func (e *Engine) runOne(ctx context.Context, args []string, obs *Observation) (resp.Value, error) {
	cmd := e.command(ctx, args)
	if err := ConnStateError(&cmd, args); err != nil {
		return resp.Value{}, err
	}
	blocking := IsBlocking(cmd, args)
	slot, hasKeys, err := e.RouteSlot(cmd, args)
	if blocking {
		switch {
		case err != nil:
			return resp.Value{}, err
		case !hasKeys:
			return resp.Value{}, blockingRefusal(cmd.Name)
		}
		return e.runBlocking(ctx, cmd, args, slot, obs)
	}
	if errors.Is(err, ErrCrossSlot) {
		if cmd.Split == NoSplit {
			return resp.Value{}, err
		}
		return e.split(ctx, cmd, args, obs)
	}
	if !hasKeys && err == nil {
		if v, err, done := e.keyless(ctx, cmd, args, obs); done {
			return v, err
		}
	}
	// A malformed command (ErrArity) goes to any primary: the server's own
	// error says best what is wrong with it.
	return e.run(ctx, cmd, args, slot, hasKeys && err == nil, obs)
}

// attempt is the state of one request across its tries.
type attempt struct {
	tries     int
	redirects int
	addr      string        // where the last try went
	stats     *nodeCounters // the counters of the node at addr, once connected
	askAddr   string        // set by ASK: the next try goes there, once, with ASKING
	movedTo   string        // set by MOVED: where a command without known keys goes next
	lastErr   error
}

// run sends the command until it succeeds, fails for good, or time is up.
// obs, when not nil, records its tries.
func (e *Engine) run(ctx context.Context, cmd Command, args []string, slot int, hasKeys bool, obs *Observation) (resp.Value, error) {
	retryUnknown := e.opts.RetryUnknownOutcome || IsIdempotent(cmd, args)
	var a attempt
	var v resp.Value
	err := e.retry(ctx, &a, func() (bool, error) {
		tv, err, again := e.try(ctx, cmd, args, slot, hasKeys, &a, retryUnknown)
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

// retry calls try until it reports that it need not go again, and returns
// its last error. A redirect (MOVED, or ASK, which set a.askAddr) goes again
// at once; any other retry first waits (waitRetry) for a topology change or
// a backoff, until ctx ends — or, when ctx has no deadline, RetryTimeout
// after the first retry.
func (e *Engine) retry(ctx context.Context, a *attempt, try func() (again bool, err error)) error {
	// The time is taken only at the first retry, so the common case of a
	// first-try success costs no timer.
	var giveUp time.Time
	_, hasDeadline := ctx.Deadline()
	for {
		changed := e.changedChan() // before the try, so no change is missed
		if a.tries > 0 {
			e.stats.retries.Add(1)
		}
		a.tries++
		again, err := try()
		if !again {
			return withLastError(ctx, err, a.lastErr)
		}
		a.lastErr = err
		if a.askAddr != "" || errors.Is(err, resp.ErrMoved) || errors.Is(err, ErrWatchChanged) {
			continue // a redirect, or a watched key changed: go at once
		}
		if !hasDeadline && giveUp.IsZero() {
			giveUp = time.Now().Add(e.opts.RetryTimeout)
		}
		if werr := e.waitRetry(ctx, changed, a.tries, err, giveUp); werr != nil {
			return werr
		}
	}
}

// withLastError returns err, the end of a request's tries, wrapping the
// previous try's failure when ctx ended during the last try: the caller
// learns why the request never got through (errNodeSuspect, say) whether
// its deadline came during a try or during the wait between two, as
// waitRetry reports it.
func withLastError(ctx context.Context, err, lastErr error) error {
	if err == nil || err != ctx.Err() {
		return err
	}
	return afterLastError(err, lastErr)
}

// afterLastError returns err, which ended a request's tries, with the
// previous try's failure (lastErr, when there was one) wrapped after it.
func afterLastError(err, lastErr error) error {
	if lastErr == nil {
		return err
	}
	return fmt.Errorf("%w (last error: %w)", err, lastErr)
}

// try makes one attempt. again reports that the request should be retried.
func (e *Engine) try(ctx context.Context, cmd Command, args []string, slot int, hasKeys bool, a *attempt, retryUnknown bool) (v resp.Value, err error, again bool) {
	addr, asking := a.askAddr, a.askAddr != ""
	a.askAddr = ""
	switch {
	case asking:
	case !hasKeys && a.movedTo != "":
		// keel does not know the command's keys (its routing could not be
		// learned): follow the server.
		addr = a.movedTo
	default:
		if addr, err = e.pick(slot, hasKeys, cmd.ReadOnly); err != nil {
			e.trigger("slot not covered")
			return resp.Value{}, err, true
		}
	}
	c, err := e.connect(ctx, addr, a)
	if err != nil {
		if ctx.Err() != nil {
			return resp.Value{}, ctx.Err(), false
		}
		return resp.Value{}, err, true // never sent
	}
	if asking {
		var replies []resp.Value
		replies, err = c.DoMulti(ctx, []string{"ASKING"}, args)
		if err == nil {
			v = replies[1]
			err = v.Err()
		}
	} else if large(cmd, args, a.node()) {
		v, err = e.doLarge(ctx, c, addr, args, cmd.ReadOnly, a.node())
	} else {
		if b := e.spare(c, addr); b != nil {
			c = b.c
			defer b.release()
		}
		if cmd.ReadOnly {
			v, err = e.doRead(ctx, c, args)
		} else {
			v, err = c.Do(ctx, args...)
		}
	}
	if err == nil {
		if cmd.ReadOnly {
			a.node().noteReply(v)
		}
		return v, nil, false
	}
	return e.classify(ctx, addr, v, err, a, retryUnknown)
}

// classify decides what a failed try means: retry (and how), or give up.
func (e *Engine) classify(ctx context.Context, addr string, v resp.Value, err error, a *attempt, retryUnknown bool) (resp.Value, error, bool) {
	re, action := replyAction(err)
	switch action {
	case redirect:
		slot, to, ok := re.Redirect()
		if !ok {
			return v, err, false
		}
		a.redirects++
		a.node().redirects.Add(1)
		if a.redirects > e.opts.MaxRedirects {
			return v, fmt.Errorf("%w: %w", ErrTooManyRedirects, err), false
		}
		to = redirectAddr(to, addr)
		if re.Code == "ASK" {
			e.stats.asked.Add(1)
			a.askAddr = to
		} else {
			a.movedTo = to
			e.moved(slot, to)
		}
		return v, err, true
	case backOff:
		return v, err, true
	case refreshFirst:
		if re.Code == "READONLY" {
			e.primaryRefused(addr)
		}
		e.trigger(re.Code)
		return v, err, true
	case final:
		if re != nil {
			return v, err, false // the server's answer to this command
		}
	}
	a.node().errors.Add(1)
	err, again := e.connFailure(ctx, err, retryUnknown)
	return resp.Value{}, err, again
}

// connect gets a connection to addr for one try of a, and counts the try
// on the node's counters.
func (e *Engine) connect(ctx context.Context, addr string, a *attempt) (*conn.Conn, error) {
	a.addr = addr
	suspect := e.isSuspect(addr)
	if suspect && e.probed(addr) {
		c, stats, ok := e.pool.live(addr)
		if !ok {
			return nil, errNodeSuspect
		}
		a.stats = stats
		a.sent()
		return c, nil
	}
	c, stats, err := e.pool.node(ctx, addr, !suspect)
	a.stats = stats
	if err != nil {
		return nil, err
	}
	a.sent()
	return c, nil
}

// sent counts a try that reached its node on the node's counters.
func (a *attempt) sent() {
	n := a.node()
	n.requests.Add(1)
	if a.tries > 1 {
		n.retries.Add(1)
	}
}

// node returns the counters of the node the last try reached; tries that
// reached none, and requests that connect by other means (scans, watches),
// count into discarded.
func (a *attempt) node() *nodeCounters {
	if a.stats == nil {
		return &discarded
	}
	return a.stats
}

var discarded nodeCounters

// moved applies a MOVED redirect to slot, now served by addr, and asks for
// a refresh to learn what else moved.
func (e *Engine) moved(slot int, addr string) {
	e.stats.moved.Add(1)
	e.patchSlot(slot, addr)
	e.trigger("MOVED")
}

// retryAction is what a server's error reply says about sending the
// command again.
type retryAction uint8

const (
	// final: the server's answer to the command (or no reply at all).
	final retryAction = iota
	// redirect (MOVED, ASK): the slot is served elsewhere; go there at once.
	redirect
	// backOff (TRYAGAIN): a multi-key command met a slot mid-migration;
	// wait, then retry.
	backOff
	// refreshFirst (CLUSTERDOWN, READONLY, LOADING, MASTERDOWN, and
	// UNBLOCKED, sent to blocked clients of a primary turned replica): the
	// shard may have changed under us (a failover, a restarted node);
	// refresh the topology, then retry.
	refreshFirst
)

// replyAction classifies err: the server error it holds, if any, and what
// that error says to do. These are the retry rules of every request (Do,
// pipelines, transactions, watches, scans).
func replyAction(err error) (*resp.Error, retryAction) {
	if err == nil {
		return nil, final
	}
	re, ok := err.(*resp.Error) // the usual form; As, which costs an allocation, for wrapped ones
	if !ok {
		if re = asServerError(err); re == nil {
			return nil, final
		}
	}
	switch re.Code {
	case "MOVED", "ASK":
		return re, redirect
	case "TRYAGAIN":
		return re, backOff
	case "CLUSTERDOWN", "READONLY", "LOADING", "MASTERDOWN", "UNBLOCKED":
		return re, refreshFirst
	}
	return re, final
}

// asServerError returns the server error err wraps, or nil.
func asServerError(err error) *resp.Error {
	var re *resp.Error
	if errors.As(err, &re) {
		return re
	}
	return nil
}

// retryable reports server errors that say the command did not run here
// and should be sent again, possibly elsewhere.
func retryable(err error) bool {
	_, action := replyAction(err)
	return action != final
}

// connFailure decides what a try that got no reply means (its connection
// failed, or its context ended): the error to report and whether the request
// may be sent again. retryUnknown says whether a command that may have run
// may run again.
func (e *Engine) connFailure(ctx context.Context, err error, retryUnknown bool) (error, bool) {
	if ctx.Err() != nil {
		// The caller's time is up. If the command may have been sent, its
		// outcome is unknown: say so when it matters.
		if !retryUnknown && !errors.Is(err, errNodeDialing) && !errors.Is(err, errNodeSuspect) {
			e.stats.unknownOutcomes.Add(1)
			return unknownOutcome(ctx.Err()), false
		}
		return ctx.Err(), false
	}
	if errors.Is(err, resp.ErrTooLarge) {
		// The reply arrived, over the configured limits: the command ran,
		// and would meet the same refusal again.
		return err, false
	}
	if conn.MayHaveRun(err) {
		if retryUnknown {
			return err, true
		}
		e.stats.unknownOutcomes.Add(1)
		return unknownOutcome(err), false
	}
	if errors.Is(err, conn.ErrClosed) && e.active.Load()&closedBit != 0 {
		return ErrClosed, false
	}
	return err, true // not sent: safe to retry
}

// redirectAddr resolves a MOVED/ASK target; ":port" means the host the
// request went to (Redis 7 sends it when the node's host is unknown to it).
func redirectAddr(to, from string) string {
	host, port, err := net.SplitHostPort(to)
	if err != nil || host != "" {
		return to
	}
	fromHost, _, err := net.SplitHostPort(from)
	if err != nil {
		return to
	}
	return net.JoinHostPort(fromHost, port)
}

// ErrRetryTimeout ends retrying for a request without a deadline (and for a
// request to one node, after nodeRetryWindow); the error wraps the last
// failure too.
var ErrRetryTimeout = errors.New("keel: gave up retrying after Options.RetryTimeout")

// waitRetry waits until the topology changes, a backoff passes, or the
// request must give up (its context ended, Shutdown began, or giveUp — when
// set — passed).
func (e *Engine) waitRetry(ctx context.Context, changed <-chan struct{}, tries int, lastErr error, giveUp time.Time) error {
	backoff := min(minBackoff<<min(tries-1, 10), maxBackoff)
	backoff = backoff/2 + rand.N(backoff/2+1) // jitter: retries don't march in step
	if !giveUp.IsZero() {
		left := time.Until(giveUp)
		if left <= 0 {
			return afterLastError(ErrRetryTimeout, lastErr)
		}
		backoff = min(backoff, left)
	}
	t := time.NewTimer(backoff)
	defer t.Stop()
	select {
	case <-changed:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return afterLastError(ctx.Err(), lastErr)
	case <-e.closing:
		return ErrClosed
	}
}

// pick chooses the node for a command on slot.
func (e *Engine) pick(slot int, hasKeys, readOnly bool) (string, error) {
	t := e.topo.Load()
	if !hasKeys {
		return e.anyPrimary(t)
	}
	sh, ok := t.ShardFor(slot)
	if !ok {
		return "", fmt.Errorf("%w: slot %d", ErrSlotUncovered, slot)
	}
	if !readOnly || len(sh.Replicas) == 0 {
		return sh.Primary.Addr, nil
	}
	switch e.opts.ReadPolicy {
	case ReadPrimaryPreferred:
		if e.isSuspect(sh.Primary.Addr) {
			if r, ok := e.healthyReplica(sh); ok {
				return r, nil
			}
		}
	case ReadReplicaPreferred:
		if r, ok := e.healthyReplica(sh); ok {
			return r, nil
		}
	case ReadNearest:
		return e.nearest(sh), nil
	}
	return sh.Primary.Addr, nil
}

// anyPrimary picks a random primary that is not suspect, for keyless commands.
func (e *Engine) anyPrimary(t *Topology) (string, error) {
	if len(t.Shards) == 0 {
		return "", ErrNoNode
	}
	start := rand.N(len(t.Shards))
	for i := range t.Shards {
		sh := t.Shards[(start+i)%len(t.Shards)]
		if !e.isSuspect(sh.Primary.Addr) {
			return sh.Primary.Addr, nil
		}
	}
	return t.Shards[start].Primary.Addr, nil
}

// healthyReplica picks a random replica that is online and not suspect.
func (e *Engine) healthyReplica(sh *Shard) (string, bool) {
	start := rand.N(len(sh.Replicas))
	for i := range sh.Replicas {
		r := sh.Replicas[(start+i)%len(sh.Replicas)]
		if r.Health == Online && !e.isSuspect(r.Addr) {
			return r.Addr, true
		}
	}
	return "", false
}

// nearest picks the shard's node with the shortest connection round trip
// among those connected and not suspect, or the primary when none is.
// Replicas not yet connected are dialled in the background, so they can be
// measured next time.
func (e *Engine) nearest(sh *Shard) string {
	best, bestRTT := sh.Primary.Addr, time.Duration(math.MaxInt64)
	consider := func(addr string) {
		if e.isSuspect(addr) {
			return
		}
		if rtt, ok := e.pool.rtt(addr); ok && rtt < bestRTT {
			best, bestRTT = addr, rtt
		} else if !ok {
			e.pool.warm(addr)
		}
	}
	consider(sh.Primary.Addr)
	for _, r := range sh.Replicas {
		if r.Health == Online {
			consider(r.Addr)
		}
	}
	return best
}
