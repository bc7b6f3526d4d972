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
	// replica that was promoted. A new connection to the primary asks ROLE
	// before any write goes on it, and a replica there starts the same
	// search. RefreshInterval defaults to DefaultReplicationRefreshInterval
	// (1s) in this mode, and ReaderEndpoint may name replicas to read from.
	ModeReplication
	// ModeSentinel expects the seeds to be sentinels monitoring the primary
	// named Options.SentinelMaster. Keel asks them, one after the other
	// until one answers, for the primary (SENTINEL GET-MASTER-ADDR-BY-NAME,
	// which must then answer ROLE master before it gets writes), its
	// replicas (SENTINEL REPLICAS, those not flagged down) and the other
	// sentinels (SENTINEL SENTINELS, kept as the list to ask). It stays
	// subscribed to +switch-master on one sentinel (the next when that one
	// fails) and refreshes as soon as a switch of its master is announced,
	// besides every RefreshInterval and the incident polling of
	// ModeReplication on READONLY, a lost primary, or a new connection to
	// it answering ROLE replica. The subscription is
	// checked with a PING every PingInterval: a sentinel that sends nothing
	// for PingInterval+HealthTimeout (hung, paused, or its host gone
	// silent) is left for the next one, and a refresh runs at once in case
	// a switch was missed meanwhile. Sentinel connections use the nodes' TLS
	// and timeouts, no database, and SentinelUsername and SentinelPassword
	// rather than the nodes' credentials.
	ModeSentinel
)

// String names the mode: "auto", "cluster", "standalone", "replication",
// "sentinel".
func (m Mode) String() string { return cluster.Mode(m).String() }
