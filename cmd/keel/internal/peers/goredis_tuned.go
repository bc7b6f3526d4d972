package peers

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// goRedisTunedOptions lists, for Describe, what tuneGoRedis changes.
const goRedisTunedOptions = "ClusterStateReloadInterval=10s"

// tuneGoRedis applies what go-redis's own documentation and issue tracker
// recommend for riding out failovers, and nothing else: the row shows what a
// careful user gets by following the docs, not what we could squeeze out.
// Writes and reads stay on primaries.
//
// Changed:
//
//   - ClusterStateReloadInterval = 10s (default 60s). go-redis re-reads
//     CLUSTER SLOTS on MOVED, ASK and READONLY replies, but not when a node
//     refuses connections: after a primary dies and its replica takes over,
//     requests for its slots keep going to the dead address until the
//     periodic reload, which the option bounds. The option's doc says it
//     "bounds how stale a topology can get without traffic errors"; v9.22
//     raised it from 10s to 60s ("Cross-SDK Aligned Defaults" in go-redis's
//     RELEASE-NOTES.md); and issue "Cluster state is not reloaded on
//     connection refused" (https://github.com/redis/go-redis/issues/3979,
//     open, its fix https://github.com/redis/go-redis/pull/3990 not in
//     v9.23.0) shows failover recovery waiting for exactly this interval and
//     points at the 60s default. 10s is the value go-redis shipped for years:
//     conservative, and sourced, where a smaller one would be our invention.
//     In the lab, with the nodes' addresses as seeds, writes to a killed
//     primary's slots resumed after 60s with the default and 10s with this.
//
// Considered and left at their defaults:
//
//   - DialTimeout, ReadTimeout, WriteTimeout (5s each). The defaults are the
//     cross-SDK values adopted in v9.22; "Production usage"
//     (https://redis.io/docs/latest/develop/clients/go/produsage/#timeouts)
//     asks users to pick from observed timeouts, and "Debugging Go Redis"
//     (https://redis.uptrace.dev/guide/go-redis-debugging.html#timeouts)
//     says never to disable them nor to go below 1s in the cloud.
//   - ContextTimeoutEnabled (false). Its doc comment links the debugging
//     guide above, which points at "Go Context timeouts can be harmful"
//     (https://uptrace.dev/blog/golang-context-timeout.html): the docs advise
//     against letting the caller's deadline cut network reads, because every
//     such timeout throws a pooled connection away. So a request's deadline
//     does not interrupt a blocked read here; ReadTimeout does.
//   - MaxRetries (-1, off). ClusterOptions documents that the cluster client
//     disables per-node retries on purpose because it retries by itself
//     (MaxRedirects); the MaxRetries example of "Production usage" is for the
//     single-node client, and on a cluster it would stack on MaxRedirects.
//   - MaxRedirects (3), MinRetryBackoff and MaxRetryBackoff (10ms, 1s),
//     PoolTimeout (ReadTimeout+1s), DialerRetries and DialerRetryTimeout
//     (5, 100ms): documented, but with no recommendation for failover.
//   - ReadOnly, RouteByLatency, RouteRandomly (off): they send reads to
//     replicas, which may return stale values; the drill keeps every command
//     on primaries.
func tuneGoRedis(o *redis.ClusterOptions) {
	o.ClusterStateReloadInterval = 10 * time.Second
}
