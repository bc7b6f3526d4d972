package cluster

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/keel-go/keel/internal/conn"
)

// ReadPolicy says which nodes serve read-only commands.
type ReadPolicy uint8

// Read policies.
const (
	// ReadPrimary sends every command to the slot's primary.
	ReadPrimary ReadPolicy = iota
	// ReadPrimaryPreferred reads from the primary, and from a replica while
	// the primary is suspect.
	ReadPrimaryPreferred
	// ReadReplicaPreferred reads from a replica when one is healthy.
	ReadReplicaPreferred
	// ReadNearest reads from the node of the shard with the lowest round trip.
	ReadNearest
)

// String names the policy as its constant does, without the "Read" prefix:
// "primary", "primary-preferred", "replica-preferred", "nearest".
func (p ReadPolicy) String() string {
	switch p {
	case ReadPrimary:
		return "primary"
	case ReadPrimaryPreferred:
		return "primary-preferred"
	case ReadReplicaPreferred:
		return "replica-preferred"
	case ReadNearest:
		return "nearest"
	}
	return fmt.Sprintf("ReadPolicy(%d)", uint8(p))
}

// Resolver looks up a host name's addresses; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Defaults for Options fields left zero.
const (
	DefaultRefreshInterval = 10 * time.Second
	// DefaultReplicationRefreshInterval is RefreshInterval's default in
	// ModeReplication, where a refresh re-resolves the primary endpoint
	// and asks ROLE only when its addresses changed.
	DefaultReplicationRefreshInterval = time.Second
	DefaultIncidentInterval           = 50 * time.Millisecond
	DefaultRefreshTimeout             = time.Second
	DefaultMaxRedirects               = 16
	DefaultRetryTimeout               = 10 * time.Second
	DefaultWatchAttempts              = 16
	// DefaultBusyTimeout bounds how long a node that answers probes may
	// hold a request (conn.Options.BusyTimeout): as long as a manual
	// failover may pause writes (twice its 5 s timeout), and as
	// DefaultRetryTimeout.
	DefaultBusyTimeout = 10 * time.Second
	// DefaultBlockingConnsPerNode bounds the connections per node that
	// blocking commands hold. Each blocked call holds one for as long as it
	// blocks (one server client, with its buffers and file descriptor), so
	// the bound is what keeps a burst of consumers from exhausting the
	// server: 64 serves 64 concurrent consumers per node, and 100 client
	// processes at the bound stay well under Redis's default maxclients
	// (10000).
	DefaultBlockingConnsPerNode = 64
)

// Options configure an Engine. Seeds is required.
type Options struct {
	// Seeds are "host:port" addresses of any cluster nodes, or a name that
	// resolves to them (a configuration endpoint).
	Seeds []string
	// Mode says what the seeds lead to (see Mode). Default ModeAuto.
	Mode Mode
	// SentinelMaster is the name the sentinels monitor the primary under;
	// required in ModeSentinel, and only there. Default "".
	SentinelMaster string
	// SentinelUsername and SentinelPassword authenticate the connections
	// to the sentinels, which have credentials of their own; only in
	// ModeSentinel. Default "": no authentication.
	SentinelUsername string
	SentinelPassword string
	// ReaderEndpoint is "host:port" of a name that resolves to replicas
	// of a replication group; only in ModeReplication. Default "": none.
	ReaderEndpoint string
	// Conn is the template for every node connection: authentication, TLS,
	// timeouts. Its ReadOnly and OnClose are set by the engine.
	Conn conn.Options
	// RefreshInterval is the steady-state topology refresh period.
	// Default DefaultRefreshInterval.
	RefreshInterval time.Duration
	// IncidentInterval is the pause, at most, between the probes of a
	// suspect primary's shard in the first seconds of an incident (see
	// incident.go). Default DefaultIncidentInterval.
	IncidentInterval time.Duration
	// RefreshTimeout bounds one node's answer to a topology query.
	// Default DefaultRefreshTimeout.
	RefreshTimeout time.Duration
	// MaxRedirects bounds the MOVED/ASK redirects one request follows.
	// Default DefaultMaxRedirects.
	MaxRedirects int
	// RetryTimeout bounds retrying when the caller's context has no
	// deadline. Default DefaultRetryTimeout.
	RetryTimeout time.Duration
	// ReadPolicy chooses the nodes for read-only commands. Default ReadPrimary.
	ReadPolicy ReadPolicy
	// RetryUnknownOutcome allows retrying commands that are not idempotent
	// after their connection failed mid-request, accepting that they may
	// then run twice. Default false.
	RetryUnknownOutcome bool
	// WatchAttempts bounds how many times Watch runs its function while
	// watched keys keep changing. Default DefaultWatchAttempts.
	WatchAttempts int
	// BlockingConnsPerNode bounds the dedicated connections per node on
	// which blocking commands run; a call waits, until its context ends,
	// for one to be free. Default DefaultBlockingConnsPerNode.
	BlockingConnsPerNode int
	// ReauthInterval is how often each live connection is re-authenticated
	// with fresh credentials from Conn.Credentials, which it requires: a
	// shared one by the upkeep loop, a dedicated one when next lent, if due.
	// Default 0: never.
	ReauthInterval time.Duration
	// MaxConnAge is the age at which a shared connection is replaced (a
	// new one dialled, the old one drained) and an idle dedicated one
	// closed. Default 0: no limit.
	MaxConnAge time.Duration
	// Resolver resolves the seeds, at start and when no known node
	// answers, and the host names nodes announce (unless Conn has a
	// Resolver or DialContext of its own). Default net.DefaultResolver.
	Resolver Resolver
	// OnEvent receives events (topology changes, suspect and recovered
	// nodes, failed refreshes) on a goroutine of its own; events are dropped
	// rather than delay requests when it falls behind. Default none.
	OnEvent func(Event)
	// Logger receives keel's logs. Default: none.
	Logger *slog.Logger
	// NodeError wraps one node's failure in a request sent to several
	// nodes, so that the caller can tell which failed; the package keel
	// gives its own. Default: a *NodeError.
	NodeError func(addr string, err error) error
}

