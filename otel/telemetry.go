package keelotel

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.24.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/keel-go/keel"
)

// ScopeName is the instrumentation scope of keel's tracer and meter.
const ScopeName = "github.com/keel-go/keel/otel"

// Options configure a Telemetry. The zero value uses OpenTelemetry's
// global providers.
type Options struct {
	// TracerProvider makes the tracer of the spans. Default
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter of the metrics. Default
	// otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
}

// Telemetry turns a keel client's commands and events into spans and
// metrics. One Telemetry may serve several clients.
type Telemetry struct {
	tracer trace.Tracer

	duration        metric.Float64Histogram
	errors          metric.Int64Counter
	retries         metric.Int64Counter
	redirects       metric.Int64Counter
	topologyChanges metric.Int64Counter
	incidents       metric.Float64Histogram
	resubscribed    metric.Int64Counter
	resubscribeGap  metric.Float64Histogram

	mu       sync.Mutex
	suspects map[string]time.Time // node → when its incident began
}

// New makes a Telemetry with o's providers. It fails only if the meter
// refuses an instrument.
func New(o Options) (*Telemetry, error) {
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	m := o.MeterProvider.Meter(ScopeName)
	t := &Telemetry{
		tracer:   o.TracerProvider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		suspects: map[string]time.Time{},
	}
	var err error
	if t.duration, err = m.Float64Histogram("db.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Time keel spent on a command, pipeline or transaction, retries included."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.errors, err = m.Int64Counter("keel.client.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Failed commands, pipelines and transactions, by error class.")); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.retries, err = m.Int64Counter("keel.client.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Sends beyond each command's first: retries and redirects.")); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.redirects, err = m.Int64Counter("keel.client.redirects", metric.WithUnit("{redirect}"),
		metric.WithDescription("MOVED and ASK replies followed.")); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.topologyChanges, err = m.Int64Counter("keel.topology.changes", metric.WithUnit("{change}"),
		metric.WithDescription("Topologies installed that route differently from the one before.")); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.incidents, err = m.Float64Histogram("keel.incident.duration", metric.WithUnit("s"),
		metric.WithDescription("How long a node stayed suspect: until it recovered or the topology changed."),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.resubscribed, err = m.Int64Counter("keel.pubsub.resubscribed", metric.WithUnit("{resubscription}"),
		metric.WithDescription("Subscriber connections restored after a loss.")); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	if t.resubscribeGap, err = m.Float64Histogram("keel.pubsub.gap", metric.WithUnit("s"),
		metric.WithDescription("How long restored subscriptions were not served."),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)); err != nil {
		return nil, fmt.Errorf("keelotel: %w", err)
	}
	return t, nil
}

// Instrument adds t to opts: its Hook first in Options.Hooks (outermost, so
// that its spans enclose those of the other hooks), and its OnEvent before
// any handler opts already has, which still receives every event.
func (t *Telemetry) Instrument(opts *keel.Options) {
	opts.Hooks = append([]keel.Hook{t.Hook()}, opts.Hooks...)
	if prev := opts.OnEvent; prev != nil {
		opts.OnEvent = func(ev keel.Event) {
			t.OnEvent(ev)
			prev(ev)
		}
	} else {
		opts.OnEvent = t.OnEvent
	}
}

// Hook returns the hook that traces and measures commands, pipelines and
// transactions; Instrument installs it.
func (t *Telemetry) Hook() keel.Hook {
	return keel.Hook{Command: t.wrapCommand, Pipeline: t.wrapPipeline}
}

var redis = semconv.DBSystemRedis

func (t *Telemetry) wrapCommand(next keel.CommandFunc) keel.CommandFunc {
	return func(ctx context.Context, cmd *keel.CommandInfo) error {
		op := strings.ToUpper(cmd.Name)
		ctx, span := t.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(redis, semconv.DBOperation(op)))
		err := next(ctx, cmd)
		t.finish(ctx, span, op, cmd.Node, cmd.Attempts, cmd.Redirects, cmd.Latency, err)
		return err
	}
}

func (t *Telemetry) wrapPipeline(next keel.PipelineFunc) keel.PipelineFunc {
	return func(ctx context.Context, p *keel.PipelineInfo) error {
		op := "PIPELINE"
		if p.Tx {
			op = "MULTI"
		}
		ctx, span := t.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(redis, semconv.DBOperation(op),
				attribute.Int("db.operation.batch.size", len(p.Commands))))
		err := next(ctx, p)
		node := ""
		if len(p.Nodes) == 1 {
			node = p.Nodes[0]
		} else if len(p.Nodes) > 1 {
			span.SetAttributes(attribute.StringSlice("keel.nodes", p.Nodes))
		}
		t.finish(ctx, span, op, node, p.Attempts, p.Redirects, p.Latency, err)
		return err
	}
}

