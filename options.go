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

// Defaults of the Options fields left zero. Each value is declared once, by
// the layer that applies it; these names show it to callers.
const (
	// DefaultDialTimeout bounds connecting to one node: 2s.
	DefaultDialTimeout = conn.DefaultDialTimeout
	// DefaultHealthTimeout is how long a connection may leave its oldest
	// request without a byte of reply: 1s.
	DefaultHealthTimeout = conn.DefaultHealthTimeout
	// DefaultBusyTimeout is how long a node that answers probes on a second
	// connection may hold a request before keel cuts its connection anyway:
	// 10s, as long as a manual failover may pause writes.
	DefaultBusyTimeout = cluster.DefaultBusyTimeout
	// DefaultPingInterval is how often a busy connection, a Pub/Sub
	// connection and the Sentinel subscriber send PING: 1s.
	DefaultPingInterval = conn.DefaultPingInterval
	// DefaultIdlePingInterval is how long a connection for commands may
	// stay idle before a PING when PingInterval is left zero (why it is
	// longer: Options.PingInterval): 5s.
	DefaultIdlePingInterval = conn.DefaultIdlePingInterval
	// DefaultRefreshInterval is the steady-state topology refresh period: 10s.
	DefaultRefreshInterval = cluster.DefaultRefreshInterval
	// DefaultReplicationRefreshInterval is the steady-state refresh period
	// in ModeReplication: 1s. Such a refresh resolves the primary endpoint
	// and compares its addresses with the last search's; the search itself
	// (ROLE on the nodes) runs only when they changed, and at least every
	// DefaultRefreshInterval.
	DefaultReplicationRefreshInterval = cluster.DefaultReplicationRefreshInterval
	// DefaultIncidentInterval is the topology polling period while a
	// primary is suspect: 50ms.
	DefaultIncidentInterval = cluster.DefaultIncidentInterval
	// DefaultRefreshTimeout bounds one node's answer to a topology query: 1s.
	DefaultRefreshTimeout = cluster.DefaultRefreshTimeout
	// DefaultMaxRedirects is how many MOVED/ASK redirects one command
	// follows: 16.
	DefaultMaxRedirects = cluster.DefaultMaxRedirects
	// DefaultRetryTimeout bounds retrying a command whose context has no
	// deadline: 10s.
	DefaultRetryTimeout = cluster.DefaultRetryTimeout
	// DefaultWatchAttempts is how many times Client.Watch runs its function
	// while watched keys keep changing: 16.
	DefaultWatchAttempts = cluster.DefaultWatchAttempts
	// DefaultBlockingConnsPerNode bounds the connections per node that
	// blocking commands hold: 64. Each blocked call holds one for as long
	// as it blocks (a server client, with its buffers and file descriptor):
	// 64 serves that many concurrent consumers per node, while 100 client
	// processes at the bound stay well under Redis's default maxclients
	// (10000).
	DefaultBlockingConnsPerNode = cluster.DefaultBlockingConnsPerNode
	// DefaultCloseTimeout is how long Close lets in-flight commands finish: 5s.
	DefaultCloseTimeout = 5 * time.Second
)

