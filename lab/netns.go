package lab

import (
	"errors"
	"fmt"
	"time"
)

// Network namespaces ([ClusterOptions.NetNamespaces]) take each node off
// loopback and onto a network of lab's own, so that the lab can break the
// network itself: a partitioned node's packets vanish (no RST, no ICMP:
// dials to it hang) instead of the node refusing connections.
//
// Every name lab gives a namespace or a link starts with netPrefix followed
// by the pid of the process that made it, which is how a later run
// recognises, and removes, what a crashed run left behind. Addresses come
// from 10.213.0.0/16 (netBlock16), one /24 per cluster: a private block
// unlikely to be routed on a test machine; lab refuses to start when
// something else routes into it.
const (
	netPrefix  = "klab"
	netBlock16 = "10.213"
	netPort    = 6379  // every node's client port: each namespace has its own ports
	netBusPort = 16379 // every node's cluster bus port
	// netRelayedPort is where redis-server listens, inside its namespace,
	// when a delay relay holds netPort (kernels without netem).
	netRelayedPort = 6380
)

// ErrNetemUnavailable is returned (wrapped) by [Cluster.AddLoss] on a
// kernel without the netem qdisc: lab has no other way to lose packets.
var ErrNetemUnavailable = errors.New("lab: the kernel has no netem qdisc")

// ErrNetNamespacesUnavailable is returned (wrapped) by [StartCluster] with
// NetNamespaces when this machine cannot give nodes network namespaces:
// not Linux, not root, no ip binary (iproute2), or no bridge support.
// [StartClusterT] skips the test then.
var ErrNetNamespacesUnavailable = errors.New("lab: network namespaces unavailable")

// Partition cuts n off the network: every packet to or from it is dropped
// silently until [Cluster.Heal], as when a network fails between a node and
// everything else. Connections to it stay open but carry nothing, dials to
// it hang, and the other nodes fail it over after NodeTimeout if it was a
// primary with a replica. The process keeps running. Done is right after
// the link went down. The cluster must run with NetNamespaces. Partitioning
// a partitioned node does nothing.
func (c *Cluster) Partition(n *Node) (Step, error) {
	return c.netStep(n, "partition", (*netLab).partition)
}

// Heal reconnects n after [Cluster.Partition]. Done is right after its link
// came back up; the node then catches up with the cluster on its own (a
// primary that was failed over meanwhile becomes a replica). Healing a node
// that is not partitioned does nothing.
func (c *Cluster) Heal(n *Node) (Step, error) {
	return c.netStep(n, "heal", (*netLab).heal)
}

func (c *Cluster) netStep(n *Node, action string, act func(*netLab, string) error) (Step, error) {
	if err := c.member(n); err != nil {
		return Step{}, err
	}
	if c.net == nil {
		return Step{}, fmt.Errorf("lab: %s %s: the cluster needs ClusterOptions.NetNamespaces", action, n)
	}
	step := Step{Action: action, Node: n.Addr(), Began: time.Now()}
	if err := act(c.net, n.host); err != nil {
		return Step{}, fmt.Errorf("lab: %s %s: %w", action, n, err)
	}
	step.Done = time.Now()
	return step, nil
}

// AddLatency delays what n sends by d, so every round trip with it grows by
// d, until [Cluster.ClearLatency]; a later call replaces d. With the
// kernel's netem qdisc ([Cluster.Netem]) every packet leaving n's namespace
// waits: replies, cluster bus and replication. Without netem, lab's own
// relay in front of n's client port holds the bytes of n's replies instead:
// clients (and replicas, which connect to the client port) see the delay,
// the cluster bus does not. The cluster must run with NetNamespaces.
func (c *Cluster) AddLatency(n *Node, d time.Duration) (Step, error) {
	if d < 0 {
		return Step{}, fmt.Errorf("lab: AddLatency: negative delay %v", d)
	}
	return c.netStep(n, "latency", func(l *netLab, ip string) error {
		_, loss := l.shaping(ip)
		return l.shape(ip, d, loss)
	})
}

// AddLoss drops percent (0 < percent ≤ 100) of the packets n sends, at
// random, until [Cluster.ClearLatency]. It needs the kernel's netem qdisc:
// without it, it fails with [ErrNetemUnavailable]. The cluster must run
// with NetNamespaces.
func (c *Cluster) AddLoss(n *Node, percent float64) (Step, error) {
	if !(percent > 0 && percent <= 100) {
		return Step{}, fmt.Errorf("lab: AddLoss: percent %v, want 0 < percent ≤ 100", percent)
	}
	return c.netStep(n, "loss", func(l *netLab, ip string) error {
		d, _ := l.shaping(ip)
		return l.shape(ip, d, percent)
	})
}

// ClearLatency removes the latency and loss [Cluster.AddLatency] and
// [Cluster.AddLoss] gave n.
func (c *Cluster) ClearLatency(n *Node) (Step, error) {
	return c.netStep(n, "clear-latency", func(l *netLab, ip string) error { return l.shape(ip, 0, 0) })
}

// Netem reports whether the cluster shapes its nodes' traffic with the
// kernel's netem qdisc; false without NetNamespaces, or on a kernel without
// netem, where latency goes through lab's relay and loss is unavailable.
func (c *Cluster) Netem() bool { return c.net != nil && !c.net.relayed() }
