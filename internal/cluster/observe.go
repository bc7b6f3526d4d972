package cluster

import (
	"context"
	"slices"

	"github.com/keel-go/keel/resp"
)

// Observation is what a request's tries were, for the package keel's hooks.
// The Observed entry points fill it in; the plain ones (Do, Pipeline, Tx,
// DoOn) pass none, and the tries then skip recording altogether.
type Observation struct {
	// Node is where the last try went; empty when the request went to
	// several nodes (a fan-out, a split multi-key command) or to none.
	Node string
	// Nodes lists the nodes a pipeline's commands went to, in the order
	// first met.
	Nodes []string
	// Attempts counts tries: one per send to a node (a pipeline's batch
	// counted once, then each command sent again on its own).
	Attempts int
	// Redirects counts MOVED and ASK replies followed.
	Redirects int
}

// note records one finished request's attempts.
func (o *Observation) note(a *attempt) {
	o.Node = a.addr
	o.Attempts += a.tries
	o.Redirects += a.redirects
}

// addNode records that part of a pipeline went to addr.
func (o *Observation) addNode(addr string) {
	if addr != "" && !slices.Contains(o.Nodes, addr) {
		o.Nodes = append(o.Nodes, addr)
	}
}

// DoObserved is Do, recording its tries in obs.
func (e *Engine) DoObserved(ctx context.Context, obs *Observation, args []string) (resp.Value, error) {
	if err := e.admit(ctx, args); err != nil {
		return resp.Value{}, err
	}
	defer e.end()
	return e.runOne(ctx, args, obs)
}

// DoOnObserved is DoOn, recording its tries in obs.
func (e *Engine) DoOnObserved(ctx context.Context, obs *Observation, addr string, args []string) (resp.Value, error) {
	obs.Node = addr
	return e.doOn(ctx, addr, args, &obs.Attempts)
}

// PipelineObserved is Pipeline, recording its nodes and tries in obs.
func (e *Engine) PipelineObserved(ctx context.Context, obs *Observation, cmds [][]string) []resp.Result {
	return e.pipelineAdmitted(ctx, cmds, obs)
}

// TxObserved is Tx, recording its tries in obs.
func (e *Engine) TxObserved(ctx context.Context, obs *Observation, slot int, cmds [][]string) ([]resp.Result, error) {
	return e.tx(ctx, slot, cmds, obs)
}
