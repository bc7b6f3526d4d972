package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClusterOptions configures a Redis Cluster of real redis-server processes on
// loopback. The zero value is three primaries without replicas.
type ClusterOptions struct {
	// Shards is the number of primaries; slots are split evenly among them.
	// Default 3.
	Shards int
	// Replicas is the number of replicas of each primary. Default 0.
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a node may be unreachable
	// before the cluster fails it over. Default 1s (redis-server's is 15s).
	NodeTimeout time.Duration
	// RequireFullCoverage is cluster-require-full-coverage. When false, the
	// shards that still have a primary keep serving while another shard has
	// none. Default false (redis-server's default is true).
	RequireFullCoverage bool
	// AllowReadsWhenDown is cluster-allow-reads-when-down. Default false.
	AllowReadsWhenDown bool
	// Password is requirepass (and masterauth) on every node. Default "": none.
	Password string
	// TLS makes every node, the cluster bus and replication speak TLS only,
	// with certificates generated for the cluster. Connect with
	// [Cluster.TLSConfig]. Default false.
	TLS bool
	// TLSClientAuth, with TLS, makes every node require a client
	// certificate signed by the cluster's CA (tls-auth-clients yes: mutual
	// TLS); [Cluster.TLSConfig] carries one. Default false.
	TLSClientAuth bool
	// Hostnames makes every node announce a host name of its own,
	// "<name>."+[HostDomain] ([Node.Hostname]), and report host names as
	// the nodes' endpoints (cluster-preferred-endpoint-type hostname), as
	// managed services do. A DNS server that lab starts with the cluster
	// resolves them ([Cluster.Resolver]), and with TLS the certificates
	// carry them (as *.keel.test). Default false: nodes are reported by IP.
	Hostnames bool
	// DistinctHosts gives every node its own 127.x.y.z address, all on the
	// same port, the way real cluster nodes each have their own IP. It is
	// what lets one DNS name list the nodes (see [StartDNS]). Default false:
	// every node on 127.0.0.1 with its own port.
	DistinctHosts bool
	// NetNamespaces puts every node in a network namespace of its own
	// (Linux, as root), on a lab-made bridge in 10.213.0.0/16, so that
	// [Cluster.Partition] can drop its packets. Every node listens on port
	// 6379 (cluster bus 16379) of its own address. Without root or iproute2,
	// StartCluster fails with [ErrNetNamespacesUnavailable]. Default false.
	NetNamespaces bool
	// Args are extra redis-server arguments for every node; the cluster's own
	// settings above win over them. Default none.
	Args []string
	// Binary is the redis-server executable. Default: redis-server on PATH.
	Binary string
}

// Cluster is a running Redis Cluster started by [StartCluster]. Its methods
// are safe for concurrent use.
type Cluster struct {
	opts  ClusterOptions
	dir   string       // root of every node's dir; removed by Close
	tls   *tlsMaterial // shared by all nodes; nil without TLS
	hosts *hostAllocator
	net   *netLab // nil without NetNamespaces

	mu      sync.Mutex
	nodes   []*Node // members of the cluster, in the order they were added
	retired []*Node // nodes that left the cluster; stopped, kept for Close
	seq     int     // numbers node names
	closed  bool
	dns     *DNSServer // publishes the members' hosts; nil until ServeDNS, or from the start with Hostnames
	dnsName string     // the name ServeDNS published; "" before
}

// HostDomain is the DNS domain of the host names nodes announce with
// [ClusterOptions.Hostnames].
const HostDomain = "keel.test"

// hostnamesDNSName is the main name of the DNS server a cluster with
// Hostnames starts: every member's host, like a configuration endpoint.
const hostnamesDNSName = "cluster." + HostDomain

// callTimeout bounds one management command, so a paused node cannot hang
// the lab.
const callTimeout = 2 * time.Second

