package lab

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// ServeDNS publishes the members' addresses under name on a local DNS server,
// the way a managed service's configuration endpoint does, and keeps the
// answer current as nodes are replaced or the cluster restarts on new
// addresses. It needs DistinctHosts or NetNamespaces, because DNS carries
// hosts, not ports:
// clients resolve name with the server's Resolver and connect to the port
// [Cluster.Port] returns ([Cluster.Seed] gives "name:port"). With
// Hostnames, the cluster's DNS server, which already answers for the nodes'
// names, answers for name too (for TLS, a name under [HostDomain] is one
// the certificates carry). The server stops with the cluster. Call it once.
func (c *Cluster) ServeDNS(name string) (*DNSServer, error) {
	if !c.opts.DistinctHosts && !c.opts.NetNamespaces {
		return nil, errors.New("lab: ServeDNS needs DistinctHosts or NetNamespaces: one port shared by every node")
	}
	hosts := c.hostsOf(c.Nodes())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dnsName != "" || c.closed {
		return nil, errors.New("lab: ServeDNS called twice, or on a closed cluster")
	}
	if c.dns != nil {
		if !strings.EqualFold(strings.TrimSuffix(name, "."), c.dns.Name()) {
			if err := c.dns.SetName(name, hosts); err != nil {
				return nil, err
			}
		}
		c.dnsName = strings.TrimSuffix(name, ".")
		return c.dns, nil
	}
	d, err := StartDNS("", name, hosts)
	if err != nil {
		return nil, err
	}
	c.dns, c.dnsName = d, d.Name()
	return d, nil
}

// Port returns the client port every node shares with DistinctHosts or
// NetNamespaces, or 0.
func (c *Cluster) Port() int {
	if !c.opts.DistinctHosts && !c.opts.NetNamespaces {
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
	name := c.dnsName
	c.mu.Unlock()
	if name == "" {
		return ""
	}
	return net.JoinHostPort(name, strconv.Itoa(c.Port()))
}

func (c *Cluster) hostsOf(nodes []*Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Host())
	}
	return out
}
