package keel

import (
	"context"
	"fmt"

	"github.com/keel-go/keel/internal/cluster"
)

// Watch is optimistic locking on keys of one slot: a connection of its own
// to the slot's primary, on which WATCH holds the keys while Client.Watch's
// function runs. Read with Run(ctx, w, Get(key)) or w.Do, and commit with a
// transaction from w.Tx: it runs only if no watched key changed since
// WATCH, and fails with ErrWatchChanged otherwise.
//
// Commands on a Watch must keep to the watched slot (ErrCrossSlot
// otherwise). A Watch is not safe for concurrent use, and is over once the
// function returns.
type Watch struct {
	c  *Client
	wc *cluster.WatchConn
}

// Watch runs fn with WATCH on keys, all of which must hash to one slot. If
// fn returns an error matching ErrWatchChanged (its transaction found a
// watched key changed), Watch runs it again from a fresh WATCH, up to
// Options.WatchAttempts times in all; it does so too after an error of the
// Watch that proves nothing was written and the keys moved or their node
// failed over (a redirect, CLUSTERDOWN, a lost connection…), on the
// slot's owner as then known. A rerun repeats everything fn did: fn should
// only read through the Watch and write through its transaction (w.Tx()),
// which runs at most once; writes it sends with w.Do, and effects outside
// Redis, run again. Watch stops when ctx ends, and returns fn's other
// errors as they are.
//
// The connection is keel's own, taken from a small per-node pool (a few
// idle ones are kept, and closed with the client): the shared connections
// cannot hold WATCH. After fn it goes back clean (UNWATCH), or is closed
// when its state is uncertain (an error mid-command, ctx ended).
func (c *Client) Watch(ctx context.Context, fn func(w *Watch) error, keys ...string) error {
	if fn == nil {
		return fmt.Errorf("%w: nil function", ErrArgument)
	}
	if len(keys) == 0 {
		return fmt.Errorf("keel: WATCH: %w", errNoKeys)
	}
	slot := cluster.Slot(keys[0])
	for _, k := range keys[1:] {
		if s := cluster.Slot(k); s != slot {
			return fmt.Errorf("%w: watched keys in slots %d and %d", ErrCrossSlot, slot, s)
		}
	}
	return c.e.Watch(ctx, slot, keys, func(wc *cluster.WatchConn) error {
		return fn(&Watch{c: c, wc: wc})
	})
}

// Do runs any command on the watch's connection, as Client.Do runs it.
func (w *Watch) Do(ctx context.Context, args ...any) (Value, error) {
	return Run(ctx, w, Command(args...))
}

// run makes *Watch a Runner.
func (w *Watch) run(ctx context.Context, args []string) (Value, error) {
	if cluster.IsTxControl(args) {
		return Value{}, fmt.Errorf("%w: %s on a Watch (use Watch.Tx)", ErrArgument, args[0])
	}
	if h := w.c.hooks.commands(); h != nil {
		return h.runCommand(ctx, w, args)
	}
	return w.wc.Do(ctx, args)
}

// Tx returns an empty transaction that runs on the watch's connection: its
// Exec fails with ErrWatchChanged, running nothing, if a watched key
// changed. WATCH ends with its Exec, whatever the outcome.
func (w *Watch) Tx() *Tx { return &Tx{c: w.c, w: w} }