// Options configure a Client. Only Seeds is required; every other field has a
// documented default, used when the field is left zero.
type Options struct {
	// Seeds are "host:port" addresses of some cluster nodes, or of a name
	// that resolves to them (such as a configuration endpoint); outside a
	// cluster, of the server, or of the primary endpoint of a replication
	// group; in ModeSentinel, of some sentinels. A seed may also be a URL, redis://[user:password@]host[:port][/db]
	// or rediss:// for TLS (the port defaults to 6379): its user and
	// password stand for Username and Password, rediss:// for TLS (a
	// default tls.Config when TLS is nil). All URL seeds must agree on
	// scheme, credentials and database, and credentials in a URL beside
	// Username, Password or Credentials are refused, as is a database other
	// than 0 outside ModeStandalone, ModeReplication and ModeSentinel (a cluster has
	// only database 0): ErrBadOptions.
	Seeds []string
	// Mode says what kind of deployment the seeds lead to. Default
	// ModeAuto: detected at New.
	Mode Mode
	// SentinelMaster is the name the sentinels monitor the primary under.
	// It is required with ModeSentinel and refused with any other Mode
	// (ErrBadOptions). Default "".
	SentinelMaster string
	// SentinelUsername and SentinelPassword authenticate keel's connections
	// to the sentinels (AUTH, or HELLO 3 AUTH), which have credentials of
	// their own (requirepass, or an ACL user, in the sentinels' config);
	// Username, Password and Credentials are the data nodes'. An empty
	// SentinelUsername with a SentinelPassword authenticates the default
	// user. Refused with any Mode but ModeSentinel (ErrBadOptions).
	// Default "": the sentinels are not authenticated.
	SentinelUsername string
	SentinelPassword string
	// ReaderEndpoint is "host:port" of a name that resolves to the replicas
	// of a replication group (such as ElastiCache's reader endpoint). At
	// each primary search keel resolves it anew and adds every address
	// that answers ROLE replica to the replicas the primary lists in ROLE;
	// reads go to them under ReadPolicy (with ReadPrimary it changes
	// nothing). An address that fails or answers ROLE master is left out,
	// and a name that does not resolve is logged and ignored: the reader
	// endpoint never stops reads or writes. Refused with any Mode but
	// ModeReplication (ErrBadOptions). Default "": the replicas are those
	// the primary lists.
	ReaderEndpoint string

	// Username and Password authenticate every connection (AUTH, or
	// HELLO 3 AUTH). An empty Username with a Password authenticates the
	// default user. Default: no authentication.
	Username string
	Password string
	// Credentials, when set, is called for every new connection, before it
	// is opened, for the username and password (or token, such as an IAM
	// authentication token) to authenticate it with; an empty password means
	// no authentication. After the server refuses credentials (ErrAuth) the
	// next connection attempt calls it again, so a rotated password or
	// renewed token is picked up without restarting the client. Its context
	// ends with the dial (DialTimeout). It may be called from several
	// goroutines at once and should answer quickly, from a cache when it
	// can. When it fails, that connection attempt fails with an error
	// matching ErrCredentials and the function's own error; the connections
	// already open are kept. Live connections are re-authenticated only
	// with ReauthInterval. Setting it together with Username or Password is
	// refused with ErrBadOptions. Default: nil, Username and Password are
	// used.
	Credentials func(ctx context.Context) (username, password string, err error)
	// ReauthInterval, when positive, re-authenticates every live connection
	// this often: each shared connection calls Credentials and sends AUTH
	// with its answer, in order with its traffic, so no request waits for a
	// new connection or fails; a connection of its own (kept idle for
	// Client.Watch or blocking commands) does so when it is next lent, if
	// due, before the borrower's first command. Set it below the lifetime of the tokens Credentials returns,
	// with a margin (ElastiCache IAM tokens last 15 minutes: 10 minutes
	// suits; a connection re-authenticated with a fresh token also outlives
	// ElastiCache's 12-hour limit). When Credentials fails or the server
	// refuses what it returned, the connection keeps its previous
	// authentication and serves on; the failure is logged (Logger, warning),
	// sent as an EventReauthFailed, counted in Stats.ReauthFailures, and
	// tried again one interval later. The provider's context ends after
	// DialTimeout. Requires Credentials (ErrBadOptions without it); negative
	// is refused with ErrBadOptions. Default 0: connections are
	// authenticated only when dialled.
	ReauthInterval time.Duration
	// MaxConnAge, when positive, bounds how long a connection is used: a
	// shared connection older than this is replaced gracefully (a new one
	// is dialled and takes the new requests, then the old one is closed
	// once its in-flight requests have their replies), a node's extra
	// connections (for large values, and for reads diverted around a
	// stalled one) are closed the same way and dialled again when next
	// needed, and an idle one kept for Client.Watch is closed. Connections are checked every tenth of
	// the shorter of MaxConnAge and ReauthInterval, at most every second,
	// so one is replaced at most that much past its age. If the new
	// connection cannot be dialled, the old one is kept (the node is not
	// suspected, the failure is logged) and the replacement tried again
	// ten checks later.
	// Stats.Replaced counts replacements. Use it where the server or a
	// proxy ends connections after a time (ElastiCache closes IAM
	// connections after 12 hours). Negative is refused with ErrBadOptions.
	// Default 0: no limit.
	MaxConnAge time.Duration
	// ClientName is set on every connection with CLIENT SETNAME. Default: none.
	ClientName string
	// TLS enables TLS with this configuration; client certificates (mutual
	// TLS) go in its Certificates or GetClientCertificate. keel clones it
	// for each node and never changes it. When its ServerName is empty, each
	// node is verified against (and sent as SNI) the host it is dialled by:
	// the host name it announces (cluster-preferred-endpoint-type hostname),
	// else its IP, or for a node found by resolving a seed, the seed's host
	// name. Nodes that report a tls-port are dialled there, others on their
	// port (managed services report only that). Default: nil, plain TCP.
	TLS *tls.Config

	// DialTimeout bounds connecting to one node, handshake included.
	// Default DefaultDialTimeout.
	DialTimeout time.Duration
	// HealthTimeout is how long a node may leave the oldest request on its
	// connection without a byte of reply before keel declares the
	// connection dead and suspects the node. Default DefaultHealthTimeout.
	HealthTimeout time.Duration
	// BusyTimeout bounds how long a node that is busy, not hung, may hold a
	// request. When the oldest request on a node's connection has had no
	// byte of reply for HealthTimeout, keel sends PING on a second,
	// short-lived connection to the node: a node that answers within
	// another HealthTimeout (any reply, BUSY or LOADING too) is busy with a
	// slow command (a long script, DEBUG SLEEP, a big KEYS) or pausing
	// writes (CLIENT PAUSE WRITE, as a manual failover does), so the
	// connection stays, its requests wait (each bounded by its context or
	// RetryTimeout), the node is not suspected, and the probe is repeated
	// every HealthTimeout (Stats.BusyWaits counts the probes answered).
	// While a probe is out, the node's shard is probed for a failover as
	// in an incident (ROLE on its replicas), without suspecting it. A
	// node that answers neither is hung: the connection is declared dead
	// (ErrHealthTimeout) and the node suspected, at most twice HealthTimeout
	// after its last reply. A node that keeps answering probes but leaves
	// the request waiting for BusyTimeout is cut off anyway
	// (ErrBusyTimeout): the escape for a server stuck on one command.
	// While a shared connection's oldest request has had no reply for a
	// fifth of HealthTimeout, the read-only commands behind it (sent alone,
	// not in a pipeline or transaction) go on a second connection to the
	// node (Stats.DivertedReads), since the node answers a connection's
	// commands in order: reads keep flowing while writes are paused. A read
	// already sent on the shared connection also keeps waiting there, and the
	// first answer wins: when the whole server or machine is slow rather than
	// writes paused, that reply usually comes first. Negative turns probing and diverting off: a connection silent
	// for HealthTimeout is declared dead. Default DefaultBusyTimeout (10s).
	BusyTimeout time.Duration
	// PingInterval is how often keel sends PING: on a busy connection, as a
	// sentinel whose PONG proves the replies still in step with the
	// requests; on a Pub/Sub connection with nothing to read; and, in
	// ModeSentinel, to the sentinel the +switch-master subscriber listens
	// to, which it leaves when it sends nothing for
	// PingInterval+HealthTimeout. When set, it is also how long a connection
	// for commands may stay idle before a PING checks its server (so 1s
	// brings back what the default avoids, below). Negative turns pings off,
	// except the Sentinel subscriber's, which then pings every
	// DefaultPingInterval. Default DefaultPingInterval (1s), and
	// DefaultIdlePingInterval (5s) for idle connections: a PING after a
	// shorter silence keeps Redis from freeing the connection's query buffer
	// (it frees it after 2s), and Redis 7.0 then reads a burst of 16–20 KiB
	// commands into the 20 KiB buffer a PING leaves, one command per read
	// (measured: 40% more server CPU per 16 KiB SET).
	PingInterval time.Duration

	// MaxBulkBytes is the longest string (bulk, verbatim or error) keel
	// accepts in a reply. Default resp.DefaultMaxBulkLen (512 MiB), the
	// server's own default proto-max-bulk-len, so any stored string can be
	// read.
	MaxBulkBytes int64
	// MaxReplyElements is the most elements one array, set or push reply (or
	// pairs one map) may declare. Default resp.DefaultMaxAggregateLen (16Mi).
	MaxReplyElements int64
	// MaxReplyBytes bounds the memory one reply may take: its strings plus
	// about 90 bytes (one Value) for each element. A reply over any of these
	// limits fails its command, without a retry, with an error matching
	// ErrReplyTooLarge and ErrConnLost. The connection is closed, as the rest
	// of the reply cannot be skipped: the other commands in flight on it
	// fail as on any lost connection (retried when they certainly did not
	// run, or are idempotent), and the node is not suspected. Default resp.DefaultMaxReplyBytes
	// (1 GiB): room for one largest string and more, while millions of small
	// elements are refused when their count arrives, before memory is spent
	// on them.
	MaxReplyBytes int64

	// RefreshInterval is the steady-state topology refresh period (one node
	// asked, plus a random tenth of the period so clients spread out). Keel
	// also refreshes at once on MOVED, CLUSTERDOWN, READONLY, failed or
	// refused connections and uncovered slots (at most once a second while
	// a primary is suspect). Default DefaultRefreshInterval, and
	// DefaultReplicationRefreshInterval in ModeReplication: a service that
	// repoints the primary endpoint while the old primary still takes
	// writes (nothing fails, so nothing else triggers a refresh) is seen
	// within a second, for the price of a name lookup per second.
	RefreshInterval time.Duration
	// IncidentInterval is how often, at most, keel probes a suspect
	// primary's shard while it is suspect: in a cluster, ROLE on its
	// replicas and on itself, each probe after between half and all of
	// IncidentInterval; after 5 s of an incident the pause doubles every
	// second up to 1 s. Only a probe that finds a node answering master
	// leads to a full topology query, of one node. Default
	// DefaultIncidentInterval.
	IncidentInterval time.Duration
	// RefreshTimeout bounds one node's answer to a topology query.
	// Default DefaultRefreshTimeout.
	RefreshTimeout time.Duration

	// ReadPolicy chooses the nodes that serve read-only commands.
	// Default ReadPrimary.
	ReadPolicy ReadPolicy
	// RetryUnknownOutcome allows retrying commands that are not idempotent
	// (INCR, LPUSH…) when their connection failed after they were sent,
	// accepting that they may then run twice. Default false: such commands
	// fail with ErrUnknownOutcome instead.
	RetryUnknownOutcome bool
	// WatchAttempts bounds how many times Client.Watch runs its function
	// while watched keys keep changing. Default DefaultWatchAttempts.
	WatchAttempts int
	// MaxRedirects bounds the MOVED/ASK redirects one command follows; a
	// command redirected more often fails with ErrTooManyRedirects.
	// Negative is refused with ErrBadOptions. Default DefaultMaxRedirects.
	MaxRedirects int
	// BlockingConnsPerNode bounds the connections per node on which
	// blocking commands (BLPop, BRPop, BLMove, BLMPop, BZPopMin, BZPopMax,
	// BZMPop, XRead and XReadGroup with Block, and their Do forms) run, one
	// call per connection: when all are busy a call waits for one until its
	// context ends. These connections have no health timeout (they block by
	// design), but a call never hangs on a node keel gave up on. Default
	// DefaultBlockingConnsPerNode; negative is refused with ErrBadOptions.
	//
	// What a blocking call returns when things go wrong:
	//
	//   - A reply proving nothing was taken (MOVED, ASK, TRYAGAIN,
	//     CLUSTERDOWN, LOADING, MASTERDOWN, READONLY, and UNBLOCKED, which
	//     Redis sends to the calls blocked on a primary that becomes a
	//     replica in a failover), or a failure before the command was
	//     written: the call is sent again, to the slot's owner as then known,
	//     within MaxRedirects and ctx (or RetryTimeout). Its timeout starts
	//     again with each send.
	//   - A slot moved away by a new topology while the call is blocked: keel
	//     unblocks it (CLIENT UNBLOCK … ERROR, so nothing is taken) and sends
	//     it to the new owner.
	//   - The connection lost while blocked, or the node suspect (keel then
	//     closes the connection at once rather than wait on a failing node):
	//     a pop, and XReadGroup (which moves entries to the pending list),
	//     may have taken something whose reply was lost: ErrUnknownOutcome,
	//     unless RetryUnknownOutcome. XRead, which takes nothing, is sent
	//     again.
	//   - ctx ends (cancelled, or a deadline shorter than the command's
	//     timeout), or Shutdown begins: keel sends CLIENT UNBLOCK on its
	//     shared connection to the node and reads the call's reply. Nothing
	//     taken: the call returns ctx's error (ErrClosed on Shutdown) and the
	//     connection is reused. An element that was served in the meantime
	//     is returned with a nil error: it was taken, and is the caller's.
	//     If the node does not answer within HealthTimeout, the connection is
	//     closed and a pop returns ErrUnknownOutcome (matching ctx's error
	//     too).
	BlockingConnsPerNode int
	// RetryTimeout bounds retrying when a command's context has no deadline;
	// a command still failing then fails with ErrRetryTimeout.
	// Default DefaultRetryTimeout.
	RetryTimeout time.Duration

	// Resolver resolves seed host names, at start and whenever no known node
	// answers, and the host names nodes announce when keel dials them.
	// Default net.DefaultResolver.
	Resolver Resolver
	// OnEvent receives events on a goroutine of keel's; events are dropped,
	// never delaying commands, when it falls behind (Stats.EventsDropped
	// counts them). Default: none.
	OnEvent func(Event)
	// Logger receives keel's logs. Default: none.
	Logger *slog.Logger
	// Hooks wrap every command, pipeline and transaction, the first
	// outermost (see Hook). A hook whose field returns a nil step is
	// refused with ErrBadOptions. Default: none, and commands pay nothing
	// for the feature.
	Hooks []Hook
	// CloseTimeout is how long Close lets in-flight commands finish.
	// Default DefaultCloseTimeout.
	CloseTimeout time.Duration
	// SubscriptionBuffer is how many received messages each Subscription
	// holds for its reader; a message that finds it full is dropped and
	// counted (Subscription.Dropped). Zero or negative means the default,
	// DefaultSubscriptionBuffer.
	SubscriptionBuffer int
}

