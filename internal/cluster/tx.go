package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Transaction errors.
var (
	// ErrTxDiscarded is matched by the error of a transaction the server
	// discarded (EXECABORT) because it refused a queued command: none of its
	// commands ran.
	ErrTxDiscarded = errors.New("keel: transaction discarded: a queued command was refused")
	// ErrWatchChanged is matched by the error of a transaction that did not
	// run because a key it watched changed (EXEC answered null).
	ErrWatchChanged = errors.New("keel: transaction not run: a watched key changed")
	// ErrMultiRefused is matched when the server refused MULTI itself (an
	// ACL without it, say): the commands behind it then ran one by one,
	// outside a transaction, and their replies are in the results.
	ErrMultiRefused = errors.New("keel: MULTI refused: the commands ran outside a transaction")
)

// txControl are the commands that would end, nest or change a transaction
// from inside it: a queued one would break the MULTI … EXEC framing.
var txControl = [...]string{"MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"}

// IsTxControl reports whether args is MULTI, EXEC, DISCARD, WATCH or
// UNWATCH, which a transaction's own commands may not be.
func IsTxControl(args []string) bool {
	for _, name := range txControl {
		if len(args) > 0 && equalUpper(name, args[0]) {
			return true
		}
	}
	return false
}

// TxSlot returns the one slot every key of cmds hashes to. hasKeys is false
// when no command has a key. Keys in several slots give ErrCrossSlot; a
// command that would change the connection's state gives ErrConnState, a
// blocking one ErrBlocking.
func TxSlot(cmds [][]string) (slot int, hasKeys bool, err error) {
	slot = -1
	for _, args := range cmds {
		cmd, _ := Lookup(args[0])
		// AUTH, HELLO, CLIENT TRACKING… would run at EXEC on a shared
		// connection, and RESET or QUIT are not even queued.
		if err := ConnStateError(&cmd, args); err != nil {
			return 0, false, err
		}
		if IsBlocking(cmd, args) {
			return 0, false, blockingRefusal(cmd.Name) // MULTI would run it without blocking
		}
		s, keyed, err := RouteSlot(cmd, args)
		if err != nil {
			return 0, false, err
		}
		if !keyed || !BindsSlot(cmd) {
			continue
		}
		if slot >= 0 && s != slot {
			return 0, false, fmt.Errorf("%w: the transaction's keys are in slots %d and %d", ErrCrossSlot, slot, s)
		}
		slot = s
	}
	return max(slot, 0), slot >= 0, nil
}

// Tx runs cmds as one transaction, MULTI … EXEC, on the primary of slot,
// and returns one result per command. The caller has checked cmds (TxSlot,
// IsTxControl). The whole transaction goes out as one batch on the node's
// shared connection, which keeps a batch contiguous (see conn.Conn.DoEach):
// no other caller's command can land inside it.
//
// A redirect, or a refusal that proves the transaction did not run
// (CLUSTERDOWN, TRYAGAIN, READONLY, LOADING… on a queued command or on
// EXEC), sends it again whole, by the same rules as Do. A connection lost
// once the batch was sent makes the outcome unknown (ErrUnknownOutcome),
// unless every command is idempotent or RetryUnknownOutcome is set.
// Commands refused at queueing give ErrTxDiscarded, their errors in their
// results.
func (e *Engine) Tx(ctx context.Context, slot int, cmds [][]string) ([]resp.Result, error) {
	return e.tx(ctx, slot, cmds, nil)
}

// tx is Tx, recording its tries in obs when it is not nil.
func (e *Engine) tx(ctx context.Context, slot int, cmds [][]string, obs *Observation) ([]resp.Result, error) {
	if err := ctx.Err(); err != nil {
		return failedResults(len(cmds), err), err // certainly not sent
	}
	if !e.begin() {
		return failedResults(len(cmds), ErrClosed), ErrClosed
	}
	defer e.end()
	e.stats.requests.Add(1)
	retryUnknown := e.opts.RetryUnknownOutcome || allIdempotent(cmds)
	var a attempt
	var results []resp.Result
	err := e.retry(ctx, &a, func() (bool, error) {
		r, again, err := e.tryTx(ctx, slot, cmds, &a, retryUnknown)
		if !again {
			results = r
		}
		return again, err
	})
	if err != nil {
		e.stats.errors.Add(1)
	}
	if obs != nil {
		obs.note(&a)
	}
	if results == nil {
		results = failedResults(len(cmds), err)
	}
	return results, err
}

// tryTx makes one attempt at a transaction.
func (e *Engine) tryTx(ctx context.Context, slot int, cmds [][]string, a *attempt, retryUnknown bool) ([]resp.Result, bool, error) {
	addr, asking, err := e.primaryOrAsked(slot, a)
	if err != nil {
		return nil, true, err
	}
	c, err := e.connect(ctx, addr, a)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, true, err // never sent
	}
	results, err := sendTx(ctx, c, cmds, asking)
	if err == nil || isTxVerdict(err) {
		return results, false, err
	}
	_, err, again := e.classify(ctx, addr, resp.Value{}, err, a, retryUnknown)
	return nil, again, err
}