func (o ClusterOptions) withDefaults() (ClusterOptions, error) {
	if o.Shards == 0 {
		o.Shards = 3
	}
	if o.NodeTimeout == 0 {
		o.NodeTimeout = time.Second
	}
	switch {
	case o.Shards < 1 || o.Shards > 64:
		return o, fmt.Errorf("lab: Shards = %d, want 1..64", o.Shards)
	case o.Replicas < 0 || o.Replicas > 8:
		return o, fmt.Errorf("lab: Replicas = %d, want 0..8", o.Replicas)
	case o.NodeTimeout < 100*time.Millisecond:
		return o, fmt.Errorf("lab: NodeTimeout = %v, want at least 100ms", o.NodeTimeout)
	case o.TLSClientAuth && !o.TLS:
		return o, errors.New("lab: TLSClientAuth needs TLS")
	case o.NetNamespaces && o.DistinctHosts:
		return o, errors.New("lab: NetNamespaces and DistinctHosts exclude each other: namespaces give every node its own address already")
	}
	return o, checkArgs(o.Args)
}

// StartCluster starts Shards × (1 + Replicas) redis-server processes, forms
// them into a cluster, and returns when every node reports cluster_state:ok,
// all agree on who owns every slot, and every replica is in sync. ctx bounds
// start-up (default 60 s when it has no deadline). The caller must Close it.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := resolveBinary(opts.Binary); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
	}
	dir, err := os.MkdirTemp("", "keel-lab-cluster-")
	if err != nil {
		return nil, fmt.Errorf("lab: create temp dir: %w", err)
	}
	c := &Cluster{opts: opts, dir: dir, hosts: newHostAllocator(opts.DistinctHosts)}
	if opts.NetNamespaces {
		if c.net, err = newNetLab(); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	if opts.TLS {
		spec := tlsSpec{ip: net.IPv4(127, 0, 0, 1), clientAuth: opts.TLSClientAuth}
		if opts.Hostnames {
			spec.dnsNames = []string{"*." + HostDomain}
		}
		if c.tls, err = writeTLSMaterial(dir, spec); err != nil {
			_ = c.Close()
			return nil, err
		}
		// One certificate serves every node, whatever its 127.x address.
		c.tls.client.ServerName = "localhost"
	}
	if opts.Hostnames {
		if c.dns, err = StartDNS("", hostnamesDNSName, nil); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	if err := c.create(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	c.membershipChanged()
	return c, nil
}

// StartClusterT starts a cluster for a test and closes it with t.Cleanup.
// On failure it calls t.Fatalf; with NetNamespaces on a machine that cannot
// make them ([ErrNetNamespacesUnavailable]) it skips the test. Without opts.Binary and with no redis-server
// on PATH, it skips the test (see [RequireRedisServer]).
func StartClusterT(t TB, opts ClusterOptions) *Cluster {
	t.Helper()
	return startT(t, opts.Binary, func() (*Cluster, error) {
		c, err := StartCluster(context.Background(), opts)
		if errors.Is(err, ErrNetNamespacesUnavailable) {
			t.Skipf("%v", err)
		}
		return c, err
	})
}

// Options returns the options the cluster runs with, defaults applied.
func (c *Cluster) Options() ClusterOptions { return c.opts }

// TLSConfig returns a client TLS configuration trusting the cluster's
// certificates (a fresh copy), with a client certificate when
// TLSClientAuth is set, or nil without TLS. Its ServerName is "localhost",
// which every node's certificate carries, so nodes dialled by IP verify;
// with Hostnames it is empty instead, so that each node is verified against
// the host name it is dialled by.
func (c *Cluster) TLSConfig() *tls.Config {
	if c.tls == nil {
		return nil
	}
	conf := c.tls.client.Clone()
	if c.opts.Hostnames {
		conf.ServerName = ""
	}
	return conf
}

// adminTLS is the TLS configuration lab's own connections use: they dial
// nodes by IP. nil without TLS.
func (c *Cluster) adminTLS() *tls.Config {
	if c.tls == nil {
		return nil
	}
	return c.tls.client
}

// Resolver returns a resolver that sends every query to the cluster's DNS
// server (see [ClusterOptions.Hostnames] and [Cluster.ServeDNS]), or nil
// when there is none.
func (c *Cluster) Resolver() *net.Resolver {
	c.mu.Lock()
	d := c.dns
	c.mu.Unlock()
	if d == nil {
		return nil
	}
	return d.Resolver()
}

// Nodes returns the nodes that are members of the cluster, running or not,
// in the order they were added.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), c.nodes...)
}

// Addrs returns the addresses of the member nodes, for use as client seeds.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, n := range c.Nodes() {
		out = append(out, n.Addr())
	}
	return out
}

