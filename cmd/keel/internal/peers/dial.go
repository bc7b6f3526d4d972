package peers

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
)

// dialTarget connects to addr with d, which must come from t.Dialer() so
// that a host name is resolved with t's resolver on this very dial (a peer
// that re-dials its seed after the cluster moved to new addresses finds it),
// and performs the TLS handshake when t has TLS.
//
// d.Timeout, when set, bounds the dial and the handshake together, as
// crypto/tls.Dialer does; ctx bounds both too.
func dialTarget(ctx context.Context, t drill.Target, d *net.Dialer, network, addr string) (net.Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	// The dial error is returned as is: it already names the address, and
	// the peers recognise dial failures by their type (go-redis retries a
	// *net.OpError with Op "dial" on another node, for instance).
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if t.TLS == nil {
		return nc, nil
	}
	tc := tls.Client(nc, tlsConfigFor(t.TLS, addr))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("peers: TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// tlsConfigFor returns a copy of base for a connection to addr. When base
// names no server, the host of addr is used, as crypto/tls.Dial and keel's
// own connections do: a name is verified (and sent as SNI) as a name, an IP
// address against the certificate's IP SANs and never sent as SNI. Leaving
// ServerName empty for an IP address instead would make every handshake fail
// unless InsecureSkipVerify is set.
func tlsConfigFor(base *tls.Config, addr string) *tls.Config {
	cfg := base.Clone()
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	return cfg
}