// ReadPolicy says which nodes serve read-only commands.
type ReadPolicy uint8

// Read policies.
const (
	// ReadPrimary sends every command to the primary (the default).
	ReadPrimary ReadPolicy = iota
	// ReadPrimaryPreferred reads from the primary, or from a replica while
	// the primary is suspect.
	ReadPrimaryPreferred
	// ReadReplicaPreferred reads from a healthy replica when there is one.
	ReadReplicaPreferred
	// ReadNearest reads from the node of the shard with the shortest round
	// trip.
	ReadNearest
)

// String names the policy as its constant does, without the "Read" prefix:
// "primary", "primary-preferred", "replica-preferred", "nearest".
func (p ReadPolicy) String() string { return cluster.ReadPolicy(p).String() }

// Resolver looks up the addresses of a seed's host name; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// engineOptions passes opts to the layers that apply them, zero fields
// included: each layer fills in its own defaults, declared above by name.
func (opts Options) engineOptions() cluster.Options {
	o := cluster.Options{
		Seeds:            opts.Seeds,
		Mode:             cluster.Mode(opts.Mode),
		SentinelMaster:   opts.SentinelMaster,
		SentinelUsername: opts.SentinelUsername,
		SentinelPassword: opts.SentinelPassword,
		ReaderEndpoint:   opts.ReaderEndpoint,
		Conn: conn.Options{
			Username:      opts.Username,
			Password:      opts.Password,
			Credentials:   opts.Credentials,
			ClientName:    opts.ClientName,
			TLS:           opts.TLS,
			DialTimeout:   opts.DialTimeout,
			HealthTimeout: opts.HealthTimeout,
			BusyTimeout:   opts.BusyTimeout,
			PingInterval:  opts.PingInterval,
			Limits: resp.Limits{
				MaxBulkLen:      opts.MaxBulkBytes,
				MaxAggregateLen: opts.MaxReplyElements,
				MaxReplyBytes:   opts.MaxReplyBytes,
			},
		},
		RefreshInterval:      opts.RefreshInterval,
		IncidentInterval:     opts.IncidentInterval,
		RefreshTimeout:       opts.RefreshTimeout,
		MaxRedirects:         opts.MaxRedirects,
		RetryTimeout:         opts.RetryTimeout,
		ReadPolicy:           cluster.ReadPolicy(opts.ReadPolicy),
		RetryUnknownOutcome:  opts.RetryUnknownOutcome,
		WatchAttempts:        opts.WatchAttempts,
		ReauthInterval:       opts.ReauthInterval,
		MaxConnAge:           opts.MaxConnAge,
		BlockingConnsPerNode: opts.BlockingConnsPerNode,
		Resolver:             opts.Resolver,
		Logger:               opts.Logger,
		NodeError:            newNodeError,
	}
	if opts.OnEvent != nil {
		o.OnEvent = func(ev cluster.Event) { opts.OnEvent(eventFrom(ev)) }
	}
	return o
}
