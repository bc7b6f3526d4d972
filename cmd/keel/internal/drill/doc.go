// Package drill measures how long a Redis Cluster client stays down while
// the cluster fails over, replaces nodes and moves slots.
//
// A [Scenario] is a timed list of [Step]s taken on a real local cluster (see
// package lab). While the steps run, an open-loop workload drives one client
// through a [Driver] at a fixed request rate, every request with its own
// deadline, over keys that cover every shard. Each request's outcome is kept
// as a [Sample]; the cluster's own view (when it served each shard again,
// independently of any client, from lab's watcher) is kept as
// [report.Marker]s. [Analyze] turns the two into the figures a report shows:
// client-added downtime, errors surfaced, healthy-shard availability,
// latency, lost acknowledged writes and duplicated INCRs. A scenario may
// add probes ([Scenario.Probes]): a subscriber or a blocking consumer
// driven through the client's optional capabilities ([Subscriber],
// [Consumer]) and fed by an independent publisher or producer that speaks
// lab's RESP; [AnalyzeDelivery] turns what they recorded into delivery
// gaps, missed, lost and duplicated items. [RunSuite] runs
// scenarios on lab clusters, on a lab replication group behind a DNS name
// for a [Scenario.Replication] one ([ReplicationScenarios]), on a lab
// Sentinel group for a [Scenario.Sentinel] one ([SentinelScenarios]), or on
// a cluster whose nodes have network namespaces for a [Scenario.Network]
// one ([NetworkScenarios]); [RunWatch] watches an existing cluster
// ([lab.WatchTarget]). Package report holds the report and writes it.
//
// The drill uses only keel's public API and package lab: it measures keel
// from the outside, as it measures the other clients.
package drill
