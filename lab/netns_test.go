package lab

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClusterPartitionHeal partitions a primary of a cluster whose nodes
// each have a network namespace: dials to it must hang (no RST, no ICMP),
// an open connection must get no reply, the cluster must fail it over, and
// healing it must bring it back as a replica.
func TestClusterPartitionHeal(t *testing.T) {
	skipIfShort(t)
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1, NetNamespaces: true})
	ctx := testCtx(t, 90*time.Second)
	w := startWatcherT(t, c)
	p, r := shardNodes(t, ctx, c, 0)
	if !strings.HasPrefix(p.Host(), netBlock16+".") {
		t.Fatalf("node host %s, want an address in %s.0.0/16", p.Host(), netBlock16)
	}
	open, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()

	part, err := c.Partition(p)
	if err != nil {
		t.Fatal(err)
	}
	assertDialHangs(t, p.Addr())
	assertNoReply(t, open)

	// The partitioned node may still answer a probe sent before its link
	// went down, after a loaded machine starved earlier probes: the
	// failover is the first served event by another node.
	var at time.Time
	var addr string
	for after := part.Began; ; after = at.Add(time.Nanosecond) {
		if at, addr, err = w.WaitServed(ctx, 0, after); err != nil {
			t.Fatal(err)
		}
		if addr != p.Addr() {
			break
		}
	}
	if addr != r.Addr() {
		t.Fatalf("slot 0 served by %s after the partition, want the replica %s", addr, r.Addr())
	}
	t.Logf("partition → slot 0 served by the replica after %v (node timeout %v)", at.Sub(part.Began), c.Options().NodeTimeout)

	heal, err := c.Heal(p)
	if err != nil {
		t.Fatal(err)
	}
	waitReplicaOf(t, ctx, c, p, r, "the healed node")
	t.Logf("heal → old primary is a replica after %v", time.Since(heal.Began))
	if err := c.WaitStable(ctx); err != nil {
		t.Fatal(err)
	}
}

// assertDialHangs fails unless a dial to addr times out: a refused or
// unreachable answer would mean packets are rejected, not dropped.
func assertDialHangs(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s succeeded during the partition", addr)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("dial %s during the partition: %v, want a timeout", addr, err)
	}
}

// assertNoReply fails unless a PING on conn, opened before the partition,
// gets no answer.
func assertNoReply(t *testing.T, conn net.Conn) {
	t.Helper()
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		t.Fatalf("write during the partition: %v (want it buffered, unanswered)", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read during the partition: %q, %v; want a timeout", buf[:n], err)
	}
}

func TestPartitionNeedsNetNamespaces(t *testing.T) {
	c := &Cluster{}
	n := &Node{c: c, name: "node1", host: "127.0.0.1", port: 1}
	if _, err := c.Partition(n); err == nil || !strings.Contains(err.Error(), "NetNamespaces") {
		t.Fatalf("Partition without namespaces: %v, want an error naming NetNamespaces", err)
	}
	if _, err := c.Heal(n); err == nil {
		t.Fatal("Heal without namespaces succeeded")
	}
}

func TestNetNamespacesExcludeDistinctHosts(t *testing.T) {
	_, err := StartCluster(context.Background(), ClusterOptions{NetNamespaces: true, DistinctHosts: true})
	if err == nil || !strings.Contains(err.Error(), "DistinctHosts") {
		t.Fatalf("StartCluster: %v, want an error naming DistinctHosts", err)
	}
}

// TestClusterLatency adds latency to a node and sees it in a PING round
// trip, on a connection opened before and on a new one, then clears it.
func TestClusterLatency(t *testing.T) {
	skipIfShort(t)
	c := StartClusterT(t, ClusterOptions{Shards: 1, NetNamespaces: true})
	n := c.Nodes()[0]
	old := dialT(t, n.Addr())
	const d = 150 * time.Millisecond

	if _, err := c.AddLatency(n, d); err != nil {
		t.Fatal(err)
	}
	if rtt := fastestPing(t, old, 3); rtt < d {
		t.Errorf("PING on an open connection took %v with %v latency, want at least that", rtt, d)
	}
	if rtt := fastestPing(t, dialT(t, n.Addr()), 3); rtt < d {
		t.Errorf("PING on a new connection took %v with %v latency, want at least that", rtt, d)
	}

	if _, err := c.ClearLatency(n); err != nil {
		t.Fatal(err)
	}
	if rtt := fastestPing(t, old, 5); rtt >= d {
		t.Errorf("PING took %v after ClearLatency, want less than %v", rtt, d)
	}

	_, err := c.AddLoss(n, 10)
	switch {
	case c.Netem() && err != nil:
		t.Errorf("AddLoss with netem: %v", err)
	case !c.Netem() && !errors.Is(err, ErrNetemUnavailable):
		t.Errorf("AddLoss without netem: %v, want ErrNetemUnavailable", err)
	}
	if _, err := c.AddLatency(n, -time.Second); err == nil {
		t.Error("AddLatency accepted a negative delay")
	}
	if _, err := c.AddLoss(n, 0); err == nil {
		t.Error("AddLoss accepted 0%")
	}
}

func dialT(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// fastestPing sends PING count times on conn and returns the shortest round
// trip: the floor the network imposes, whatever the machine's load.
func fastestPing(t *testing.T, conn net.Conn, count int) time.Duration {
	t.Helper()
	best := time.Duration(1<<63 - 1)
	buf := make([]byte, 7)
	for range count {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		if _, err := conn.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "+PONG\r\n" {
			t.Fatalf("PING: %q, %v", buf, err)
		}
		best = min(best, time.Since(start))
	}
	return best
}
