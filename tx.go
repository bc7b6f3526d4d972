package keel

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-go/keel/internal/cluster"
)

// Tx is a transaction: commands queued like a Pipeline's (Do, or Queue for
// typed results), that Exec sends as MULTI, the commands, EXEC, in one batch
// to the node that owns their keys, where they run all together with no
// other client's command in between, or not at all. Every key of every
// command must hash to one slot (use a hash tag such as {user42}); commands
// without keys may join them, but at least one command needs a key, which
// says where the transaction runs.
//
// A Tx from Client.Tx runs on the connection keel shares between
// goroutines; one from Watch.Tx runs on the watch's connection, where it
// fails with ErrWatchChanged if a watched key changed. A Tx is not safe for
// concurrent use; it is empty after Exec and can be reused.
type Tx struct {
	c *Client
	w *Watch // nil: the client's shared connections
	cmdQueue
}

// Tx returns an empty transaction on c.
func (c *Client) Tx() *Tx { return &Tx{c: c} }

// Do adds a command to the transaction, its arguments converted as
// Client.Do converts them. Strings are not copied; a []byte must not change
// until Exec returns.
func (t *Tx) Do(args ...any) *Tx {
	t.do(args)
	return t
}

// Len returns the number of commands queued.
func (t *Tx) Len() int { return len(t.ends) }

// Exec runs the transaction and returns one result per command, in order;
// the Futures of commands added with Queue are set before it returns. A
// command's own failure while the transaction ran (WRONGTYPE, say) is in
// its Result, with a nil error from Exec: Redis does not roll back.
//
// Nothing is sent, and the error matches ErrArgument, when a command failed
// to build, is MULTI, EXEC, DISCARD, WATCH or UNWATCH, or no command has a
// key; ErrCrossSlot when the keys are in several slots. ErrTxDiscarded
// means the server refused a queued command, so none ran. A transaction
// redirected (MOVED, ASK) or refused for a passing reason (a failover, a
// migration) before EXEC ran is sent again whole, as Client.Do would retry
// a command; one whose connection failed after it was sent fails with
// ErrUnknownOutcome, unless all its commands are idempotent or
// Options.RetryUnknownOutcome is set.
func (t *Tx) Exec(ctx context.Context) ([]Result, error) {
	defer t.reset()
	results, err := t.exec(ctx)
	if err != nil && results == nil {
		results = make([]Result, len(t.ends))
		for i := range results {
			results[i].Err = err
			if t.errs != nil && t.errs[i] != nil {
				results[i].Err = t.errs[i]
			}
		}
	}
	t.resolve(results)
	return results, err
}

// exec checks and sends the transaction; nil results mean nothing was sent.
func (t *Tx) exec(ctx context.Context) ([]Result, error) {
	if len(t.ends) == 0 {
		return nil, errEmptyTx
	}
	if err := t.firstErr(); err != nil {
		return nil, err
	}
	cmds := t.built()
	for _, args := range cmds {
		if cluster.IsTxControl(args) {
			return nil, fmt.Errorf("%w: %s inside a transaction", ErrArgument, args[0])
		}
	}
	slot, keyed, err := cluster.TxSlot(cmds)
	switch {
	case err == nil && !keyed:
		return nil, errTxNoKey
	case err != nil && !errors.Is(err, ErrCrossSlot) && !errors.Is(err, ErrConnState):
		return nil, fmt.Errorf("%w: %w", ErrArgument, err) // a command too short to find its keys in
	case err != nil:
		return nil, err
	}
	if h := t.c.hooks.pipelines(); h != nil {
		return h.runPipeline(ctx, txTarget{t, slot}, true, cmds)
	}
	if t.w != nil {
		return t.w.wc.Exec(ctx, cmds)
	}
	return t.c.e.Tx(ctx, slot, cmds)
}

var (
	errEmptyTx = fmt.Errorf("%w: empty transaction", ErrArgument)
	errTxNoKey = fmt.Errorf("%w: no command of the transaction has a key to choose its node by", ErrArgument)
)
