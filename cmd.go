package keel

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Cmd is a command together with the conversion of its reply to T. The
// functions named after commands build them (Get, HGetAll, XAdd…), and
// Command builds any other. A Cmd runs on its own with Run, or is queued in a
// Pipeline or a transaction (Tx) with Queue, where its result is typed too.
// Client's methods of the same names run these same definitions.
//
// A Cmd holds its arguments converted; an argument that could not be
// converted makes every use of the Cmd fail with an error matching
// ErrArgument, before anything is sent.
//
// A short command keeps its arguments in the Cmd itself, so that building
// and running one allocates nothing.
type Cmd[T any] struct {
	short [shortArgs]string // the arguments of a short command
	n     int               // how many of short are used
	long  []string          // the arguments of a longer command
	// parse converts the reply. A command that failed to build has no
	// arguments, and its parse returns the error.
	parse func(Value, error) (T, error)
}

// shortArgs is how many arguments a Cmd holds without a slice of its own:
// enough for SET key value PX ms.
const shortArgs = 5

// Args returns the command's arguments as sent, name first; none when it
// failed to build.
func (c Cmd[T]) Args() []string { return slices.Clone(c.argv()) }

// argv returns the arguments in place: a pointer receiver, so that the
// slice points into the caller's Cmd rather than into a copy on the heap.
func (c *Cmd[T]) argv() []string {
	if c.long != nil {
		return c.long
	}
	return c.short[:c.n]
}

// Err returns the error that building the command met, such as an argument
// of a type keel cannot send; nil when it can be sent.
func (c Cmd[T]) Err() error {
	if c.built() {
		return nil
	}
	_, err := c.parse(Value{}, nil)
	return err
}

func (c Cmd[T]) built() bool { return c.n > 0 || c.long != nil }

// newCmd returns a command whose reply parse converts. It copies args, so a
// variadic call's slice stays on the caller's stack; a builder that made its
// own slice of arguments uses argsCmd instead.
func newCmd[T any](parse func(Value, error) (T, error), args ...string) Cmd[T] {
	if len(args) > shortArgs {
		return argsCmd(parse, append([]string(nil), args...))
	}
	cmd := Cmd[T]{parse: parse}
	cmd.n = copy(cmd.short[:], args)
	return cmd
}

// argsCmd returns a command that keeps args, a slice its builder made.
func argsCmd[T any](parse func(Value, error) (T, error), args []string) Cmd[T] {
	return Cmd[T]{long: args, parse: parse}
}

// failedCmd returns a command that fails with err wherever it is used.
func failedCmd[T any](name string, err error) Cmd[T] {
	err = commandError(name, err)
	return Cmd[T]{parse: func(Value, error) (T, error) {
		var zero T
		return zero, err
	}}
}

// commandError names the command a build error is about: "keel: SET: bad
// argument: nil". keel's errors all begin with "keel: "; the command's error
// says it once, before the command's name.
func commandError(name string, err error) error {
	return &cmdError{name: name, err: err}
}

type cmdError struct {
	name string
	err  error
}

func (e *cmdError) Error() string {
	return "keel: " + e.name + ": " + strings.TrimPrefix(e.err.Error(), "keel: ")
}

func (e *cmdError) Unwrap() error { return e.err }

// Command builds any command from its name and arguments (converted as Do
// converts them); its result is the raw reply. Use it to queue a command keel
// has no typed function for.
func Command(args ...any) Cmd[Value] {
	if len(args) == 0 {
		return failedCmd[Value]("command", errEmptyCommand)
	}
	out, err := appendArgs(make([]string, 0, len(args)), args)
	if err != nil {
		return failedCmd[Value](firstArg(out), err)
	}
	return argsCmd(rawReply, out)
}

var errEmptyCommand = fmt.Errorf("%w: empty command", ErrArgument)

// rawReply is the parse of untyped commands: the reply as it came.
func rawReply(v Value, err error) (Value, error) { return v, err }

func firstArg(args []string) string {
	if len(args) == 0 {
		return "command"
	}
	return args[0]
}

// Runner runs commands one at a time: a *Client routes each by its keys, a
// *Node sends it to one node, and a *Watch to its own connection.
type Runner interface {
	run(ctx context.Context, args []string) (Value, error)
}

// Run runs cmd on r and returns its typed result.
func Run[T any](ctx context.Context, r Runner, cmd Cmd[T]) (T, error) {
	if !cmd.built() {
		return cmd.parse(Value{}, nil) // the build error
	}
	return cmd.parse(r.run(ctx, cmd.argv()))
}

// exec is Run for a *Client, without the interface: escape analysis can then
// see that a typed command's arguments stay on its caller's stack.
func exec[T any](ctx context.Context, c *Client, cmd Cmd[T]) (T, error) {
	if !cmd.built() {
		return cmd.parse(Value{}, nil) // the build error
	}
	return cmd.parse(c.do(ctx, cmd.argv()...))
}

// Queuer collects commands to send together: a *Pipeline or a *Tx.
type Queuer interface {
	queue(args []string, err error, r resolver)
}

// resolver receives a queued command's reply once its batch has run.
type resolver interface {
	resolve(v Value, err error)
}

// Queue adds cmd to q and returns the Future its result will be in once q
// has run (Exec).
func Queue[T any](q Queuer, cmd Cmd[T]) *Future[T] {
	// The command is copied into the Future, so that its arguments are not
	// a second allocation (the queue copies them before returning).
	f := &Future[T]{parse: cmd.parse, cmd: cmd}
	q.queue(f.cmd.argv(), f.cmd.Err(), f)
	f.cmd = Cmd[T]{}
	return f
}

// Future is the result of a queued command, set when its pipeline or
// transaction runs.
type Future[T any] struct {
	val   T
	err   error
	done  bool
	parse func(Value, error) (T, error)
	cmd   Cmd[T] // the command while Queue queues it
}

// Result returns the command's typed result, or ErrNotRun before its
// pipeline or transaction ran.
func (f *Future[T]) Result() (T, error) {
	if !f.done {
		var zero T
		return zero, ErrNotRun
	}
	return f.val, f.err
}

// Val returns the command's result, the zero T when it failed.
func (f *Future[T]) Val() T { return f.val }

// Err returns the command's error: nil when it succeeded, ErrNotRun before
// its pipeline or transaction ran.
func (f *Future[T]) Err() error {
	if !f.done {
		return ErrNotRun
	}
	return f.err
}

func (f *Future[T]) resolve(v Value, err error) {
	f.done = true
	f.val, f.err = f.parse(v, err)
}
