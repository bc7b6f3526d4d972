// Package keelotel connects a keel client to OpenTelemetry: a span per
// command, pipeline and transaction, and metrics of latency, errors,
// retries, topology changes and incidents.
//
// It is a module of its own (github.com/keel-go/keel/otel), so that keel
// itself depends on nothing but the standard library. Wire it in with
// Telemetry.Instrument, which adds its Hook to Options.Hooks and its event
// handler to Options.OnEvent (keeping a handler already there):
//
//	tel, err := keelotel.New(keelotel.Options{}) // the global providers
//	opts := keel.Options{Seeds: seeds}
//	tel.Instrument(&opts)
//	client, err := keel.New(ctx, opts)
//
// # Spans
//
// Each command is a client span named after it ("GET"), each pipeline
// "PIPELINE" and each transaction "MULTI", with the attributes of the
// OpenTelemetry database conventions (semconv v1.24.0): db.system "redis",
// db.operation the command's name, server.address (the host) and
// server.port of the node that served it. keel adds keel.attempts (sends, retries and
// redirects included) and keel.redirects; a pipeline has
// db.operation.batch.size and, when it went to several nodes, keel.nodes
// instead of server.address. A failed command has status Error and
// error.type its class (see ErrorClass). Arguments are never recorded:
// they may hold personal data.
//
// # Metrics
//
//   - db.client.operation.duration (s, histogram): keel's time per command,
//     pipeline or transaction, by db.operation and the node (server.address
//     and server.port; neither when a pipeline went to several nodes).
//   - keel.client.errors ({error}): failed commands, pipelines and
//     transactions by db.operation, node and error.type.
//   - keel.client.retries ({retry}): tries beyond each command's first
//     (retries and redirects), by db.operation and node.
//   - keel.client.redirects ({redirect}): MOVED and ASK replies followed.
//   - keel.topology.changes ({change}): topologies installed that route
//     differently, by keel.cause (what prompted the refresh).
//   - keel.incident.duration (s, histogram): how long a node stayed suspect,
//     from keel's EventNodeSuspect to its EventNodeRecovered or to the next
//     EventTopologyChanged (a failover replaced it), by node and
//     keel.incident.end ("recovered" or "topology-changed").
//   - keel.pubsub.resubscribed ({resubscription}): subscriber connections
//     restored after a loss (keel's EventResubscribed), by the node now
//     serving them.
//   - keel.pubsub.gap (s, histogram): how long those subscriptions were not
//     served (Event.Gap), by node.
package keelotel