// NodeByID returns the member node with the given cluster node id, or nil.
func (c *Cluster) NodeByID(id string) *Node {
	for _, n := range c.Nodes() {
		if n.ID() == id {
			return n
		}
	}
	return nil
}

// NodeByAddr returns the member node listening on addr, or nil.
func (c *Cluster) NodeByAddr(addr string) *Node {
	for _, n := range c.Nodes() {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// retire removes n from the members (it has left the cluster) and keeps it
// for Close.
func (c *Cluster) retire(n *Node) {
	c.mu.Lock()
	for i, m := range c.nodes {
		if m == n {
			c.nodes = append(c.nodes[:i:i], c.nodes[i+1:]...)
			break
		}
	}
	c.retired = append(c.retired, n)
	c.mu.Unlock()
	c.membershipChanged()
}

// membershipChanged is called whenever nodes join or leave the cluster (or
// move), so that what publishes the members' addresses can follow.
func (c *Cluster) membershipChanged() {
	c.mu.Lock()
	dns, name := c.dns, c.dnsName
	c.mu.Unlock()
	if dns == nil {
		return
	}
	nodes := c.Nodes()
	hosts := c.hostsOf(nodes)
	_ = dns.SetAddrs(hosts)
	if name != "" && !strings.EqualFold(name, dns.Name()) {
		_ = dns.SetName(name, hosts)
	}
	for _, n := range nodes {
		c.publishHostname(n)
	}
}

// publishHostname makes the cluster's DNS server resolve n's host name as
// soon as n runs, before it joins: the cluster may report it to clients
// from then on.
func (c *Cluster) publishHostname(n *Node) {
	c.mu.Lock()
	dns := c.dns
	c.mu.Unlock()
	if dns != nil && c.opts.Hostnames {
		_ = dns.SetName(n.Hostname(), []string{n.Host()})
	}
}

// Close stops every process the cluster started and removes its files. It
// is idempotent.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	all := append(append([]*Node(nil), c.nodes...), c.retired...)
	c.mu.Unlock()

	errs := make([]error, len(all))
	var wg sync.WaitGroup
	for i, n := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.stop()
		}()
	}
	wg.Wait()
	if c.dns != nil {
		errs = append(errs, c.dns.Close())
	}
	if c.net != nil {
		errs = append(errs, c.net.close())
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("lab: remove cluster dir: %w", err))
	}
	return errors.Join(errs...)
}

// Node is one redis-server of a cluster. Its process may be stopped and
// started again on the same address with the same identity (nodes.conf).
type Node struct {
	c       *Cluster
	name    string
	host    string
	port    int
	busPort int
	dir     string
	netns   string // the node's network namespace; "" on loopback

	mu  sync.Mutex
	srv *Server // the running process; nil when stopped
	id  string  // cluster node id; stable across restarts
}

// Name returns the node's lab name, such as "node3".
func (n *Node) Name() string { return n.name }

// Addr returns the node's client address, "127.x.y.z:port" (with
// NetNamespaces, "10.213.x.y:6379").
func (n *Node) Addr() string { return net.JoinHostPort(n.host, strconv.Itoa(n.port)) }

