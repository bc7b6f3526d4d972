package keel

import (
	"context"

	"github.com/keel-go/keel/internal/cluster"
)

// Pipeline collects commands to send together. Commands for the same node go
// out back to back; the replies come back in order. It is not safe for
// concurrent use; make one per batch.
type Pipeline struct {
	c    *Client
	cmds [][]string
}

// Result is the outcome of one command of a pipeline.
type Result = cluster.Result

// Pipeline returns an empty pipeline on c.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// Do adds a command to the pipeline.
func (p *Pipeline) Do(args ...string) *Pipeline {
	p.cmds = append(p.cmds, args)
	return p
}

// Len returns the number of commands queued.
func (p *Pipeline) Len() int { return len(p.cmds) }

// Exec sends the queued commands and returns one result per command, in
// order; each follows the same redirect and retry rules as Client.Do. The
// pipeline is empty afterwards and can be reused.
func (p *Pipeline) Exec(ctx context.Context) []Result {
	cmds := p.cmds
	p.cmds = nil
	return p.c.e.Pipeline(ctx, cmds)
}
