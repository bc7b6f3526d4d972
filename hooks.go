package keel

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-go/keel/internal/cluster"
)

// Hook is middleware around commands, set in Options.Hooks: tracing,
// metrics, logging, or refusing commands (a circuit breaker). Either field
// may be nil.
//
// Each field is called once, by New, with the next step of the chain, and
// returns the step to run in its place; the step it returns is then called
// for every command (or pipeline), on the caller's goroutine, with the
// caller's context. It may change the context it passes on (to start a
// trace span), act after next returns (to end it), or return an error
// without calling next: the command is then not sent, and the caller gets
// that error.
//
// Hooks chain in the order of Options.Hooks: the first is the outermost,
// the first to see a command and the last to see its outcome.
//
// A hook that panics is not recovered: the panic goes up to the caller of
// the command, as a panic in the caller's own code would. keel's state is
// not at stake (hooks run outside the engine, holding none of its locks),
// so the client stays usable; a command whose hook panicked after next
// returned has run all the same.
//
// With no hooks, commands take their usual path and pay nothing for this.
type Hook struct {
	// Command wraps each command sent on its own: Client.Do, the typed
	// methods, Run on a Client, a Node or a Watch, and the commands keel
	// sends for them (a Script's EVALSHA, then EVAL). Not wrapped: the
	// steps of Client.Scan's iterator, and the WATCH and UNWATCH that
	// Client.Watch sends on its own connection.
	Command func(next CommandFunc) CommandFunc
	// Pipeline wraps each Pipeline.Exec and Tx.Exec.
	Pipeline func(next PipelineFunc) PipelineFunc
}

// CommandFunc runs one command, a step of a Hook's chain. Its error is the
// command's (including a server's error reply).
type CommandFunc func(ctx context.Context, cmd *CommandInfo) error

// PipelineFunc runs one pipeline or transaction, a step of a Hook's chain.
// Its error is a transaction's Exec error, or for a pipeline the first
// failed command's error; each command's is in PipelineInfo.Results.
type PipelineFunc func(ctx context.Context, p *PipelineInfo) error

// CommandInfo describes a command to the hooks. Name and Args are set
// before the chain runs; the rest once the innermost step (keel sending
// the command) returns. Hooks must not change Args.
type CommandInfo struct {
	// Name is the command's name as given, such as "GET".
	Name string
	// Args are the command's arguments as sent, name first.
	Args []string

	// Node is the "host:port" of the node that served the command's last
	// attempt; empty when it went to several nodes (a command fanned out to
	// every primary, or a multi-key command split by slot) or reached none.
	Node string
	// Attempts counts the tries: 1 when the first succeeded, more after
	// retries and redirects (a try that could not reach its node counts
	// too); 0 when keel refused the command before trying.
	Attempts int
	// Redirects counts the MOVED and ASK replies followed.
	Redirects int
	// Latency is the time keel spent on the command, hooks excluded.
	Latency time.Duration

	reply  Value
	target commandTarget
	obs    cluster.Observation // here rather than on the stack: it would escape
}

// PipelineInfo describes a pipeline or a transaction to the hooks. Tx and
// Commands are set before the chain runs; the rest once the innermost step
// returns. Hooks must not change Commands or Results.
type PipelineInfo struct {
	// Tx reports a transaction (MULTI … EXEC).
	Tx bool
	// Commands are the arguments of each command sent, in order.
	Commands [][]string

	// Nodes lists the nodes the commands went to, in the order first met.
	Nodes []string
	// Attempts counts the sends: for a pipeline one per node batch, plus
	// one per command sent again on its own; for a transaction one per
	// try of the whole.
	Attempts int
	// Redirects counts the MOVED and ASK replies followed.
	Redirects int
	// Latency is the time keel spent, hooks excluded.
	Latency time.Duration
	// Results are the commands' results; nil when a hook refused the
	// pipeline or, for a transaction, nothing was sent.
	Results []Result

	target pipelineTarget
	obs    cluster.Observation
}

// commandTarget is where a hooked command goes: a Client, a Node or a Watch.
type commandTarget interface {
	send(ctx context.Context, obs *cluster.Observation, args []string) (Value, error)
}

// pipelineTarget sends a hooked pipeline or transaction.
type pipelineTarget interface {
	sendAll(ctx context.Context, obs *cluster.Observation, cmds [][]string) ([]Result, error)
}

// hookChain is the client's hooks composed once, at New. A nil step means
// no hook wraps that kind of request, which then takes the plain path.
type hookChain struct {
	command  CommandFunc
	pipeline PipelineFunc
}

// commands returns the chain if a hook wraps commands, else nil.
func (h *hookChain) commands() *hookChain {
	if h == nil || h.command == nil {
		return nil
	}
	return h
}

