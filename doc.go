// Package keel is a Redis Cluster client that keeps an application's traffic
// flowing while the cluster fails primaries over, replaces nodes and moves
// slots.
//
// Its promise is no client-added downtime: the moment the cluster has a
// serving primary for a slot, keel routes to it. When a node's connection
// fails or hangs, keel suspects its shard and polls the cluster's topology
// every few tens of milliseconds — the shard's replicas first — until the
// shard has a primary again; requests that certainly did not run wait for
// that change (or a short backoff) and are retried until their context ends.
// A command whose connection failed after it was sent is retried only when it
// is idempotent or the caller allowed it; otherwise its error matches
// [ErrUnknownOutcome], so a write is never silently run twice.
//
// Every node gets one auto-pipelined connection shared by all goroutines:
// concurrent commands to a node go out in one write. Blocking commands
// (BLPOP, XREADGROUP BLOCK…) run on a bounded set of connections of their
// own; see [Options].BlockingConnsPerNode for what they return when a node
// fails, a slot moves or their context ends.
//
//	client, err := keel.New(ctx, keel.Options{Seeds: []string{"10.0.0.1:6379"}})
//	if err != nil { ... }
//	defer client.Close()
//	err = client.Set(ctx, "greeting", "hello")
//	v, err := client.Get(ctx, "greeting")
//
// To watch it work: [Options.Hooks] wrap every command, pipeline and
// transaction (tracing, metrics, logging; see [Hook]), [Client.Stats] and
// [Client.NodeStats] count, and [Options.OnEvent] reports topology changes
// and suspect nodes. The module github.com/keel-go/keel/otel turns them into
// OpenTelemetry spans and metrics.
package keel
