package keel_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// startTLSCluster starts a 3×1 cluster that speaks TLS only (clients, bus,
// replication), requires client certificates and announces host names, as
// managed services do; its nodes are found through the DNS name
// cluster.keel.test, which the certificates carry like the nodes' names.
func startTLSCluster(t *testing.T) *lab.Cluster {
	t.Helper()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1, TLS: true, TLSClientAuth: true,
		Hostnames: true, DistinctHosts: true})
	if _, err := c.ServeDNS("cluster." + lab.HostDomain); err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsOptions are the options of an application on a managed service: the
// configuration endpoint as seed, TLS with a client certificate, and a
// resolver (here the lab's DNS server).
func tlsOptions(c *lab.Cluster) keel.Options {
	return keel.Options{Seeds: []string{c.Seed()}, TLS: c.TLSConfig(), Resolver: c.Resolver()}
}

func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of its own")
	}
	c := startTLSCluster(t)

	// keel discovers the nodes by their announced host names, dials them
	// through the resolver, verifies each against its own name, and leaves
	// the caller's configuration as it was.
	t.Run("hostnames", func(t *testing.T) {
		opts := tlsOptions(c)
		cl := newClient(t, c, opts)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := range 30 {
			key := fmt.Sprintf("tls:%d", i)
			if err := cl.Set(ctx, key, i); err != nil {
				t.Fatal(err)
			}
			if v, err := cl.Get(ctx, key); err != nil || v != fmt.Sprint(i) {
				t.Fatalf("GET %s = %q, %v", key, v, err)
			}
		}
		nodes := cl.Nodes()
		if len(nodes) != 6 {
			t.Errorf("%d nodes known, want 6", len(nodes))
		}
		for _, n := range nodes {
			host, _, _ := net.SplitHostPort(n.Addr())
			if !strings.HasSuffix(host, "."+lab.HostDomain) {
				t.Errorf("node %s: want its announced host name", n.Addr())
			}
		}
		err := cl.ForEachNode(ctx, func(ctx context.Context, n *keel.Node) error {
			_, err := n.Do(ctx, "PING")
			return err
		})
		if err != nil {
			t.Errorf("PING on every node: %v", err)
		}
		if opts.TLS.ServerName != "" {
			t.Errorf("the caller's tls.Config was changed: ServerName %q", opts.TLS.ServerName)
		}
	})

	// A certificate that does not carry the name keel verifies is refused.
	t.Run("wrong name", func(t *testing.T) {
		opts := tlsOptions(c)
		opts.TLS.ServerName = "elsewhere.example"
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl, err := keel.New(ctx, opts)
		if err == nil {
			cl.Close()
			t.Fatal("New succeeded with a server name the certificates do not carry")
		}
		var hostErr x509.HostnameError
		if !errors.Is(err, keel.ErrNoNode) || !errors.As(err, &hostErr) {
			t.Errorf("New: %v; want ErrNoNode and a certificate name error", err)
		}
	})

	// Without a client certificate the cluster refuses the connection, and
	// New says so.
	t.Run("no client certificate", func(t *testing.T) {
		opts := tlsOptions(c)
		opts.TLS.Certificates = nil
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl, err := keel.New(ctx, opts)
		if err == nil {
			cl.Close()
			t.Fatal("New succeeded without a client certificate")
		}
		if !errors.Is(err, keel.ErrNoNode) || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("New: %v; want ErrNoNode naming the missing certificate", err)
		}
		t.Logf("New: %v", err)
	})

	// A forced failover over TLS: keel serves the shard again from the
	// promoted replica, by its host name.
	t.Run("failover", func(t *testing.T) {
		cl := newClient(t, c, tlsOptions(c))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const key = "tls:failover"
		if err := cl.Set(ctx, key, "before"); err != nil {
			t.Fatal(err)
		}
		primary, err := c.PrimaryFor(ctx, lab.KeySlot(key))
		if err != nil {
			t.Fatal(err)
		}
		replicas, err := c.ReplicasOf(ctx, primary)
		if err != nil || len(replicas) == 0 {
			t.Fatalf("replicas of %s: %v %v", primary, replicas, err)
		}
		if _, err := c.Failover(ctx, replicas[0], lab.FailoverForce); err != nil {
			t.Fatal(err)
		}
		for {
			err := cl.Set(ctx, key, "after")
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("keel never served %s again after the failover: %v", key, err)
			}
		}
		if v, err := cl.Get(ctx, key); err != nil || v != "after" {
			t.Fatalf("GET after the failover = %q, %v", v, err)
		}
		var onNew bool
		for _, n := range cl.Primaries() {
			onNew = onNew || n.Addr() == net.JoinHostPort(replicas[0].Hostname(), fmt.Sprint(replicas[0].Port()))
		}
		if !onNew {
			t.Errorf("primaries %v do not include the promoted %s", cl.Primaries(), replicas[0].Hostname())
		}
	})
}
