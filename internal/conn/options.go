package conn

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/keel-go/keel/resp"
)

// Defaults for Options fields left zero.
const (
	DefaultDialTimeout   = 2 * time.Second
	DefaultHealthTimeout = time.Second
	DefaultPingInterval  = time.Second
	DefaultKeepAlive     = 15 * time.Second
	// DefaultIdlePingInterval is longer than DefaultPingInterval, and longer
	// than the 2 s of silence after which Redis frees a client's query
	// buffer. A PING read into a freed buffer leaves it 20 KiB long, and
	// Redis 7.0 grows it only when a read leaves less than 16 KiB free, so a
	// burst of 16–20 KiB commands can then go on at one command per read for
	// as long as it lasts, where a 64 KiB buffer takes three: measured, 40%
	// more server CPU per 16 KiB SET. Pinged every second, an idle
	// connection's buffer is always 20 KiB; pinged every 5 s, it is freed
	// again 2 s after each PING. An idle client also loads its servers five
	// times less.
	DefaultIdlePingInterval = 5 * time.Second
)

// Options configure a connection. The zero value connects over plain TCP with
// RESP3 (falling back to RESP2), no authentication and the documented defaults.
type Options struct {
	// Username and Password authenticate the connection. An empty Username
	// with a Password authenticates the default user (requirepass). Default:
	// no authentication.
	Username string
	Password string
	// Credentials, when set, is called for every dial, before connecting,
	// and returns the username and password (or token) to authenticate
	// with, in place of Username and Password; an empty password means no
	// authentication. Its context ends with the dial (DialTimeout). Its error
	// fails the dial with an error matching ErrCredentials and the error
	// itself. It may be called from several goroutines at once. Default: nil,
	// Username and Password are used.
	Credentials func(ctx context.Context) (username, password string, err error)
	// ClientName is set with CLIENT SETNAME so the connection is recognisable
	// in CLIENT LIST. Default: none.
	ClientName string
	// TLS enables TLS with this configuration. When ServerName is empty, the
	// host of the address is used. Default: nil, plain TCP.
	TLS *tls.Config
	// Protocol is 3 to try HELLO 3 and fall back to RESP2 on servers that
	// have no HELLO, or 2 to speak RESP2 only. Default: 3.
	Protocol int
	// ReadOnly sends READONLY during the handshake, so a replica serves
	// reads on this connection. Default: false.
	ReadOnly bool
	// DB is the database selected (SELECT) on every connection, for a
	// server without cluster support. Default 0, which sends nothing.
	DB int
	// DialTimeout bounds connecting, including TLS and the handshake, in
	// addition to the context given to Dial. Default: DefaultDialTimeout.
	DialTimeout time.Duration
	// HealthTimeout is how long the oldest in-flight request may wait with no
	// reply bytes before the connection is declared dead. Set it above the
	// slowest command you send on the connection; negative disables the check
	// (for blocking commands). Default: DefaultHealthTimeout.
	HealthTimeout time.Duration
	// BusyTimeout, when positive, makes the health check tell a busy server
	// from a hung one: when the oldest request has waited HealthTimeout with
	// no reply bytes, a PING on a second, short-lived connection must also
	// go unanswered for HealthTimeout before the connection is declared dead
	// (ErrHealthTimeout). A server that answers it is busy (one slow command,
	// DEBUG SLEEP, writes paused by CLIENT PAUSE WRITE or a manual failover):
	// the connection stays, its requests wait (each bounded by its own
	// context), and the probe is repeated every HealthTimeout. A hung server
	// is then declared dead after up to twice HealthTimeout. BusyTimeout
	// bounds how long a server that keeps answering probes may leave the
	// oldest request without reply bytes before the connection is cut anyway
	// (ErrBusyTimeout): the escape for a server stuck on one command. Zero
	// or negative: no probe, a connection silent for HealthTimeout is
	// declared dead. Default 0.
	BusyTimeout time.Duration
	// OnBusy is called each time a probe finds the server busy rather than
	// hung: it answered the probe while the connection waited over
	// HealthTimeout. It runs on a goroutine of the connection's and must
	// not block. Default: none.
	OnBusy func()
	// OnDoubt is called with true when the oldest request has waited over
	// HealthTimeout and a probe is out to tell a busy server from a hung
	// one (BusyTimeout set), and with false when that doubt ends: a reply
	// arrived, the probe found the server busy, or the connection failed
	// (after OnClose, when the health check failed it). Calls alternate,
	// starting with true. The server is not declared dead for a doubt: it
	// lets the caller look for a failover while the probe runs. It runs on
	// the connection's monitor goroutine and must not block. Default: none.
	OnDoubt func(doubting bool)
	// DivertReadsAfter, when positive, is how long the oldest request may
	// wait without reply bytes before the reads sent with DoRead behind it
	// are handed back with ErrDiverted, to go on another connection: the
	// server answers a connection's commands in order, so a read queued
	// behind a write held by CLIENT PAUSE WRITE (a manual failover) would
	// wait for the pause although the server serves reads. A read at the
	// head of the line is never held by a pause, so while the oldest
	// request is itself a DoRead read, nothing is diverted. Default 0:
	// reads are never diverted.
	DivertReadsAfter time.Duration
	// PingInterval is how often a busy connection sends PING, as a sentinel
	// whose PONG proves the replies still in step with the requests.
	// Negative disables pings, idle ones too unless IdlePingInterval is set.
	// Default: DefaultPingInterval.
	PingInterval time.Duration
	// IdlePingInterval is how long a connection may be idle before it sends
	// PING, so a hung server is noticed before a caller needs it (one that
	// closed the connection is noticed sooner, by a look at the socket).
	// Negative disables idle pings. Default: PingInterval when that is set,
	// else DefaultIdlePingInterval.
	IdlePingInterval time.Duration
	// KeepAlive is the TCP keepalive period. Negative disables keepalive.
	// Default: DefaultKeepAlive. On Linux TCP_USER_TIMEOUT is also set, to
	// twice the health timeout (or the keepalive period when the check is
	// off), so unacknowledged writes fail without waiting for the kernel's
	// default of many minutes.
	KeepAlive time.Duration
	// Limits bound the replies accepted from the server. Default: resp's defaults.
	Limits resp.Limits
	// OnPush receives RESP3 push messages, which are not replies to any
	// request. It runs on the reader goroutine and must not block. Default:
	// pushes are dropped.
	OnPush func(resp.Value)
	// OnClose is called once when the connection fails or is closed, with
	// the cause, after every waiting request has been failed. It runs on
	// whichever goroutine noticed and must not block. Default: none.
	OnClose func(cause error)
	// DialContext opens the network connection. Default: a net.Dialer with
	// the keepalive and TCP_USER_TIMEOUT settings above, resolving host
	// names through Resolver.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolver resolves an address's host name for the default DialContext
	// (the host name itself still serves for TLS verification). Default:
	// nil, the dialer resolves it (net.DefaultResolver).
	Resolver Resolver
}

func (o Options) withDefaults() Options {
	if o.Protocol == 0 {
		o.Protocol = 3
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.HealthTimeout == 0 {
		o.HealthTimeout = DefaultHealthTimeout
	}
	if o.IdlePingInterval == 0 {
		o.IdlePingInterval = o.PingInterval
		if o.PingInterval == 0 {
			o.IdlePingInterval = DefaultIdlePingInterval
		}
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.DialContext == nil {
		d := &net.Dialer{KeepAlive: o.KeepAlive, Control: userTimeoutControl(o.userTimeout())}
		o.DialContext = d.DialContext
		if o.Resolver != nil {
			o.DialContext = resolvingDial(d.DialContext, o.Resolver)
		}
	}
	return o
}

func (o Options) userTimeout() time.Duration {
	if o.HealthTimeout > 0 {
		return 2 * o.HealthTimeout
	}
	return max(o.KeepAlive, 0)
}
