package conn_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
)

// A node announced by host name is dialled at the addresses the Resolver
// gives for it, and a name the Resolver does not know fails the dial with
// the resolver's error.
func TestDialResolvesThroughResolver(t *testing.T) {
	s := resptest.New(t)
	_, port, _ := net.SplitHostPort(s.Addr())
	opts := conn.Options{Resolver: testutil.Resolver{"node1.keel.test": {"127.0.0.1"}}}

	c, err := conn.Dial(context.Background(), net.JoinHostPort("node1.keel.test", port), opts)
	if err != nil {
		t.Fatalf("dial by name: %v", err)
	}
	if v, err := c.Do(context.Background(), "PING"); err != nil || v.Str != "PONG" {
		t.Errorf("PING = %v, %v", v, err)
	}
	_ = c.Close()

	_, err = conn.Dial(context.Background(), net.JoinHostPort("node2.keel.test", port), opts)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || dnsErr.Name != "node2.keel.test" {
		t.Errorf("dial of an unknown name: %v; want the resolver's *net.DNSError", err)
	}
}
