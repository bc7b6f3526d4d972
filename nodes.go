package keel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/keel-go/keel/internal/cluster"
)

// NodeError is one node's part of a failure that involved several nodes:
// a command Client.Do sent to every primary (FLUSHALL, SCRIPT LOAD…), or a
// call of ForEachPrimary or ForEachNode. The error returned joins one
// NodeError per failed node; find them with errors.As, while errors.Is still
// matches what went wrong underneath.
type NodeError struct {
	// Addr is the node's "host:port" address.
	Addr string
	// Err is what went wrong there.
	Err error
}

// Error reads "keel: node addr: cause", saying "keel: " once even when the
// cause is one of keel's errors.
func (e *NodeError) Error() string {
	return "keel: node " + e.Addr + ": " + strings.TrimPrefix(e.Err.Error(), "keel: ")
}

// Unwrap returns Err, so that errors.Is and errors.As see through it.
func (e *NodeError) Unwrap() error { return e.Err }

// newNodeError is the engine's Options.NodeError: fan-out failures reach
// callers as keel's own *NodeError.
func newNodeError(addr string, err error) error { return &NodeError{Addr: addr, Err: err} }

// Role is what a node is in its shard.
type Role uint8

// Roles.
const (
	RolePrimary Role = iota + 1 // serves its shard's slots
	RoleReplica                 // copies a primary
)

// String returns "primary" or "replica".
func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "primary"
	case RoleReplica:
		return "replica"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Node is one node of the cluster, for commands whose answer is that node's
// own (INFO, CONFIG GET, CLIENT LIST, SLOWLOG GET…). It is a Runner, so
// typed commands run on it too: keel.Run(ctx, node, keel.Get(key)).
//
// A command run on a Node goes to that node only. keel follows no redirect
// and never re-routes it: a MOVED reply is the node's answer, returned as the
// error. A send that failed is retried for a short while when the command
// certainly did not run, or when it is idempotent (or
// Options.RetryUnknownOutcome allows it); otherwise the error matches
// ErrUnknownOutcome. Once the address has left the cluster, commands fail
// with ErrUnknownNode. The node's connection is the one every goroutine
// shares, so commands that would block it fail with ErrBlocking, and those
// that would change its state with ErrConnState, as through Client.Do.
//
// A Node is a snapshot of the topology when it was obtained: its Role does
// not follow failovers. Ask the Client again for current roles.
type Node struct {
	c    *Client
	addr string
	id   string
	role Role
}

// Addr returns the node's "host:port" address.
func (n *Node) Addr() string { return n.addr }

// ID returns the node's cluster ID; empty when the cluster did not report it
// (servers before Redis 7 answering CLUSTER SLOTS).
func (n *Node) ID() string { return n.id }

// Role returns the node's role when the Node was obtained.
func (n *Node) Role() Role { return n.role }

// String returns the role and address, such as "primary 10.0.0.1:6379".
func (n *Node) String() string { return n.role.String() + " " + n.addr }

// Do runs any command on the node and returns its reply; arguments are
// converted as Client.Do converts them.
func (n *Node) Do(ctx context.Context, args ...any) (Value, error) {
	return Run(ctx, n, Command(args...))
}

// run makes *Node a Runner.
func (n *Node) run(ctx context.Context, args []string) (Value, error) {
	if h := n.c.hooks.commands(); h != nil {
		return h.runCommand(ctx, n, args)
	}
	return n.c.e.DoOn(ctx, n.addr, args)
}

// Nodes returns every node of the cluster as the client currently sees it:
// primaries first, then replicas.
func (c *Client) Nodes() []*Node { return c.nodes(func(cluster.NodeInfo) bool { return true }) }

// Primaries returns the primaries of the cluster as the client currently
// sees it, one per shard.
func (c *Client) Primaries() []*Node {
	return c.nodes(func(n cluster.NodeInfo) bool { return n.Primary })
}

// Replicas returns the replicas of the cluster as the client currently sees
// it.
func (c *Client) Replicas() []*Node {
	return c.nodes(func(n cluster.NodeInfo) bool { return !n.Primary })
}

// Node returns the node at addr ("host:port", as the cluster reports it). It
// fails with ErrUnknownNode when the cluster, as the client currently sees
// it, has no such node, and with ErrClosed once the client is closed.
func (c *Client) Node(addr string) (*Node, error) {
	if c.e.Closed() {
		return nil, ErrClosed
	}
	for _, n := range c.Nodes() {
		if n.addr == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownNode, addr)
}

func (c *Client) nodes(keep func(cluster.NodeInfo) bool) []*Node {
	var out []*Node
	for _, info := range c.e.Nodes() {
		if !keep(info) {
			continue
		}
		role := RoleReplica
		if info.Primary {
			role = RolePrimary
		}
		out = append(out, &Node{c: c, addr: info.Addr, id: info.ID, role: role})
	}
	return out
}

// ForEachPrimary calls fn for every primary at once, one goroutine each, and
// returns when every call has. Its error joins a *NodeError for each call
// that failed; nil when all succeeded. It fails at once, without calling fn,
// with ctx's error when ctx has ended, and with ErrClosed once the client is
// closed.
func (c *Client) ForEachPrimary(ctx context.Context, fn func(ctx context.Context, n *Node) error) error {
	return c.forEach(ctx, c.Primaries, fn)
}

// ForEachNode is ForEachPrimary for every node, replicas included.
func (c *Client) ForEachNode(ctx context.Context, fn func(ctx context.Context, n *Node) error) error {
	return c.forEach(ctx, c.Nodes, fn)
}

func (c *Client) forEach(ctx context.Context, list func() []*Node, fn func(context.Context, *Node) error) error {
	if ctx == nil {
		return ErrNilContext
	}
	if fn == nil {
		return fmt.Errorf("%w: nil function", ErrArgument)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.e.Closed() {
		return ErrClosed
	}
	nodes := list()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, n); err != nil {
				errs[i] = &NodeError{Addr: n.addr, Err: err}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
