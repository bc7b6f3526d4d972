package peers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/rueidis"
)

// rueidisModule is rueidis's module path, for its version in Describe.
const rueidisModule = "github.com/redis/rueidis"

// rueidisDriver opens rueidis clients with the library's default options:
// only the seeds, credentials, TLS and the dial function are set.
type rueidisDriver struct{ name string }

func (d rueidisDriver) Name() string { return d.name }

func (d rueidisDriver) Describe() string {
	return fmt.Sprintf("%s %s Client (ForceSingleClient on a replication group, Sentinel.MasterSet on a Sentinel group), default options", rueidisModule, drill.ModuleVersion(rueidisModule, rueidis.LibVer))
}

// Open creates the client. rueidis.NewClient connects and reads the slot map
// before it returns, but takes no context: the dial timeout of rueidis's
// defaults (5s per address) bounds it instead of ctx.
func (d rueidisDriver) Open(_ context.Context, t drill.Target) (drill.Client, error) {
	if len(t.Seeds) == 0 {
		return nil, errors.New("rueidis: no seed addresses")
	}
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: append([]string(nil), t.Seeds...),
		Username:    t.Username,
		Password:    t.Password,
		// rueidis reads TLSConfig to pick the nodes' TLS ports out of
		// CLUSTER SHARDS; with a DialCtxFn it leaves the handshake to it.
		TLSConfig: t.TLS,
		// rueidis passes its Dialer, with its default Timeout and KeepAlive
		// filled in; the driver keeps those and only swaps in the target's
		// resolver. The TLS config it passes is t.TLS, which dialTarget uses.
		// On a replication group's primary endpoint, rueidis's standalone
		// client: the name, not a guess at the deployment.
		ForceSingleClient: t.Replication,
		// On a Sentinel group, rueidis's Sentinel client: InitAddress are
		// then the sentinels.
		Sentinel: rueidis.SentinelOption{MasterSet: t.SentinelMaster},
		DialCtxFn: func(ctx context.Context, addr string, rd *net.Dialer, _ *tls.Config) (net.Conn, error) {
			d := t.Dialer()
			d.Timeout, d.KeepAlive, d.KeepAliveConfig = rd.Timeout, rd.KeepAlive, rd.KeepAliveConfig
			return dialTarget(ctx, t, d, "tcp", addr)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("rueidis: connect to %v: %w", t.Seeds, err)
	}
	return rueidisClient{c}, nil
}

// rueidisClient is a drill.Client over a rueidis.Client. Its errors are
// rueidis's own, unwrapped (see the package doc), except rueidis.ErrClosing
// (see connClosing).
type rueidisClient struct{ c rueidis.Client }

// connClosing marks rueidis.ErrClosing as the connection error it is. rueidis
// returns that one sentinel, "rueidis client is closing or unable to connect
// redis", both after Client.Close and for commands on a connection it closed
// or could not open — a node that died, or left the slot map on a refresh —
// and its text matches none of drill.Classify's connection words, so it would
// count as "other". The drill never uses a client after Close, so here it
// always means a lost connection. errors.Is still finds ErrClosing.
type connClosing struct{ err error }

func (e connClosing) Error() string { return "connection closed: " + e.err.Error() }
func (e connClosing) Unwrap() error { return e.err }

// rueidisErr returns err, with rueidis.ErrClosing marked by connClosing.
func rueidisErr(err error) error {
	if errors.Is(err, rueidis.ErrClosing) {
		return connClosing{err}
	}
	return err
}

func (c rueidisClient) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := c.c.Do(ctx, c.c.B().Get().Key(key).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, rueidisErr(err)
	}
	return v, true, nil
}

func (c rueidisClient) Set(ctx context.Context, key, value string) error {
	return rueidisErr(c.c.Do(ctx, c.c.B().Set().Key(key).Value(value).Build()).Error())
}

func (c rueidisClient) Incr(ctx context.Context, key string) (int64, error) {
	n, err := c.c.Do(ctx, c.c.B().Incr().Key(key).Build()).AsInt64()
	return n, rueidisErr(err)
}

// Close closes the client. rueidis's Close returns nothing.
func (c rueidisClient) Close() error {
	c.c.Close()
	return nil
}
