package keel

import (
	"context"
	"time"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/resp"
)

// Value is a reply from Redis; see package resp for its accessors.
type Value = resp.Value

// Client is a client of a Redis Cluster, a standalone server or a
// replication group (see Mode). It is safe for concurrent use; create one
// with New and share it. A nil or zero-value *Client is not usable: its
// methods panic, as a nil *sql.DB's do.
type Client struct {
	e            *cluster.Engine
	hooks        *hookChain // nil without Options.Hooks
	closeTimeout time.Duration
	subBuffer    int // messages buffered per Subscription
}

// New discovers the deployment through opts.Seeds (a cluster, a standalone
// server or a replication group: see Mode) and returns a ready client. ctx
// bounds the discovery.
func New(ctx context.Context, opts Options) (*Client, error) {
	hooks, err := newHookChain(opts.Hooks)
	if err != nil {
		return nil, err
	}
	opts, db, err := opts.withSeedURLs()
	if err != nil {
		return nil, err
	}
	eo := opts.engineOptions()
	eo.Conn.DB = db
	e, err := cluster.New(ctx, eo)
	if err != nil {
		return nil, err
	}
	closeTimeout := opts.CloseTimeout
	if closeTimeout <= 0 {
		closeTimeout = DefaultCloseTimeout
	}
	subBuffer := opts.SubscriptionBuffer
	if subBuffer <= 0 {
		subBuffer = DefaultSubscriptionBuffer
	}
	return &Client{e: e, hooks: hooks, closeTimeout: closeTimeout, subBuffer: subBuffer}, nil
}

// Do runs any command and returns its reply. Arguments may be strings,
// []byte, numbers, bools or encoding.BinaryMarshalers (see Command); one it
// cannot convert fails with ErrArgument before anything is sent. An error
// reply from the server is returned as an error (matching resp sentinels such
// as resp.ErrWrongType) as well as in the Value.
//
// A command with keys goes to the node serving them. One without keys goes
// where it means something for the cluster: DBSIZE is summed and KEYS merged
// over every primary; FLUSHALL, FLUSHDB, SCRIPT LOAD, EXISTS and FLUSH, and
// FUNCTION LOAD, DELETE, FLUSH and RESTORE run on every primary (and fail,
// with a *NodeError per failed primary, unless all succeed); commands any
// node answers alike (PING, TIME, CLUSTER NODES…) go to one. Commands whose
// answer is one node's (INFO, CONFIG, CLIENT, SLOWLOG, CLUSTER MYID…) fail
// with ErrNeedsNode: run them on a Node.
func (c *Client) Do(ctx context.Context, args ...any) (Value, error) {
	return Run(ctx, c, Command(args...))
}

// do runs a command built by keel itself, already in strings.
func (c *Client) do(ctx context.Context, args ...string) (Value, error) {
	if h := c.hooks.commands(); h != nil {
		return h.runCommand(ctx, c, args)
	}
	return c.e.Do(ctx, args...)
}

// run makes *Client a Runner.
func (c *Client) run(ctx context.Context, args []string) (Value, error) {
	return c.do(ctx, args...)
}

// Shutdown stops the client: new commands fail with ErrClosed at once,
// commands waiting to be retried give up, and commands in flight get their
// replies until ctx ends. It returns once every goroutine keel started has
// exited, with ctx's error if it had to cut commands off. Subscriptions are
// closed, their Messages channels too. It is idempotent
// and safe to call concurrently with anything.
func (c *Client) Shutdown(ctx context.Context) error { return c.e.Shutdown(ctx) }

// Close is Shutdown with Options.CloseTimeout.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout)
	defer cancel()
	return c.Shutdown(ctx)
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats { return Stats(c.e.Stats()) }
