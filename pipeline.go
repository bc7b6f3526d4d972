package keel

import (
	"context"

	"github.com/keel-go/keel/resp"
)

// Pipeline collects commands to send together. Commands for the same node go
// out back to back; the replies come back in order. It is not safe for
// concurrent use; make one per batch, or reuse one after Exec.
//
// Commands are added untyped with Do, or typed with Queue, whose Future
// holds the converted result after Exec.
type Pipeline struct {
	c *Client
	cmdQueue
}

// Result is the outcome of one command of a pipeline or transaction: its
// reply in Value, or its error in Err. It is resp.Result, defined beside
// Value so that the engine fills the slice Exec returns without a copy.
type Result = resp.Result

// Pipeline returns an empty pipeline on c.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// Do adds a command to the pipeline, its arguments converted as Client.Do
// converts them. Strings are not copied; a []byte must not change until Exec
// returns. An argument that cannot be converted fails that command alone,
// in its Result, without sending it.
func (p *Pipeline) Do(args ...any) *Pipeline {
	p.do(args)
	return p
}

// Len returns the number of commands queued.
func (p *Pipeline) Len() int { return len(p.ends) }

// Exec sends the queued commands and returns one result per command, in
// order; each follows the same redirect and retry rules as Client.Do. The
// Futures of commands added with Queue are set before it returns. The
// pipeline is empty afterwards and can be reused.
func (p *Pipeline) Exec(ctx context.Context) []Result {
	defer p.reset() // even when a hook panics
	var results []Result
	if h := p.c.hooks.pipelines(); h != nil {
		results, _ = h.runPipeline(ctx, p, false, p.built())
	} else {
		results = p.c.e.Pipeline(ctx, p.built())
	}
	results = p.spread(results)
	p.resolve(results)
	return results
}
