package lab

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// A 3-primary × 1-replica cluster with TLS everywhere (clients, bus,
// replication), mutual TLS and announced host names forms; its shards are
// reported by host name and TLS port; the host names resolve through the
// cluster's DNS server to the nodes' addresses and verify against the
// certificates; a client without a certificate is refused; a forced
// failover still works, and lab's watcher sees it.
func TestTLSClusterHostnamesMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := StartClusterT(t, ClusterOptions{Shards: 3, Replicas: 1, TLS: true, TLSClientAuth: true,
		Hostnames: true, DistinctHosts: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.ServeDNS("seed." + HostDomain); err != nil {
		t.Fatal(err)
	}
	conf := c.TLSConfig()
	if conf.ServerName != "" || len(conf.Certificates) != 1 {
		t.Fatalf("TLSConfig: ServerName %q, %d certificates; want none and one", conf.ServerName, len(conf.Certificates))
	}
	target := Target{Seeds: []string{c.Seed()}, TLS: conf, Resolver: c.Resolver()}
	shards, err := target.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(shards) != 3 {
		t.Fatalf("%d shards, want 3", len(shards))
	}
	for _, sh := range shards {
		for _, addr := range append([]string{sh.Primary}, sh.Replicas...) {
			host, _, _ := net.SplitHostPort(addr)
			n := c.NodeByAddr(c.addrOfHostname(t, ctx, addr))
			if !strings.HasSuffix(host, "."+HostDomain) || n == nil || n.Hostname() != host {
				t.Errorf("shard node %s: want a member's host name and TLS port", addr)
			}
		}
		if len(sh.Replicas) != 1 {
			t.Errorf("shard %s has replicas %v, want one", sh.Primary, sh.Replicas)
		}
	}

	// Without a client certificate the server ends the handshake.
	noCert := c.TLSConfig()
	noCert.Certificates = nil
	noCert.ServerName = "localhost"
	if rc, err := dialRaw(ctx, c.Nodes()[0].Addr(), noCert); err == nil {
		_, err = rc.call("PING")
		rc.Close()
		if err == nil {
			t.Error("PING without a client certificate succeeded")
		}
	}

	primary, err := c.PrimaryFor(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := c.ReplicasOf(ctx, primary)
	if err != nil || len(replicas) != 1 {
		t.Fatalf("replicas of %s: %v, %v", primary, replicas, err)
	}
	w, err := c.Watch(ctx, WatchOptions{Slots: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	step, err := c.Failover(ctx, replicas[0], FailoverForce)
	if err != nil {
		t.Fatal(err)
	}
	if now, err := c.PrimaryFor(ctx, 0); err != nil || now != replicas[0] {
		t.Errorf("after the failover slot 0 is on %v (%v), want %s", now, err, replicas[0])
	}
	// lab's watcher speaks TLS to the cluster too, and sees the new primary.
	waitEvent(ctx, t, w, "served by the promoted replica", func(e WatchEvent) bool {
		return e.Kind == "served" && e.Slot == 0 && e.Node == replicas[0].Addr() && !e.At.Before(step.Began)
	})
}

// addrOfHostname resolves addr's host name through the cluster's DNS server
// and returns "ip:port".
func (c *Cluster) addrOfHostname(t *testing.T, ctx context.Context, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ips, err := c.Resolver().LookupHost(ctx, host)
	if err != nil || len(ips) != 1 {
		t.Fatalf("resolve %s: %v, %v", host, ips, err)
	}
	return net.JoinHostPort(ips[0], port)
}
