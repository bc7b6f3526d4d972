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
)

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
