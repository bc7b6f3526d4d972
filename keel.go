package keel

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Value is a reply from Redis; see package resp for its accessors.
type Value = resp.Value

// Errors. Compare with errors.Is.
var (
	// ErrNil is returned when a key or field does not exist.
	ErrNil = resp.ErrNil
	// ErrClosed is returned for requests made after Shutdown or Close began,
	// and for requests they had to cut off.
	ErrClosed = cluster.ErrClosed
	// ErrUnknownOutcome means the command may or may not have run: its
	// connection failed (or its context ended) after it was sent, and keel
	// did not retry it because it is not idempotent and
	// Options.RetryUnknownOutcome is off.
	ErrUnknownOutcome = cluster.ErrUnknownOutcome
	// ErrNoNode means no cluster node could be reached, even through the
	// seeds resolved anew.
	ErrNoNode = cluster.ErrNoNode
	// ErrSlotUncovered means the cluster had no primary for the key's slot
	// until the request's deadline.
	ErrSlotUncovered = cluster.ErrSlotUncovered
	// ErrCrossSlot means a command's keys are in different slots and the
	// command cannot be split (use a hash tag such as {user42} in the keys).
	ErrCrossSlot = cluster.ErrCrossSlot
	// ErrBlocking means a blocking command (BLPOP, XREAD BLOCK, WAIT…) was
	// sent; keel's connections are shared and never block.
	ErrBlocking = cluster.ErrBlocking
	// ErrConnState means a command that changes the state of its connection
	// (MULTI, EXEC, WATCH, SELECT, CLIENT REPLY, MONITOR, HELLO, AUTH,
	// SUBSCRIBE…) was sent through Do or a Pipeline; keel's connections are
	// shared by every goroutine, so it refuses them before sending anything.
	// The error's text names what to use instead.
	ErrConnState = cluster.ErrConnState
	// ErrAuth means the cluster refused the credentials.
	ErrAuth = conn.ErrAuth
	// ErrConnLost is matched by errors of commands whose connection failed.
	ErrConnLost = conn.ErrConnLost
	// ErrNotCluster means New reached a seed that is not a cluster node.
	ErrNotCluster = cluster.ErrNotCluster
	// ErrNoSlots means New reached the cluster but no node serves any slot
	// (a cluster not yet set up). Partial coverage is not an error:
	// Stats.CoveredSlots reports it.
	ErrNoSlots = cluster.ErrNoSlots
	// ErrNoPermission means the user lacks an ACL permission keel needs to
	// discover the cluster; the error quotes the server's NOPERM reply.
	ErrNoPermission = cluster.ErrNoPermission
	// ErrNilContext is returned for a command given a nil context.
	ErrNilContext = cluster.ErrNilContext
	// ErrBadOptions is matched by New's error for an option out of its
	// range (an unknown ReadPolicy, a negative MaxRedirects).
	ErrBadOptions = cluster.ErrBadOptions
	// ErrReplyTooLarge means a reply exceeded Options.MaxBulkBytes,
	// MaxReplyElements or MaxReplyBytes.
	ErrReplyTooLarge = resp.ErrTooLarge
)

// ReadPolicy says which nodes serve read-only commands.
type ReadPolicy = cluster.ReadPolicy

// Read policies.
const (
	ReadPrimary          = cluster.ReadPrimary          // every command to the primary (default)
	ReadPrimaryPreferred = cluster.ReadPrimaryPreferred // the primary, or a replica while the primary is suspect
	ReadReplicaPreferred = cluster.ReadReplicaPreferred // a healthy replica when there is one
	ReadNearest          = cluster.ReadNearest          // the node with the shortest round trip
)

// Event is something keel noticed about the cluster, delivered to
// Options.OnEvent.
type Event = cluster.Event

// EventKind says what an Event reports.
type EventKind = cluster.EventKind

// Event kinds.
const (
	EventTopologyChanged = cluster.TopologyChanged
	EventNodeSuspect     = cluster.NodeSuspect
	EventNodeRecovered   = cluster.NodeRecovered
	EventRefreshFailed   = cluster.RefreshFailed
)

// Stats is a snapshot of a client's counters.
type Stats = cluster.Stats

// Resolver looks up the addresses of a seed's host name; *net.Resolver is one.
type Resolver = cluster.Resolver

// DefaultCloseTimeout is how long Close lets in-flight commands finish.
const DefaultCloseTimeout = 5 * time.Second