// Hostname returns the host name the node announces with
// [ClusterOptions.Hostnames], such as "node3.keel.test"; "" without.
func (n *Node) Hostname() string {
	if !n.c.opts.Hostnames {
		return ""
	}
	return n.name + "." + HostDomain
}

// Host returns the node's IP address: loopback, or with NetNamespaces its
// namespace's.
func (n *Node) Host() string { return n.host }

// Port returns the node's client port.
func (n *Node) Port() int { return n.port }

// ID returns the node's cluster node id.
func (n *Node) ID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// Server returns the node's running process, or nil when it is stopped.
func (n *Node) Server() *Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// Running reports whether the node's process exists (a paused one does).
func (n *Node) Running() bool {
	srv := n.Server()
	if srv == nil {
		return false
	}
	select {
	case <-srv.Exited():
		return false
	default:
		return true
	}
}

func (n *Node) String() string { return n.name + "(" + n.Addr() + ")" }

// start launches the node's process in its dir, on its address.
func (n *Node) start(ctx context.Context) error {
	o := n.c.opts
	args := append(append([]string(nil), o.Args...),
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10),
		"--cluster-port", strconv.Itoa(n.busPort),
		"--cluster-require-full-coverage", yesNo(o.RequireFullCoverage),
		"--cluster-allow-reads-when-down", yesNo(o.AllowReadsWhenDown),
		// A new replica syncs at once instead of waiting 5 s for others.
		"--repl-diskless-sync-delay", "0",
		// Bus connections to any 127.x address leave from 127.0.0.1, and a
		// node that is not told its address takes its peers' from their
		// connections: with DistinctHosts they would all be 127.0.0.1.
		"--cluster-announce-ip", n.host,
	)
	if o.Password != "" {
		args = append(args, "--masterauth", o.Password)
	}
	if o.TLS {
		args = append(args, "--tls-cluster", "yes", "--tls-replication", "yes")
	}
	if o.Hostnames {
		args = append(args, "--cluster-announce-hostname", n.Hostname(),
			"--cluster-preferred-endpoint-type", "hostname")
	}
	port := n.port
	if n.netns != "" && n.c.net.relayed() {
		// The relay holds the announced port; clients reach the server
		// through it.
		port = netRelayedPort
		args = append(args, "--cluster-announce-port", strconv.Itoa(n.port))
	}
	srv, err := StartServer(ctx, ServerOptions{
		Password: o.Password, TLS: o.TLS, Host: n.host, Port: port, Dir: n.dir,
		Args: args, Binary: o.Binary, sharedTLS: n.c.tls, netns: n.netns,
	})
	if err != nil {
		return fmt.Errorf("lab: start %s: %w", n, err)
	}
	n.mu.Lock()
	n.srv = srv
	n.mu.Unlock()
	n.c.publishHostname(n)
	return nil
}

// stop kills the node's process, if any, and forgets it.
func (n *Node) stop() error {
	n.mu.Lock()
	srv := n.srv
	n.srv = nil
	n.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// call sends one command to the node on a fresh connection and returns the
// reply (see rawConn.call). It gives up after callTimeout at most, so a
// paused node cannot hold a caller that waits for something else.
func (n *Node) call(ctx context.Context, args ...string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	rc, err := dialRaw(ctx, n.Addr(), n.c.adminTLS())
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", n, err)
	}
	defer rc.Close()
	if pw := n.c.opts.Password; pw != "" {
		if _, err := rc.call("AUTH", pw); err != nil {
			return nil, fmt.Errorf("lab: %s: AUTH: %w", n, err)
		}
	}
	v, err := rc.call(args...)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %s: %w", n, args[0], err)
	}
	return v, nil
}

// callString is call for replies that are strings.
func (n *Node) callString(ctx context.Context, args ...string) (string, error) {
	v, err := n.call(ctx, args...)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("lab: %s: %s: want a string reply, got %T", n, args[0], v)
	}
	return s, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
