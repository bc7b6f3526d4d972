package keel

import (
	"context"

	"github.com/keel-go/keel/internal/cluster"
)

// Pipeline collects commands to send together. Commands for the same node go
// out back to back; the replies come back in order. It is not safe for
// concurrent use; make one per batch, or reuse one after Exec.
type Pipeline struct {
	c    *Client
	args []string   // every queued command's arguments, back to back
	ends []int      // where each command's arguments end in args
	cmds [][]string // Exec's view of the commands, kept for reuse
}

// maxKeptArgs bounds the argument storage a Pipeline keeps after Exec for
// its next batch; a larger one, grown for a burst, is dropped.
const maxKeptArgs = 1 << 16

// Result is the outcome of one command of a pipeline.
type Result = cluster.Result

// Pipeline returns an empty pipeline on c.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// Do adds a command to the pipeline. The arguments are copied, so args may
// be reused once Do returns.
func (p *Pipeline) Do(args ...string) *Pipeline {
	p.args = append(p.args, args...)
	p.ends = append(p.ends, len(p.args))
	return p
}

// Len returns the number of commands queued.
func (p *Pipeline) Len() int { return len(p.ends) }

// Exec sends the queued commands and returns one result per command, in
// order; each follows the same redirect and retry rules as Client.Do. The
// pipeline is empty afterwards and can be reused.
func (p *Pipeline) Exec(ctx context.Context) []Result {
	cmds := p.cmds[:0]
	start := 0
	for _, end := range p.ends {
		cmds = append(cmds, p.args[start:end:end])
		start = end
	}
	results := p.c.e.Pipeline(ctx, cmds)
	p.reset(cmds)
	return results
}

// reset empties the pipeline, keeping its storage unless a burst grew it.
// Nothing holds the commands once Exec returns: requests copy their args.
func (p *Pipeline) reset(cmds [][]string) {
	clear(p.args) // the pipeline must not keep the caller's strings alive
	clear(cmds)
	if cap(p.args) > maxKeptArgs {
		p.args, p.ends, cmds = nil, nil, nil
	}
	p.args, p.ends, p.cmds = p.args[:0], p.ends[:0], cmds[:0]
}