// Options configure a Client. Only Seeds is required; every other field has a
// documented default.
type Options struct {
	// Seeds are "host:port" addresses of some cluster nodes, or of a name
	// that resolves to them (such as a configuration endpoint).
	Seeds []string

	// Username and Password authenticate every connection (AUTH, or
	// HELLO 3 AUTH). An empty Username with a Password authenticates the
	// default user. Default: no authentication.
	Username string
	Password string
	// ClientName is set on every connection with CLIENT SETNAME. Default: none.
	ClientName string
	// TLS enables TLS with this configuration. Default: nil, plain TCP.
	TLS *tls.Config

	// DialTimeout bounds connecting to one node, handshake included.
	// Default 2s.
	DialTimeout time.Duration
	// HealthTimeout is how long a node may leave the oldest request on its
	// connection without a byte of reply before keel declares the
	// connection dead and suspects the node. Default 1s.
	HealthTimeout time.Duration
	// PingInterval is how long a connection may stay idle before keel sends
	// PING to check it. Default 1s.
	PingInterval time.Duration

	// MaxBulkBytes is the longest string (bulk, verbatim or error) keel
	// accepts in a reply. Default 512 MiB (resp.DefaultMaxBulkLen), the
	// server's own default proto-max-bulk-len, so any stored string can be
	// read.
	MaxBulkBytes int64
	// MaxReplyElements is the most elements one array, set or push reply (or
	// pairs one map) may declare. Default 16Mi (resp.DefaultMaxAggregateLen).
	MaxReplyElements int64
	// MaxReplyBytes bounds the memory one reply may take: its strings plus
	// about 90 bytes (one Value) for each element. A reply over any of these
	// limits fails its command, without a retry, with an error matching
	// ErrReplyTooLarge and ErrConnLost: the connection is closed, as the rest
	// of the reply cannot be skipped. Default 1 GiB (resp.DefaultMaxReplyBytes):
	// room for one largest string and more, while millions of small elements
	// are refused when their count arrives, before memory is spent on them.
	MaxReplyBytes int64

	// RefreshInterval is the steady-state topology refresh period. Keel also
	// refreshes at once on MOVED, CLUSTERDOWN, READONLY, failed or refused
	// connections and uncovered slots. Default 10s.
	RefreshInterval time.Duration
	// IncidentInterval is how often keel polls the topology while a shard's
	// primary is suspect. Default 50ms.
	IncidentInterval time.Duration
	// RefreshTimeout bounds one node's answer to a topology query. Default 1s.
	RefreshTimeout time.Duration

	// ReadPolicy chooses the nodes that serve read-only commands.
	// Default ReadPrimary.
	ReadPolicy ReadPolicy
	// RetryUnknownOutcome allows retrying commands that are not idempotent
	// (INCR, LPUSH…) when their connection failed after they were sent,
	// accepting that they may then run twice. Default false: such commands
	// fail with ErrUnknownOutcome instead.
	RetryUnknownOutcome bool
	// MaxRedirects bounds the MOVED/ASK redirects one command follows.
	// Default 16.
	MaxRedirects int
	// RetryTimeout bounds retrying when a command's context has no deadline.
	// Default 10s.
	RetryTimeout time.Duration

	// Resolver resolves seed host names, at start and whenever no known node
	// answers. Default net.DefaultResolver.
	Resolver Resolver
	// OnEvent receives events on a goroutine of keel's; events are dropped,
	// never delaying commands, when it falls behind. Default: none.
	OnEvent func(Event)
	// Logger receives keel's logs. Default: none.
	Logger *slog.Logger
	// CloseTimeout is how long Close lets in-flight commands finish.
	// Default DefaultCloseTimeout.
	CloseTimeout time.Duration
}

// Client is a Redis Cluster client. It is safe for concurrent use; create one
// with New and share it. A nil or zero-value *Client is not usable: its
// methods panic, as a nil *sql.DB's do.
type Client struct {
	e            *cluster.Engine
	closeTimeout time.Duration
}

// New discovers the cluster through opts.Seeds and returns a ready client.
// ctx bounds the discovery.
func New(ctx context.Context, opts Options) (*Client, error) {
	e, err := cluster.New(ctx, cluster.Options{
		Seeds: opts.Seeds,
		Conn: conn.Options{
			Username:      opts.Username,
			Password:      opts.Password,
			ClientName:    opts.ClientName,
			TLS:           opts.TLS,
			DialTimeout:   opts.DialTimeout,
			HealthTimeout: opts.HealthTimeout,
			PingInterval:  opts.PingInterval,
			Limits: resp.Limits{
				MaxBulkLen:      opts.MaxBulkBytes,
				MaxAggregateLen: opts.MaxReplyElements,
				MaxReplyBytes:   opts.MaxReplyBytes,
			},
		},
		RefreshInterval:     opts.RefreshInterval,
		IncidentInterval:    opts.IncidentInterval,
		RefreshTimeout:      opts.RefreshTimeout,
		MaxRedirects:        opts.MaxRedirects,
		RetryTimeout:        opts.RetryTimeout,
		ReadPolicy:          opts.ReadPolicy,
		RetryUnknownOutcome: opts.RetryUnknownOutcome,
		Resolver:            opts.Resolver,
		OnEvent:             opts.OnEvent,
		Logger:              opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	closeTimeout := opts.CloseTimeout
	if closeTimeout <= 0 {
		closeTimeout = DefaultCloseTimeout
	}
	return &Client{e: e, closeTimeout: closeTimeout}, nil
}

// Do runs any command and returns its reply. Arguments may be strings,
// []byte, numbers, bools or encoding.BinaryMarshalers (see Command); one it
// cannot convert fails with ErrArgument before anything is sent. An error
// reply from the server is returned as an error (matching resp sentinels such
// as resp.ErrWrongType) as well as in the Value.
func (c *Client) Do(ctx context.Context, args ...any) (Value, error) {
	return Run(ctx, c, Command(args...))
}

// do runs a command built by keel itself, already in strings.
func (c *Client) do(ctx context.Context, args ...string) (Value, error) {
	return c.e.Do(ctx, args...)
}

// run makes *Client a Runner.
func (c *Client) run(ctx context.Context, args []string) (Value, error) {
	return c.e.Do(ctx, args...)
}

// Shutdown stops the client: new commands fail with ErrClosed at once,
// commands waiting to be retried give up, and commands in flight get their
// replies until ctx ends. It returns once every goroutine keel started has
// exited, with ctx's error if it had to cut commands off. It is idempotent
// and safe to call concurrently with anything.
func (c *Client) Shutdown(ctx context.Context) error { return c.e.Shutdown(ctx) }

// Close is Shutdown with Options.CloseTimeout.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout)
	defer cancel()
	return c.Shutdown(ctx)
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats { return c.e.Stats() }
