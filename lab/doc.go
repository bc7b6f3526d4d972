// Package lab starts real redis-server processes on loopback and breaks them
// on purpose, for keel's tests, its drill, and anyone who wants to see how a
// client behaves while Redis fails over.
//
// A [Server] is one redis-server child process on a free port of a loopback
// address, with a private directory for its log and, for TLS servers,
// certificates generated on the fly. Tests get one with [StartServerT], which
// skips the test when redis-server is not installed ([RequireRedisServer]).
//
// A [Cluster] is a Redis Cluster of such processes ([StartCluster],
// [StartClusterT]): shards × replicas, formed the way redis-cli does it and
// returned only once every node agrees on slot ownership ([Cluster.WaitStable]).
// Its actions reproduce what a managed service does during maintenance and
// what goes wrong outside it — kill, pause and resume a node, restart it,
// fail over (graceful, FORCE, TAKEOVER), replace a node with a new one on a
// new address, migrate slots, restart the whole cluster, optionally on new
// addresses — and each returns a [Step] saying when it began and when it took
// effect. A [Watcher] polls every node every few milliseconds and records when
// each slot is served again after a fault: the reference point for measuring
// the downtime a client adds; [WatchTarget] watches, the same way, a cluster
// lab did not start (a [Target]: staging, or a managed service during its own
// failover test). Example_failoverTest shows an application's own test run
// through a forced failover. A [DNSServer] can publish the nodes' addresses
// under one name, the way a configuration endpoint does.
//
// A [ReplicationGroup] is a primary and its replicas without cluster support
// behind a primary endpoint, a DNS name ([StartReplicationGroup]); its
// [ReplicationGroup.Failover] and [ReplicationGroup.KillPrimary] fail it
// over the way a managed service does, repointing the name after a delay.
//
// lab only ever binds 127.x addresses and rejects any other host (a
// [Target] is only connected to), or, with [ClusterOptions.NetNamespaces],
// addresses in 10.213.0.0/16 inside network namespaces it makes itself,
// reachable only through a bridge it makes in the root namespace. That is
// what makes its defaults acceptable: persistence and protected mode are off
// and nodes are meant to be killed and paused, so they must never be
// reachable from the network. In namespaces the lab can also break the
// network itself: [Cluster.Partition] drops a node's packets silently and
// [Cluster.AddLatency] slows it down.
//
// lab uses only the standard library and the redis-server binary (see
// [FindRedisServer]). It speaks just enough RESP2 of its own and depends on no
// other keel package: it is the reference keel is measured against, so it
// must not share keel's bugs.
package lab
