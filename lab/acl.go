package lab

import (
	"context"
	"fmt"
)

// createUser adds the extra ACL user requested by ServerOptions.User. It
// runs once, right after start-up, over the same kind of connection a client
// would use (TLS for TLS servers). Errors quote only the server's reply,
// never the password.
func createUser(ctx context.Context, s *Server, user, password string) error {
	c, err := dialRaw(ctx, s.addr, s.tlsConf)
	if err != nil {
		return fmt.Errorf("lab: connect to create ACL user: %w", err)
	}
	defer c.Close()

	rule := "nopass"
	if password != "" {
		if reply, err := c.do("AUTH", password); err != nil || reply != "+OK" {
			return fmt.Errorf("lab: AUTH before creating ACL user: reply %q, error %v", reply, err)
		}
		rule = ">" + password
	}
	reply, err := c.do("ACL", "SETUSER", user, "on", rule, "~*", "&*", "+@all")
	if err != nil || reply != "+OK" {
		return fmt.Errorf("lab: ACL SETUSER %s: reply %q, error %v", user, reply, err)
	}
	return nil
}
