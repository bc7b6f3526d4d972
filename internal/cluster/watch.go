package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// ErrWatchOver is the error of a WatchConn used after its function returned,
// or after its connection became unusable.
var ErrWatchOver = errors.New("keel: the watch is over: its connection is closed or returned")

// WatchConn is a connection of its own, to the primary of one slot, holding
// WATCH on keys of that slot while a Watch function runs. It is not safe for
// concurrent use, and must not be used once the function has returned.
type WatchConn struct {
	e      *Engine
	c      *conn.Conn
	addr   string
	slot   int
	asking bool     // the slot is being imported here: each command follows ASKING
	a      *attempt // the watch's attempts, for redirects and their limit
	// broken marks a connection whose state is uncertain (an error mid-way,
	// ctx ended mid-command): it is closed, never reused.
	broken bool
	execed bool // EXEC was sent, which ends WATCH
	over   bool // released
	// restart is an error after which starting over on a fresh WATCH is
	// safe: the slot moved, or a failure that proves nothing was written.
	restart error
}

// Watch lends a connection of its own to the primary of slot, sends WATCH
// keys on it and runs fn. When fn fails with ErrWatchChanged (its EXEC found
// a watched key changed), or with an error of the WatchConn after which
// starting over is safe (the slot moved or is migrating, a failover, a lost
// connection before anything was written), fn runs again from a fresh WATCH,
// on the slot's owner as then known: up to WatchAttempts times for changed
// keys, within MaxRedirects redirects, and until ctx ends (or RetryTimeout,
// without a deadline). Any other error of fn is returned as it is. The
// connection goes back to the pool clean (UNWATCH), or is closed.
func (e *Engine) Watch(ctx context.Context, slot int, keys []string, fn func(w *WatchConn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !e.begin() {
		return ErrClosed
	}
	defer e.end()
	var a attempt
	changed := 0
	return e.retry(ctx, &a, func() (bool, error) {
		again, err := e.watchOnce(ctx, slot, keys, fn, &a)
		if again && errors.Is(err, ErrWatchChanged) {
			if changed++; changed >= e.opts.WatchAttempts {
				return false, fmt.Errorf("%w (%d attempts)", err, changed)
			}
		}
		return again, err
	})
}

// watchOnce runs fn once on a fresh WATCH. again reports that the watch
// should start over.
func (e *Engine) watchOnce(ctx context.Context, slot int, keys []string, fn func(w *WatchConn) error, a *attempt) (bool, error) {
	addr, asking, err := e.primaryOrAsked(slot, a)
	if err != nil {
		return true, err
	}
	c, err := e.dedicated.get(ctx, addr)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return false, err
		}
		return true, err // not connected: nothing sent
	}
	w := &WatchConn{e: e, c: c, addr: addr, slot: slot, asking: asking, a: a}
	defer w.release(ctx)
	if _, err := w.send(ctx, append([]string{"WATCH"}, keys...), true); err != nil {
		return w.restart != nil, err
	}
	err = fn(w)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, ErrWatchChanged):
		return true, err
	case w.restart != nil && errors.Is(err, w.restart):
		return true, err
	}
	return false, err
}

// Slot returns the slot the watch is on.
func (w *WatchConn) Slot() int { return w.slot }

// Addr returns the address of the node the watch's connection goes to.
func (w *WatchConn) Addr() string { return w.addr }

// Do runs one command on the watch's connection. Its keys must be in the
// watched slot (ErrCrossSlot otherwise); a keyless command is allowed.
// Blocking commands are refused (ErrBlocking), as are MULTI, EXEC and the
// like, which the caller checks (IsTxControl); WAIT and WAITAOF are the
// exception (see wait).
func (w *WatchConn) Do(ctx context.Context, args []string) (resp.Value, error) {
	if len(args) == 0 {
		return resp.Value{}, errEmptyCommand
	}
	cmd := w.e.command(ctx, args)
	// The connection goes back to the pool after the watch: nothing may
	// change its state (AUTH, HELLO, CLIENT TRACKING…) or block it.
	if isWait(cmd.Name) {
		return w.wait(ctx, args)
	}
	if err := refusal(&cmd, args); err != nil {
		return resp.Value{}, err
	}
	if slot, keyed, err := w.e.RouteSlot(cmd, args); err != nil && !errors.Is(err, ErrArity) {
		return resp.Value{}, err
	} else if keyed && BindsSlot(cmd) && slot != w.slot && !w.e.single {
		return resp.Value{}, fmt.Errorf("%w: slot %d on a watch of slot %d", ErrCrossSlot, slot, w.slot)
	}
	w.e.stats.requests.Add(1)
	return w.send(ctx, args, w.e.opts.RetryUnknownOutcome || IsIdempotent(cmd, args))
}

