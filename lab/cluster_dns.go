package lab

import (
	"errors"
	"net"
	"strconv"
)

// ServeDNS publishes the members' addresses under name on a local DNS server,
// the way a managed service's configuration endpoint does, and keeps the
// answer current as nodes are replaced or the cluster restarts on new
// addresses. It needs DistinctHosts, because DNS carries hosts, not ports:
// clients resolve name with the server's Resolver and connect to the port
// [Cluster.Port] returns ([Cluster.Seed] gives "name:port"). The server stops
// with the cluster. Call it once.
func (c *Cluster) ServeDNS(name string) (*DNSServer, error) {
	if !c.opts.DistinctHosts {
		return nil, errors.New("lab: ServeDNS needs DistinctHosts: one port shared by every node")
	}
	d, err := StartDNS("", name, c.hostsOf(c.Nodes()))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dns != nil || c.closed {
		_ = d.Close()
		return nil, errors.New("lab: ServeDNS called twice, or on a closed cluster")
	}
	c.dns = d
	return d, nil
}

// Port returns the client port every node shares with DistinctHosts, or 0.
func (c *Cluster) Port() int {
	if !c.opts.DistinctHosts {
		return 0
	}
	nodes := c.Nodes()
	if len(nodes) == 0 {
		return 0
	}
	return nodes[0].Port()
}

// Seed returns "name:port" for the DNS name served by ServeDNS, the seed a
// client gives to find the cluster through DNS; "" before ServeDNS.
func (c *Cluster) Seed() string {
	c.mu.Lock()
	d := c.dns
	c.mu.Unlock()
	if d == nil {
		return ""
	}
	return net.JoinHostPort(d.Name(), strconv.Itoa(c.Port()))
}

func (c *Cluster) hostsOf(nodes []*Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Host())
	}
	return out
}
