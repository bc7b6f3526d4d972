package conn

import (
	"context"
	"fmt"
	"time"
)

// Age returns how long ago the connection was dialled.
func (c *Conn) Age() time.Duration { return time.Duration(c.clock()) }

// SinceAuth returns how long ago the connection was last authenticated, or
// an attempt to re-authenticate it was made (failed ones included): the
// dial's handshake, or the last Reauthenticate.
func (c *Conn) SinceAuth() time.Duration {
	return time.Duration(c.clock() - c.authAt.Load())
}

// Reauthenticate asks the credentials (Options.Credentials, or the fixed
// Username and Password) again and sends AUTH with them on the live
// connection, in order with its traffic: requests sent before it run as
// the old user, those after it as the new one, and none is held up beyond
// the AUTH's own round trip. The provider's context, and the wait for the
// reply, end with ctx or after Options.DialTimeout. With an empty password
// nothing is sent.
//
// A failure leaves the connection as it was, still authenticated as before
// (Redis keeps a connection's user when AUTH fails): a provider error
// matches ErrCredentials and the provider's error, a refusal matches ErrAuth
// and the server's error; a lost connection is an *Error.
func (c *Conn) Reauthenticate(ctx context.Context) error {
	c.authAt.Store(c.clock())
	ctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	username, password, err := credentials(ctx, c.opts)
	if err != nil {
		return fmt.Errorf("keel: re-authenticate %s: %w", c.addr, err)
	}
	if password == "" {
		return nil
	}
	_, err = c.Do(ctx, authArgs(username, password)...)
	if err == nil {
		return nil
	}
	if isAuthError(err) {
		return fmt.Errorf("keel: re-authenticate %s: %w: %w", c.addr, ErrAuth, err)
	}
	return fmt.Errorf("keel: re-authenticate %s: %w", c.addr, err)
}

// authArgs is the AUTH command for username and password; an empty
// username authenticates the default user (requirepass).
func authArgs(username, password string) []string {
	if username == "" {
		return []string{"AUTH", password}
	}
	return []string{"AUTH", username, password}
}