// pipelines returns the chain if a hook wraps pipelines, else nil.
func (h *hookChain) pipelines() *hookChain {
	if h == nil || h.pipeline == nil {
		return nil
	}
	return h
}

// newHookChain composes hooks around keel's own steps; nil when there are
// none, so that commands can skip the chain with one nil check.
func newHookChain(hooks []Hook) (*hookChain, error) {
	if len(hooks) == 0 {
		return nil, nil
	}
	h := &hookChain{}
	for i := len(hooks) - 1; i >= 0; i-- {
		if hooks[i].Command != nil {
			if h.command == nil {
				h.command = sendCommand
			}
			if h.command = hooks[i].Command(h.command); h.command == nil {
				return nil, fmt.Errorf("%w: Hooks[%d].Command returned a nil CommandFunc", ErrBadOptions, i)
			}
		}
		if hooks[i].Pipeline != nil {
			if h.pipeline == nil {
				h.pipeline = sendPipeline
			}
			if h.pipeline = hooks[i].Pipeline(h.pipeline); h.pipeline == nil {
				return nil, fmt.Errorf("%w: Hooks[%d].Pipeline returned a nil PipelineFunc", ErrBadOptions, i)
			}
		}
	}
	return h, nil
}

// runCommand runs args on target through the chain. It copies args, which
// the hooks may keep: without the copy, the arguments of every command,
// hooked or not, would escape to the heap.
func (h *hookChain) runCommand(ctx context.Context, target commandTarget, args []string) (Value, error) {
	own := make([]string, len(args))
	copy(own, args)
	cmd := &CommandInfo{Name: own[0], Args: own, target: target}
	err := h.command(ctx, cmd)
	return cmd.reply, err
}

// runPipeline runs cmds on target through the chain.
func (h *hookChain) runPipeline(ctx context.Context, target pipelineTarget, tx bool, cmds [][]string) ([]Result, error) {
	p := &PipelineInfo{Tx: tx, Commands: cmds, target: target}
	err := h.pipeline(ctx, p)
	if err != nil && p.Results == nil && !tx {
		// A hook refused the pipeline: every command fails with its error.
		p.Results = make([]Result, len(cmds))
		for i := range p.Results {
			p.Results[i].Err = err
		}
	}
	return p.Results, err
}

// sendCommand is the innermost step for commands: keel sending it.
func sendCommand(ctx context.Context, cmd *CommandInfo) error {
	obs := &cmd.obs
	start := time.Now()
	v, err := cmd.target.send(ctx, obs, cmd.Args)
	cmd.Latency = time.Since(start)
	cmd.reply = v
	cmd.Node, cmd.Attempts, cmd.Redirects = obs.Node, obs.Attempts, obs.Redirects
	if cmd.Node == "" && len(obs.Nodes) == 1 {
		cmd.Node = obs.Nodes[0] // a split command whose parts all went to one node
	}
	return err
}

// sendPipeline is the innermost step for pipelines and transactions.
func sendPipeline(ctx context.Context, p *PipelineInfo) error {
	obs := &p.obs
	start := time.Now()
	results, err := p.target.sendAll(ctx, obs, p.Commands)
	p.Latency = time.Since(start)
	p.Results = results
	p.Nodes, p.Attempts, p.Redirects = obs.Nodes, obs.Attempts, obs.Redirects
	if p.Nodes == nil && obs.Node != "" {
		p.Nodes = []string{obs.Node}
	}
	if err == nil && !p.Tx {
		for _, r := range results {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	return err
}

// The targets of hooked commands and pipelines.

func (c *Client) send(ctx context.Context, obs *cluster.Observation, args []string) (Value, error) {
	return c.e.DoObserved(ctx, obs, args)
}

func (n *Node) send(ctx context.Context, obs *cluster.Observation, args []string) (Value, error) {
	return n.c.e.DoOnObserved(ctx, obs, n.addr, args)
}

func (w *Watch) send(ctx context.Context, obs *cluster.Observation, args []string) (Value, error) {
	obs.Node, obs.Attempts = w.wc.Addr(), 1
	return w.wc.Do(ctx, args)
}

func (p *Pipeline) sendAll(ctx context.Context, obs *cluster.Observation, cmds [][]string) ([]Result, error) {
	return p.c.e.PipelineObserved(ctx, obs, cmds), nil
}

// txTarget sends a transaction on the client's shared connections, or on a
// watch's.
type txTarget struct {
	t    *Tx
	slot int
}

func (x txTarget) sendAll(ctx context.Context, obs *cluster.Observation, cmds [][]string) ([]Result, error) {
	if w := x.t.w; w != nil {
		obs.Node, obs.Attempts = w.wc.Addr(), 1
		return w.wc.Exec(ctx, cmds)
	}
	return x.t.c.e.TxObserved(ctx, obs, x.slot, cmds)
}
