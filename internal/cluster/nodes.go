package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-go/keel/resp"
)

// ErrUnknownNode is returned for a request aimed at an address that is not a
// node of the current topology.
var ErrUnknownNode = errors.New("keel: not a node of the cluster")

// nodeRetryWindow bounds how long a request aimed at one node retries sends
// that failed: unlike a routed request, it cannot move to a new primary, so
// waiting for the topology to change does not help it.
const nodeRetryWindow = time.Second

// NodeError is one node's part of the failure of a request that went to
// several nodes, unless Options.NodeError says otherwise. errors.Is and
// errors.As see through it to Err.
type NodeError struct {
	Addr string // the node's address
	Err  error  // what went wrong there
}

// Error reads "keel: node addr: cause", saying "keel: " once even when the
// cause is one of keel's errors.
func (e *NodeError) Error() string {
	return "keel: node " + e.Addr + ": " + strings.TrimPrefix(e.Err.Error(), "keel: ")
}

// Unwrap returns Err.
func (e *NodeError) Unwrap() error { return e.Err }

// newNodeError is the default Options.NodeError.
func newNodeError(addr string, err error) error { return &NodeError{Addr: addr, Err: err} }

// NodeInfo is a node of the topology and its role.
type NodeInfo struct {
	Node
	Primary bool
}

// Nodes returns the nodes of the current topology: primaries first, in
// shard order, then replicas.
func (e *Engine) Nodes() []NodeInfo {
	t := e.topo.Load()
	var out []NodeInfo
	for _, sh := range t.Shards {
		out = append(out, NodeInfo{Node: sh.Primary, Primary: true})
	}
	for _, sh := range t.Shards {
		for _, r := range sh.Replicas {
			out = append(out, NodeInfo{Node: r})
		}
	}
	return out
}

// Closed reports whether Shutdown has begun.
func (e *Engine) Closed() bool { return e.active.Load()&closedBit != 0 }

// DoOn runs one command on the node at addr, and only there: it follows no
// redirect (a MOVED is the node's answer) and never re-routes. A send that
// failed is retried for a short while when it certainly did not run, or when
// the command is idempotent (or RetryUnknownOutcome allows it); otherwise the
// error matches ErrUnknownOutcome. An address outside the topology fails
// with ErrUnknownNode. Commands that would block or change the shared
// connection are refused as Do refuses them.
func (e *Engine) DoOn(ctx context.Context, addr string, args []string) (resp.Value, error) {
	return e.doOn(ctx, addr, args, nil)
}

// doOn is DoOn, counting its tries in *tries when tries is not nil.
func (e *Engine) doOn(ctx context.Context, addr string, args []string, tries *int) (resp.Value, error) {
	if err := e.admit(ctx, args); err != nil {
		return resp.Value{}, err
	}
	defer e.end()
	cmd := e.command(ctx, args) // a learned blocking command is refused here too
	if err := refusal(&cmd, args); err != nil {
		return resp.Value{}, err // the node's connection is shared all the same
	}
	return e.runOn(ctx, addr, args, e.opts.RetryUnknownOutcome || IsIdempotent(cmd, args), tries)
}

// runOn is DoOn for a request already admitted (begin). retryUnknown says
// whether the command may run again when its outcome is unknown; made, when
// not nil, counts the tries.
func (e *Engine) runOn(ctx context.Context, addr string, args []string, retryUnknown bool, made *int) (resp.Value, error) {
	if !e.topo.Load().Has(addr) {
		return resp.Value{}, fmt.Errorf("%w: %s", ErrUnknownNode, addr)
	}
	var giveUp time.Time
	for tries := 1; ; tries++ {
		changed := e.changedChan()
		if made != nil {
			*made = tries
		}
		v, err, again := e.tryOn(ctx, addr, args, retryUnknown)
		if err == nil || v.Kind == resp.KindError {
			return v, err // the node's answer, whatever it is
		}
		if again {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(nodeRetryWindow)
			}
			err = e.waitRetry(ctx, changed, tries, err, giveUp)
		}
		if err != nil {
			e.stats.errors.Add(1)
			return resp.Value{}, err
		}
		e.stats.retries.Add(1)
	}
}

// tryOn makes one try of args on addr. again reports that it failed and may
// be retried.
func (e *Engine) tryOn(ctx context.Context, addr string, args []string, retryUnknown bool) (v resp.Value, err error, again bool) {
	c, stats, err := e.pool.node(ctx, addr, true)
	if err != nil {
		if ctx.Err() != nil {
			return resp.Value{}, ctx.Err(), false
		}
		return resp.Value{}, err, true // never sent
	}
	stats.requests.Add(1)
	v, err = c.Do(ctx, args...)
	if err == nil || v.Kind == resp.KindError {
		return v, err, false
	}
	stats.errors.Add(1)
	err, again = e.connFailure(ctx, err, retryUnknown)
	return resp.Value{}, err, again
}
