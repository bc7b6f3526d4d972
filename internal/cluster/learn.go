package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxLearned bounds the commands an engine remembers what the server
	// told of; past it, an arbitrary one is forgotten (names are the
	// caller's: typos must not grow memory without end).
	maxLearned = 256
	// maxLearnedName bounds the names worth asking about.
	maxLearnedName = 64
	// relearnGap is how long after a failed COMMAND INFO the engine asks
	// again; meanwhile the command is routed as keyless.
	relearnGap = 10 * time.Second
)

// learner asks the server, once per name, how to route commands missing
// from keel's table (module commands, commands newer than the table).
type learner struct {
	mu     sync.Mutex
	cmds   map[string]*lesson // by upper-case name
	closed bool               // the engine stopped: start no lookup
	warned atomic.Bool        // a failed lookup was logged
}

// lesson is one name's lookup. info and failedAt are set, under
// learner.mu, before done is closed, and never change after.
type lesson struct {
	done     chan struct{}
	info     commandInfo
	failedAt time.Time // the lookup failed (not an answer): ask again after relearnGap
}

// command returns what keel knows of args' command: its table's entry, or,
// for a command the table lacks, what the server's COMMAND INFO taught.
func (e *Engine) command(ctx context.Context, args []string) Command {
	cmd, known := Lookup(args[0])
	if !known {
		cmd = e.learn(ctx, cmd, args)
	}
	return cmd
}

// learn returns cmd — a command keel's table does not list, with only Name
// set — completed with what the server says of it for args: its keys,
// whether it is read-only, whether it blocks. It is never idempotent. When
// the server cannot be asked, or ctx ends first, cmd is returned as it is
// and the command is routed as keyless.
func (e *Engine) learn(ctx context.Context, cmd Command, args []string) Command {
	if cmd.Name == "" || len(cmd.Name) > maxLearnedName {
		return cmd
	}
	l := &e.learner
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return cmd
	}
	if l.cmds == nil {
		l.cmds = map[string]*lesson{}
	}
	ls := l.cmds[cmd.Name]
	if ls == nil || isDone(ls.done) && !ls.failedAt.IsZero() && time.Since(ls.failedAt) >= relearnGap {
		if ls == nil && len(l.cmds) >= maxLearned && !l.forgetOne() {
			l.mu.Unlock()
			return cmd // every slot is a lookup in flight
		}
		ls = &lesson{done: make(chan struct{})}
		l.cmds[cmd.Name] = ls
		e.wg.Add(1)
		go e.askCommandInfo(cmd.Name, ls)
	}
	l.mu.Unlock()

	select {
	case <-ls.done: // ls.info is set for good
	case <-ctx.Done():
		return cmd // the command itself will report ctx's end
	}
	return ls.info.command(cmd, args)
}

// forgetOne drops a finished lesson to make room; it runs under mu.
func (l *learner) forgetOne() bool {
	for name, ls := range l.cmds {
		if isDone(ls.done) {
			delete(l.cmds, name)
			return true
		}
	}
	return false
}

// close stops new lookups; those running end with the pool's context.
func (l *learner) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// askCommandInfo asks a primary COMMAND INFO name and records the answer in
// ls. A failure is logged once per engine.
func (e *Engine) askCommandInfo(name string, ls *lesson) {
	defer e.wg.Done()
	ctx, cancel := context.WithTimeout(e.pool.ctx, e.opts.RefreshTimeout)
	defer cancel()
	info, err := e.commandInfo(ctx, name)
	l := &e.learner
	// Logged before the waiting callers go on, so that the log tells of
	// the failure by the time they return.
	if err != nil && !l.warned.Swap(true) {
		e.opts.Logger.Warn("keel: COMMAND INFO failed: commands keel does not know are sent to any primary, and may be redirected",
			"command", name, "err", err)
	}
	l.mu.Lock()
	if err != nil {
		ls.failedAt = time.Now()
	}
	ls.info = info
	close(ls.done)
	l.mu.Unlock()
}

// commandInfo asks any primary what it knows of the command name.
func (e *Engine) commandInfo(ctx context.Context, name string) (commandInfo, error) {
	addr, err := e.anyPrimary(e.topo.Load())
	if err != nil {
		return commandInfo{}, err
	}
	c, err := e.pool.get(ctx, addr, true)
	if err != nil {
		return commandInfo{}, err
	}
	v, err := c.Do(ctx, "COMMAND", "INFO", name)
	if err != nil {
		return commandInfo{}, fmt.Errorf("keel: %s: COMMAND INFO %s: %w", addr, name, err)
	}
	info, err := parseCommandInfo(v)
	if err != nil {
		return commandInfo{}, fmt.Errorf("keel: %s: COMMAND INFO %s: %w", addr, name, err)
	}
	return info, nil
}

// command completes cmd, as the server described it in info, for args:
// the subcommand args[1] names when the server listed it.
func (info *commandInfo) command(cmd Command, args []string) Command {
	if !info.known {
		return cmd // the server will say it does not know it
	}
	ci := info
	if len(args) > 1 {
		for i := range info.subs {
			if strings.EqualFold(info.subs[i].name, args[1]) {
				ci = &info.subs[i]
				break
			}
		}
	}
	cmd.ReadOnly = ci.readOnly
	cmd.Blocking = ci.blocking
	cmd.Idempotent = false // keel's judgement, which it has not made for this command
	if len(ci.specs) > 0 {
		cmd.learned = ci
	}
	return cmd
}
