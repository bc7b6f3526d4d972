package conn

import (
	"context"
	"net"

	"github.com/keel-go/keel/resp"
)

// Raw is a connection after its handshake (TLS, protocol, credentials,
// name), without the goroutines of a Conn: its one owner writes to it and
// reads from it directly. Pub/Sub subscribers use it, because a subscribed
// connection receives messages no request asked for, which a Conn's
// in-order matching of replies to requests cannot carry.
type Raw struct {
	net.Conn
	// Reader reads the connection's values within Options.Limits.
	Reader *resp.Reader
	// Protocol is the RESP version in use, 2 or 3.
	Protocol int
}

// DialRaw connects to addr and performs the handshake as Dial does, but
// starts no goroutine: no auto-pipelining, health check or pings. ctx bounds
// the dial and handshake only. OnPush and OnClose are not used.
func DialRaw(ctx context.Context, addr string, opts Options) (*Raw, error) {
	c, err := open(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	return &Raw{Conn: c.nc, Reader: c.rd, Protocol: c.proto}, nil
}