// validate rejects values no default can stand for: zero means the
// default, but a negative count or an unknown policy is a mistake.
func (o Options) validate() error {
	switch {
	case o.ReadPolicy > ReadNearest:
		return fmt.Errorf("%w: ReadPolicy %v is not one of the Read constants", ErrBadOptions, o.ReadPolicy)
	case o.Mode > ModeSentinel:
		return fmt.Errorf("%w: Mode %v is not one of the Mode constants", ErrBadOptions, o.Mode)
	case o.Mode == ModeSentinel && o.SentinelMaster == "":
		return fmt.Errorf("%w: Mode sentinel needs SentinelMaster, the name the sentinels monitor the primary under", ErrBadOptions)
	case o.Mode != ModeSentinel && o.SentinelMaster != "":
		return fmt.Errorf("%w: SentinelMaster %q needs Mode sentinel", ErrBadOptions, o.SentinelMaster)
	case o.Mode != ModeSentinel && (o.SentinelUsername != "" || o.SentinelPassword != ""):
		return fmt.Errorf("%w: SentinelUsername and SentinelPassword need Mode sentinel", ErrBadOptions)
	case o.Mode != ModeReplication && o.ReaderEndpoint != "":
		return fmt.Errorf("%w: ReaderEndpoint %q needs Mode replication", ErrBadOptions, o.ReaderEndpoint)
	case o.ReaderEndpoint != "" && !isHostPort(o.ReaderEndpoint):
		return fmt.Errorf("%w: ReaderEndpoint %q is not host:port", ErrBadOptions, o.ReaderEndpoint)
	case o.Conn.DB != 0 && o.Mode != ModeStandalone && o.Mode != ModeReplication && o.Mode != ModeSentinel:
		return fmt.Errorf("%w: database %d needs Mode standalone, replication or sentinel (a cluster has only database 0)", ErrBadOptions, o.Conn.DB)
	case o.Conn.DB < 0:
		return fmt.Errorf("%w: database %d is negative", ErrBadOptions, o.Conn.DB)
	case o.MaxRedirects < 0:
		return fmt.Errorf("%w: MaxRedirects %d is negative (0 means the default, %d)", ErrBadOptions, o.MaxRedirects, DefaultMaxRedirects)
	case o.BlockingConnsPerNode < 0:
		return fmt.Errorf("%w: BlockingConnsPerNode %d is negative (0 means the default, %d)", ErrBadOptions, o.BlockingConnsPerNode, DefaultBlockingConnsPerNode)
	case o.Conn.Credentials != nil && (o.Conn.Username != "" || o.Conn.Password != ""):
		return fmt.Errorf("%w: Credentials and Username/Password are both set (use one)", ErrBadOptions)
	case o.ReauthInterval < 0:
		return fmt.Errorf("%w: ReauthInterval %v is negative (0 means never)", ErrBadOptions, o.ReauthInterval)
	case o.ReauthInterval > 0 && o.Conn.Credentials == nil:
		return fmt.Errorf("%w: ReauthInterval re-authenticates with fresh credentials from Credentials, which is not set", ErrBadOptions)
	case o.MaxConnAge < 0:
		return fmt.Errorf("%w: MaxConnAge %v is negative (0 means no limit)", ErrBadOptions, o.MaxConnAge)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
		if o.Mode == ModeReplication {
			o.RefreshInterval = DefaultReplicationRefreshInterval
		}
	}
	if o.IncidentInterval <= 0 {
		o.IncidentInterval = DefaultIncidentInterval
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = DefaultRefreshTimeout
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = DefaultRetryTimeout
	}
	if o.WatchAttempts <= 0 {
		o.WatchAttempts = DefaultWatchAttempts
	}
	if o.BlockingConnsPerNode <= 0 {
		o.BlockingConnsPerNode = DefaultBlockingConnsPerNode
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	} else if o.Conn.Resolver == nil && o.Conn.DialContext == nil {
		o.Conn.Resolver = o.Resolver
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NodeError == nil {
		o.NodeError = newNodeError
	}
	if o.Conn.BusyTimeout == 0 {
		o.Conn.BusyTimeout = DefaultBusyTimeout
	}
	if ht := cmp.Or(o.Conn.HealthTimeout, conn.DefaultHealthTimeout); ht > 0 && o.Conn.BusyTimeout > 0 {
		o.Conn.DivertReadsAfter = ht / 5
	}
	o.Conn.ReadOnly = o.ReadPolicy != ReadPrimary
	return o
}

// isHostPort reports whether addr is "host:port" with both parts present.
func isHostPort(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	return err == nil && host != "" && port != ""
}
