package keel

import "github.com/keel-go/keel/internal/cluster"

// Mode says what kind of deployment the seeds lead to. The Client API is
// the same in every mode.
type Mode uint8

// Modes.
const (
	// ModeAuto (the default) asks the first seeds that answer: a cluster
	// node makes ModeCluster; a server replying that cluster support is
	// disabled makes ModeStandalone.
	ModeAuto Mode = iota
	// ModeCluster expects a Redis Cluster (New fails with ErrNotCluster
	// otherwise).
	ModeCluster
	// ModeStandalone expects a server without cluster support, alone or
	// with replicas. Keel models it as one shard owning every slot: the
	// primary is the seed that answers ROLE master (or the master a seed
	// replica names), its replicas those the primary lists in ROLE.
	// Commands, pipelines, transactions and watches take keys of any
	// slots (no ErrCrossSlot is raised before sending). A seed URL may
	// select a database other than 0 (SELECT on every connection).
	ModeStandalone
	// ModeReplication expects a replication group behind a primary
	// endpoint: a DNS name that resolves to the primary and that the
	// service repoints after a failover (ElastiCache with cluster mode
	// disabled). It behaves as ModeStandalone, which already handles it:
	// the seeds are resolved anew at every refresh; a READONLY reply (the
	// write did not run), the primary's connection lost, or the node behind
	// the name answering ROLE slave makes keel search for the primary at the
	// incident pace (IncidentInterval), and what certainly did not run is
	// retried once a node confirms ROLE master. A node is a primary only
	// after it answered ROLE master: first a node the name resolves to,
	// then the master a node behind the name replicates from, then a known
	// replica that was promoted.
	ModeReplication
)

// String names the mode: "auto", "cluster", "standalone", "replication".
func (m Mode) String() string { return cluster.Mode(m).String() }
