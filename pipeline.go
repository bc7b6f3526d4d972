package keel

import (
	"context"

	"github.com/keel-go/keel/internal/cluster"
)

// Pipeline collects commands to send together. Commands for the same node go
// out back to back; the replies come back in order. It is not safe for
// concurrent use; make one per batch, or reuse one after Exec.
//
// Commands are added untyped with Do, or typed with Queue, whose Future
// holds the converted result after Exec.
type Pipeline struct {
	c      *Client
	args   []string   // every queued command's arguments, back to back
	ends   []int      // where each command's arguments end in args
	errs   []error    // per command, why it cannot be sent; nil while none failed to build
	typed  []resolver // per command, its Future; nil while none is typed
	cmds   [][]string // Exec's view of the commands, kept for reuse
	failed int        // how many commands failed to build
}

// maxKeptArgs bounds the argument storage a Pipeline keeps after Exec for
// its next batch; a larger one, grown for a burst, is dropped.
const maxKeptArgs = 1 << 16

// Result is the outcome of one command of a pipeline.
type Result = cluster.Result

// Pipeline returns an empty pipeline on c.
func (c *Client) Pipeline() *Pipeline { return &Pipeline{c: c} }

// Do adds a command to the pipeline, its arguments converted as Client.Do
// converts them. Strings are not copied; a []byte must not change until Exec
// returns. An argument that cannot be converted fails that command alone,
// in its Result, without sending it.
func (p *Pipeline) Do(args ...any) *Pipeline {
	start := len(p.args)
	var err error
	if len(args) == 0 {
		err = errEmptyCommand
	} else {
		p.args, err = appendArgs(p.args, args)
	}
	if err != nil {
		p.args = p.args[:start]
		p.queue(nil, err, nil)
		return p
	}
	p.ends = append(p.ends, len(p.args))
	p.grow(nil, nil)
	return p
}

// queue adds a built command; it makes *Pipeline a Queuer.
func (p *Pipeline) queue(args []string, err error, r resolver) {
	if err == nil {
		p.args = append(p.args, args...)
	}
	p.ends = append(p.ends, len(p.args))
	p.grow(err, r)
}

// grow records the last command's build error and Future, keeping the two
// slices nil while no command needs them.
func (p *Pipeline) grow(err error, r resolver) {
	n := len(p.ends)
	if err != nil || p.errs != nil {
		if p.errs == nil {
			p.errs = make([]error, n-1, n)
		}
		p.errs = append(p.errs, err)
		if err != nil {
			p.failed++
		}
	}
	if r != nil || p.typed != nil {
		if p.typed == nil {
			p.typed = make([]resolver, n-1, n)
		}
		p.typed = append(p.typed, r)
	}
}

// Len returns the number of commands queued.
func (p *Pipeline) Len() int { return len(p.ends) }

// Exec sends the queued commands and returns one result per command, in
// order; each follows the same redirect and retry rules as Client.Do. The
// Futures of commands added with Queue are set before it returns. The
// pipeline is empty afterwards and can be reused.
func (p *Pipeline) Exec(ctx context.Context) []Result {
	cmds := p.cmds[:0]
	start := 0
	for i, end := range p.ends {
		if p.errs == nil || p.errs[i] == nil {
			cmds = append(cmds, p.args[start:end:end])
		}
		start = end
	}
	results := p.c.e.Pipeline(ctx, cmds)
	if p.failed > 0 {
		results = p.spread(results)
	}
	for i, r := range p.typed {
		if r != nil {
			r.resolve(results[i].Value, results[i].Err)
		}
	}
	p.reset(cmds)
	return results
}

// spread places the results of the commands sent among the build errors of
// those that were not.
func (p *Pipeline) spread(sent []Result) []Result {
	out := make([]Result, len(p.ends))
	j := 0
	for i, err := range p.errs {
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i] = sent[j]
		j++
	}
	return out
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
	p.errs, p.typed, p.failed = nil, nil, 0
}
