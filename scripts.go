package keel

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/keel-go/keel/resp"
)

// Script is a Lua script run by its SHA1 digest, so that its source crosses
// the network only when a node does not have it yet. Make one with NewScript,
// once, and share it.
//
// Redis caches scripts per node, and a cluster's nodes do not share their
// caches: a script loaded on one primary is unknown to the others, to their
// replicas, and to a replica that has just been promoted. Run copes with
// that: it sends EVALSHA, and when the node answers NOSCRIPT (the script did
// not run) it sends EVAL, which runs the script and caches it on that node.
// Load puts the script on every primary ahead of time.
//
// The keys a script touches must be passed in keys, and must all be in one
// slot (use a hash tag such as {user42}); otherwise the command fails with
// ErrCrossSlot before anything is sent. A script without keys runs on any
// primary.
//
// A script's effects are unknown to keel, so Run never retries it when its
// outcome is unknown (unless Options.RetryUnknownOutcome allows it); RunRO
// runs it as read-only, which replicas may serve and keel may retry.
type Script struct {
	src string
	sha string
}

// NewScript returns the script with Lua source src; its SHA1 is computed
// once, here.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src))
	return &Script{src: src, sha: hex.EncodeToString(sum[:])}
}

// Source returns the script's Lua source.
func (s *Script) Source() string { return s.src }

// SHA returns the script's SHA1 digest, in lower-case hexadecimal, as
// EVALSHA and SCRIPT LOAD spell it.
func (s *Script) SHA() string { return s.sha }

// Run runs the script with keys and args (converted as Client.Do converts
// them) on the primary serving keys: EVALSHA, and EVAL when that node does
// not have the script yet. Its result is the script's reply.
func (s *Script) Run(ctx context.Context, c *Client, keys []string, args ...any) (Value, error) {
	return s.run(ctx, c, "EVALSHA", "EVAL", keys, args)
}

// RunRO is Run for a script that does not write: it sends EVALSHA_RO (and
// EVAL_RO), which the client's ReadPolicy may send to a replica. The server
// refuses writes from such a script. It needs Redis 7.
func (s *Script) RunRO(ctx context.Context, c *Client, keys []string, args ...any) (Value, error) {
	return s.run(ctx, c, "EVALSHA_RO", "EVAL_RO", keys, args)
}

func (s *Script) run(ctx context.Context, c *Client, evalsha, eval string, keys []string, args []any) (Value, error) {
	if c == nil {
		return Value{}, errNilClient
	}
	cmd := callCmd(evalsha, s.sha, keys, args)
	v, err := exec(ctx, c, cmd)
	if !errors.Is(err, resp.ErrNoScript) {
		return v, err
	}
	// The node does not have the script, so it did not run: send it whole.
	// The command goes to the same slot, and caches the script there.
	full := cmd.argv()
	full[0], full[1] = eval, s.src
	return exec(ctx, c, cmd)
}

// Load loads the script on every primary (SCRIPT LOAD), so that its first
// Run there, or a pipeline's EVALSHA (see Cmd), finds it. It fails with an
// error joining a *NodeError per primary that did not load it. A primary
// promoted later does not have it: Run still works there, a pipeline's
// EVALSHA does not.
func (s *Script) Load(ctx context.Context, c *Client) error {
	if c == nil {
		return errNilClient
	}
	v, err := c.do(ctx, "SCRIPT", "LOAD", s.src)
	if err != nil {
		return err
	}
	if sha, _ := v.Text(); sha != s.sha {
		return fmt.Errorf("%w: SCRIPT LOAD answered %v, want the SHA1 %s", resp.ErrType, v, s.sha)
	}
	return nil
}

// Cmd builds EVALSHA sha numkeys keys… args…, to queue the script in a
// Pipeline or run it on a Node. Its result is the script's reply. Unlike
// Run, it does not fall back to EVAL: on a node that does not have the
// script its error matches resp.ErrNoScript. Load the script first (and
// again after a failover), or use Run.
func (s *Script) Cmd(keys []string, args ...any) Cmd[Value] {
	return callCmd("EVALSHA", s.sha, keys, args)
}

// CmdRO is Cmd with EVALSHA_RO, for a script that does not write.
func (s *Script) CmdRO(keys []string, args ...any) Cmd[Value] {
	return callCmd("EVALSHA_RO", s.sha, keys, args)
}

// FCall builds FCALL function numkeys keys… args…, calling a function of a
// library loaded with FunctionLoad (or FUNCTION LOAD through Client.Do, which
// loads it on every primary). Its result is the function's reply. The keys
// must be in one slot. It needs Redis 7.
func FCall(function string, keys []string, args ...any) Cmd[Value] {
	return callCmd("FCALL", function, keys, args)
}

// FCallRO builds FCALL_RO function numkeys keys… args…, for a function
// registered with the no-writes flag; the client's ReadPolicy may send it to
// a replica. It needs Redis 7.
func FCallRO(function string, keys []string, args ...any) Cmd[Value] {
	return callCmd("FCALL_RO", function, keys, args)
}

// FCall calls a function; see FCall, the command.
func (c *Client) FCall(ctx context.Context, function string, keys []string, args ...any) (Value, error) {
	return exec(ctx, c, FCall(function, keys, args...))
}

// FCallRO calls a read-only function; see FCallRO, the command.
func (c *Client) FCallRO(ctx context.Context, function string, keys []string, args ...any) (Value, error) {
	return exec(ctx, c, FCallRO(function, keys, args...))
}

// FunctionLoad builds FUNCTION LOAD [REPLACE] code. Its result is the name of
// the library code defines. Through a Client it runs on every primary, and
// fails unless every primary loaded it (with a *NodeError per primary that
// did not); on a Node it loads the library there only. With replace false,
// a library of the same name already loaded is an error.
func FunctionLoad(code string, replace bool) Cmd[string] {
	if replace {
		return newCmd(toString, "FUNCTION", "LOAD", "REPLACE", code)
	}
	return newCmd(toString, "FUNCTION", "LOAD", code)
}

// FunctionLoad loads a library of functions on every primary; see
// FunctionLoad, the command.
func (c *Client) FunctionLoad(ctx context.Context, code string, replace bool) (string, error) {
	return exec(ctx, c, FunctionLoad(code, replace))
}

var errNilClient = fmt.Errorf("%w: nil *Client", ErrArgument)

// callCmd builds name first numkeys keys… args…: EVAL, EVALSHA, FCALL and
// their _RO forms.
func callCmd(name, first string, keys []string, args []any) Cmd[Value] {
	out := make([]string, 0, 3+len(keys)+len(args))
	out = append(out, name, first, strconv.Itoa(len(keys)))
	out = append(out, keys...)
	out, err := appendArgs(out, args)
	if err != nil {
		return failedCmd[Value](name, err)
	}
	return argsCmd(rawReply, out)
}