// finish ends a span and records the metrics of one command, pipeline or
// transaction.
func (t *Telemetry) finish(ctx context.Context, span trace.Span, op, node string, attempts, redirects int, latency time.Duration, err error) {
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, redis, semconv.DBOperation(op))
	attrs = appendServer(attrs, node)
	span.SetAttributes(attrs[2:]...)
	span.SetAttributes(attribute.Int("keel.attempts", attempts), attribute.Int("keel.redirects", redirects))
	set := metric.WithAttributes(attrs...)
	t.duration.Record(ctx, latency.Seconds(), set)
	if attempts > 1 {
		t.retries.Add(ctx, int64(attempts-1), set)
	}
	if redirects > 0 {
		t.redirects.Add(ctx, int64(redirects), set)
	}
	if class := ErrorClass(err); class != "" {
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(class))
		t.errors.Add(ctx, 1, metric.WithAttributes(append(attrs, semconv.ErrorTypeKey.String(class))...))
	}
	span.End()
}

// OnEvent records keel's events: topology changes, and incidents (a node
// suspect until it recovers or the topology changes). Instrument installs
// it as Options.OnEvent.
func (t *Telemetry) OnEvent(ev keel.Event) {
	ctx := context.Background()
	switch ev.Kind {
	case keel.EventNodeSuspect:
		t.mu.Lock()
		if _, ok := t.suspects[ev.Node]; !ok {
			t.suspects[ev.Node] = ev.Time
		}
		t.mu.Unlock()
	case keel.EventNodeRecovered:
		t.mu.Lock()
		began, ok := t.suspects[ev.Node]
		delete(t.suspects, ev.Node)
		t.mu.Unlock()
		if ok {
			t.incidentOver(ctx, ev.Node, ev.Time.Sub(began), "recovered")
		}
	case keel.EventResubscribed:
		set := metric.WithAttributes(appendServer(make([]attribute.KeyValue, 0, 2), ev.Node)...)
		t.resubscribed.Add(ctx, 1, set)
		t.resubscribeGap.Record(ctx, max(ev.Gap, 0).Seconds(), set)
	case keel.EventTopologyChanged:
		t.topologyChanges.Add(ctx, 1, metric.WithAttributes(attribute.String("keel.cause", causeClass(ev.Cause))))
		t.mu.Lock()
		over := t.suspects
		t.suspects = map[string]time.Time{}
		t.mu.Unlock()
		for node, began := range over {
			t.incidentOver(ctx, node, ev.Time.Sub(began), "topology-changed")
		}
	}
}

func (t *Telemetry) incidentOver(ctx context.Context, node string, d time.Duration, end string) {
	attrs := appendServer(make([]attribute.KeyValue, 0, 3), node)
	attrs = append(attrs, attribute.String("keel.incident.end", end))
	t.incidents.Record(ctx, max(d, 0).Seconds(), metric.WithAttributes(attrs...))
}

// appendServer appends the semantic conventions' server.address (the host)
// and server.port of a node's "host:port"; nothing for "".
func appendServer(attrs []attribute.KeyValue, node string) []attribute.KeyValue {
	if node == "" {
		return attrs
	}
	host, port, err := net.SplitHostPort(node)
	if err != nil {
		return append(attrs, semconv.ServerAddress(node))
	}
	attrs = append(attrs, semconv.ServerAddress(host))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return attrs
}

// causeClass keeps the cause of a refresh to a few values: keel names a
// node in some causes ("node 10.0.0.1:6379 failed", "subscriber connection
// to 10.0.0.1:6379 lost"), which would make a series per node. Each word
// that is a "host:port" is dropped, with a "to" or "from" before it:
// "node failed", "subscriber connection lost".
func causeClass(cause string) string {
	words := strings.Fields(cause)
	out := words[:0]
	for _, w := range words {
		if isHostPort(w) {
			if n := len(out); n > 0 && (out[n-1] == "to" || out[n-1] == "from") {
				out = out[:n-1]
			}
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// isHostPort reports whether w is a node address, "host:port".
func isHostPort(w string) bool {
	host, port, err := net.SplitHostPort(w)
	if err != nil || host == "" {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}
