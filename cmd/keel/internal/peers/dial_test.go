package peers

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/lab"
)

// TestDialTargetResolvesEveryDial moves a name from one address to another
// between two dials and checks that the second dial follows it: nothing on
// the way caches the answer, so a peer that re-dials a name after the cluster
// moved reaches the new nodes.
func TestDialTargetResolvesEveryDial(t *testing.T) {
	oldL, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer oldL.Close()
	port := oldL.Addr().(*net.TCPAddr).Port
	newL, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.3", strconv.Itoa(port)))
	if err != nil {
		t.Skipf("port %d is taken on 127.0.0.3: %v", port, err)
	}
	defer newL.Close()

	dns, err := lab.StartDNS("", "moving.keel.test", []string{"127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()

	target := drill.Target{Resolver: dns.Resolver()}
	addr := net.JoinHostPort("moving.keel.test", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, want := range []string{"127.0.0.2", "127.0.0.3"} {
		if err := dns.SetAddrs([]string{want}); err != nil {
			t.Fatal(err)
		}
		nc, err := dialTarget(ctx, target, target.Dialer(), "tcp", addr)
		if err != nil {
			t.Fatalf("dial %s resolving to %s: %v", addr, want, err)
		}
		got := nc.RemoteAddr().(*net.TCPAddr).IP.String()
		_ = nc.Close()
		if got != want {
			t.Errorf("dial %s reached %s, want %s", addr, got, want)
		}
	}
}

func TestTLSConfigFor(t *testing.T) {
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		base       *tls.Config
		addr, want string
	}{
		{base, "cluster.keel.test:6379", "cluster.keel.test"},
		{base, "127.0.0.5:6379", "127.0.0.5"},
		{&tls.Config{ServerName: "localhost"}, "127.0.0.5:6379", "localhost"},
	} {
		if got := tlsConfigFor(tc.base, tc.addr).ServerName; got != tc.want {
			t.Errorf("ServerName for %s with %q preset = %q, want %q", tc.addr, tc.base.ServerName, got, tc.want)
		}
	}
	if base.ServerName != "" {
		t.Errorf("tlsConfigFor changed the target's config: ServerName %q", base.ServerName)
	}
}