// send sends args (after ASKING when the slot is being imported here) and
// judges a failure: classify decides whether the watch may start over, and
// a connection or context failure leaves the connection unusable.
func (w *WatchConn) send(ctx context.Context, args []string, retryUnknown bool) (resp.Value, error) {
	if w.over || w.broken {
		return resp.Value{}, ErrWatchOver
	}
	var v resp.Value
	var err error
	if w.asking {
		var replies []resp.Value
		replies, err = w.c.DoMulti(ctx, askingCmd, args)
		if err == nil {
			v = replies[1]
			err = v.Err()
		}
	} else {
		v, err = w.c.Do(ctx, args...)
	}
	if err == nil {
		return v, nil
	}
	return v, w.failed(ctx, v, err, retryUnknown)
}

// failed records what a failed command means for the watch and returns the
// error its caller sees.
func (w *WatchConn) failed(ctx context.Context, v resp.Value, err error, retryUnknown bool) error {
	if v.Kind != resp.KindError {
		w.broken = true // the connection failed, or ctx ended mid-command
	}
	_, err, again := w.e.classify(ctx, w.addr, v, err, w.a, retryUnknown)
	if again {
		w.restart = err
	}
	return err
}

// Exec sends MULTI, cmds and EXEC on the watch's connection as one batch
// (see Engine.Tx; the caller has checked cmds). It returns ErrWatchChanged
// when a watched key changed, so nothing ran. WATCH ends with it, whatever
// the answer.
func (w *WatchConn) Exec(ctx context.Context, cmds [][]string) ([]resp.Result, error) {
	if w.over || w.broken {
		return failedResults(len(cmds), ErrWatchOver), ErrWatchOver
	}
	if w.execed {
		// EXEC ended the WATCH: a second transaction would run unguarded.
		err := fmt.Errorf("%w: a transaction already ran on this watch, ending its WATCH", ErrWatchOver)
		return failedResults(len(cmds), err), err
	}
	slot, keyed, err := w.e.TxSlot(cmds)
	if err == nil && keyed && slot != w.slot && !w.e.single {
		err = fmt.Errorf("%w: slot %d in a transaction on a watch of slot %d", ErrCrossSlot, slot, w.slot)
	}
	if err != nil {
		return failedResults(len(cmds), err), err
	}
	w.e.stats.requests.Add(1)
	w.execed = true
	results, err := sendTx(ctx, w.c, cmds, w.asking)
	if err == nil || isTxVerdict(err) {
		return results, err
	}
	err = w.failed(ctx, resp.Value{Kind: kindOf(err)}, err, w.e.opts.RetryUnknownOutcome || allIdempotent(cmds))
	return failedResults(len(cmds), err), err
}

// kindOf is KindError for a server's error reply, KindInvalid otherwise.
func kindOf(err error) resp.Kind {
	var re *resp.Error
	if errors.As(err, &re) {
		return resp.KindError
	}
	return resp.KindInvalid
}

// release ends the watch: the connection goes back to the pool after
// UNWATCH (unless EXEC already ended the watch), or is closed when its
// state is uncertain or UNWATCH fails.
func (w *WatchConn) release(ctx context.Context) {
	keep := !w.broken
	if keep && !w.execed {
		if ctx.Err() != nil {
			keep = false
		} else if _, err := w.c.Do(ctx, "UNWATCH"); err != nil {
			keep = false
		}
	}
	w.over = true
	w.e.dedicated.put(w.c, keep)
}

// wait runs WAIT or WAITAOF on the watch's connection, the one whose writes
// they count. The watch's connection has a health check, so the command's
// timeout (its last argument, in milliseconds) must be positive (0 would
// block forever) and at most half the health timeout, or it is refused with
// ErrBlocking before anything is sent.
func (w *WatchConn) wait(ctx context.Context, args []string) (resp.Value, error) {
	health := w.e.opts.Conn.HealthTimeout
	if health == 0 {
		health = conn.DefaultHealthTimeout
	}
	ms, err := strconv.ParseInt(args[len(args)-1], 10, 64)
	if err != nil || len(args) < 3 {
		return resp.Value{}, fmt.Errorf("%w: %s: want a timeout in milliseconds as the last argument", ErrArity, args[0])
	}
	timeout := time.Duration(ms) * time.Millisecond
	switch {
	case ms <= 0:
		return resp.Value{}, fmt.Errorf("%w: %s with timeout 0 would block the watch's connection forever: give a timeout", ErrBlocking, args[0])
	case health > 0 && timeout > health/2:
		return resp.Value{}, fmt.Errorf("%w: %s timeout %v is over half the health timeout (%v), which would declare the watch's connection dead", ErrBlocking, args[0], timeout, health)
	}
	w.e.stats.requests.Add(1)
	return w.send(ctx, args, true)
}