// primaryOrAsked returns where the next try of a request on slot goes: the
// node an ASK named (asking true), or else the slot's primary.
func (e *Engine) primaryOrAsked(slot int, a *attempt) (addr string, asking bool, err error) {
	if a.askAddr != "" {
		addr, a.askAddr = a.askAddr, ""
		return addr, true, nil
	}
	if addr, err = e.pick(slot, true, false); err != nil {
		e.trigger("slot not covered")
	}
	return addr, false, err
}

// isTxVerdict reports the errors sendTx returns for a transaction the
// server judged: retrying would not change the answer (ErrWatchChanged is
// for the caller of a watch to act on).
func isTxVerdict(err error) bool {
	return errors.Is(err, ErrTxDiscarded) || errors.Is(err, ErrWatchChanged) || errors.Is(err, ErrMultiRefused)
}

// sendTx sends MULTI, cmds and EXEC (after ASKING when asking) on c as one
// batch, and reads EXEC's answer. It returns the results and nil when the
// transaction ran; a verdict (isTxVerdict) with the results when the server
// judged it; otherwise the error that decides what to do next: the
// connection's or ctx's, or a server error proving nothing ran (MOVED, ASK,
// TRYAGAIN… on a queued command or on EXEC itself).
func sendTx(ctx context.Context, c *conn.Conn, cmds [][]string, asking bool) ([]resp.Result, error) {
	batch := make([][]string, 0, len(cmds)+3)
	if asking {
		// The ASKING flag survives until EXEC once MULTI has begun: one
		// ASKING before MULTI covers every queued command and EXEC.
		batch = append(batch, askingCmd)
	}
	batch = append(batch, multiCmd)
	batch = append(batch, cmds...)
	batch = append(batch, execCmd)
	replies := make([]resp.Value, len(batch))
	if _, err := c.DoEach(ctx, batch, nil, func(j int, v resp.Value) { replies[j] = v }); err != nil {
		return nil, err
	}
	if asking {
		replies = replies[1:]
	}
	multi, queued, exec := replies[0], replies[1:len(replies)-1], replies[len(replies)-1]
	if err := multi.Err(); err != nil {
		results := make([]resp.Result, len(cmds))
		for i, v := range queued {
			results[i] = resp.Result{Value: v, Err: v.Err()}
		}
		return results, fmt.Errorf("%w: %w", ErrMultiRefused, err)
	}
	switch exec.Kind {
	case resp.KindArray:
		if len(exec.Elems) != len(cmds) {
			return nil, fmt.Errorf("%w: EXEC answered %d replies for %d commands", resp.ErrProtocol, len(exec.Elems), len(cmds))
		}
		results := make([]resp.Result, len(cmds))
		for i, v := range exec.Elems {
			results[i] = resp.Result{Value: v, Err: v.Err()}
		}
		return results, nil
	case resp.KindNull:
		return failedResults(len(cmds), ErrWatchChanged), ErrWatchChanged
	}
	execErr := exec.Err()
	if !errors.Is(execErr, resp.ErrExecAbort) {
		// EXEC itself refused (a redirect or TRYAGAIN once the slot's keys
		// moved under the queued commands): the transaction was discarded.
		// Any other refusal (an ACL without EXEC, say) may leave the
		// connection inside MULTI, where every later command would be
		// queued: it is closed rather than shared in that state.
		if !retryable(execErr) {
			_ = c.Close()
		}
		return nil, execErr
	}
	var refused error
	for _, v := range queued {
		if err := v.Err(); err != nil {
			if retryable(err) {
				return nil, err // the first says where to go, or why to wait
			}
			if refused == nil {
				refused = err
			}
		}
	}
	if refused == nil {
		refused = execErr
	}
	results := make([]resp.Result, len(cmds))
	for i, v := range queued {
		results[i] = resp.Result{Value: v, Err: v.Err()}
		if results[i].Err == nil {
			results[i] = resp.Result{Err: ErrTxDiscarded}
		}
	}
	return results, fmt.Errorf("%w: %w", ErrTxDiscarded, refused)
}

var (
	askingCmd = []string{"ASKING"}
	multiCmd  = []string{"MULTI"}
	execCmd   = []string{"EXEC"}
)

// failedResults returns n results failed with err.
func failedResults(n int, err error) []resp.Result {
	results := make([]resp.Result, n)
	for i := range results {
		results[i].Err = err
	}
	return results
}

// allIdempotent reports whether running every command of cmds twice has the
// effect of running them once: only then may a transaction whose outcome is
// unknown be sent again without the caller's leave.
func allIdempotent(cmds [][]string) bool {
	for _, args := range cmds {
		cmd, _ := Lookup(args[0])
		if !IsIdempotent(cmd, args) {
			return false
		}
	}
	return true
}
