package keel_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// ExampleOptions_tls connects to a cluster set up as managed services run
// TLS: nodes that announce host names, a configuration endpoint that
// resolves to every node, and (here) client certificates required. The lab
// cluster stands in for the service: its TLSConfig trusts the cluster's CA
// and carries a client certificate, its Resolver knows the host names.
func ExampleOptions_tls() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, TLS: true, TLSClientAuth: true,
		Hostnames: true, DistinctHosts: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if _, err := c.ServeDNS("cluster." + lab.HostDomain); err != nil {
		fmt.Println(err)
		return
	}

	client, err := keel.New(ctx, keel.Options{
		Seeds:    []string{c.Seed()}, // "cluster.keel.test:PORT"
		TLS:      c.TLSConfig(),      // ServerName empty: each node is verified by its own name
		Resolver: c.Resolver(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	if err := client.Set(ctx, "greeting", "hello over TLS"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := client.Get(ctx, "greeting")
	fmt.Println(v, err)
	for _, n := range client.Primaries()[:1] {
		host, _, _ := net.SplitHostPort(n.Addr())
		fmt.Println("primaries are dialled by name:", strings.HasSuffix(host, ".keel.test"))
	}
	// Output:
	// hello over TLS <nil>
	// primaries are dialled by name: true
}
