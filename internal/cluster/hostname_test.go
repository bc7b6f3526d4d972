package cluster

import (
	"net"
	"testing"

	"github.com/keel-go/keel/internal/testutil"
)

// A node the topology names by host name (cluster-preferred-endpoint-type
// hostname) is known by that name and dialled at the address
// Options.Resolver gives for it: the system resolver knows no such name.
func TestEngineDialsAnnouncedHostnameThroughResolver(t *testing.T) {
	fc := newFakeCluster(t, 1)
	_, port, _ := net.SplitHostPort(fc.addr(0))
	named := net.JoinHostPort("node1.keel.test", port)
	fc.setView(oneShard(1, named))
	fc.nodes[0].Handle("GET", bulkFrom("named"))
	e := newFakeEngine(t, fc, Options{Resolver: testutil.Resolver{"node1.keel.test": {"127.0.0.1"}}})

	if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != "from-named" {
		t.Fatalf("GET = %v, %v", v, err)
	}
	nodes := e.Nodes()
	if len(nodes) != 1 || nodes[0].Addr != named {
		t.Errorf("nodes %+v, want only %s", nodes, named)
	}
}
