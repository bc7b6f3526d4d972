package conn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keel-go/keel/resp"
)

// credentials returns the username and password for one dial: the
// provider's answer when there is one, else the fixed options.
func credentials(ctx context.Context, o Options) (username, password string, err error) {
	if o.Credentials == nil {
		return o.Username, o.Password, nil
	}
	username, password, err = o.Credentials(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	return username, password, nil
}

// handshake negotiates the protocol, authenticates, names the connection and
// sends READONLY if asked, before the pipeline goroutines start.
func (c *Conn) handshake(username, password string) error {
	o := c.opts
	c.proto = 2
	if o.Protocol >= 3 {
		args := []string{"HELLO", "3"}
		if password != "" {
			args = append(args, "AUTH", cmp.Or(username, "default"), password)
		}
		if o.ClientName != "" {
			args = append(args, "SETNAME", o.ClientName)
		}
		err := c.roundTrip(args...)
		switch {
		case err == nil:
			c.proto = 3
			return c.readOnly()
		case !helloUnsupported(err):
			return err
		}
	}
	if password != "" {
		if err := c.roundTrip(authArgs(username, password)...); err != nil {
			return err
		}
	}
	if o.ClientName != "" {
		if err := c.roundTrip("CLIENT", "SETNAME", o.ClientName); err != nil {
			return err
		}
	}
	return c.readOnly()
}

func (c *Conn) readOnly() error {
	if !c.opts.ReadOnly {
		return nil
	}
	return c.roundTrip("READONLY")
}

// roundTrip sends one command on the bare socket and reads its reply. An
// error reply is returned as an error, marked ErrAuth when it is about
// credentials.
func (c *Conn) roundTrip(args ...string) error {
	if _, err := c.nc.Write(resp.AppendCommand(nil, args)); err != nil {
		return err
	}
	v, err := c.rd.Read()
	if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		if isAuthError(err) {
			return fmt.Errorf("%w: %w", ErrAuth, err)
		}
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

// helloUnsupported reports a server without RESP3: one older than Redis 6
// (no HELLO command) or one refusing protocol 3.
func helloUnsupported(err error) bool {
	var re *resp.Error
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == "NOPROTO" || resp.IsUnknownCommand(err)
}

func isAuthError(err error) bool {
	if errors.Is(err, resp.ErrNoAuth) || errors.Is(err, resp.ErrWrongPass) || errors.Is(err, resp.ErrNoPerm) {
		return true
	}
	// Servers before ACLs (Redis 5) say "ERR invalid password" and, when no
	// password is set, "ERR Client sent AUTH, but no password is set".
	var re *resp.Error
	if errors.As(err, &re) && re.Code == "ERR" {
		m := strings.ToLower(re.Msg)
		return strings.Contains(m, "password")
	}
	return false
}
