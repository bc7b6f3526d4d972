package keelotel_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	keelotel "github.com/keel-go/keel/otel"
)

// Against a real cluster: each command is a client span named after it,
// with db.system, db.operation, the node that served it and one attempt; a
// server's error reply is an error span and a "server" error; a pipeline
// over every shard is one PIPELINE span naming its nodes, a transaction
// one MULTI span on its node; latency is recorded by command and node. A
// slot moved behind the client's back is a MOVED redirect: two attempts on
// the span, a retry and a redirect counted. A node that hangs then comes
// back is an incident, measured from suspect to recovered.
func TestTelemetryOnLabCluster(t *testing.T) {
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, NodeTimeout: 5 * time.Second})
	s := newSDK(t)
	opts := keel.Options{Seeds: c.Addrs()[:1], HealthTimeout: 200 * time.Millisecond}
	var seen atomic.Int64
	opts.OnEvent = func(keel.Event) { seen.Add(1) } // kept by Instrument
	s.tel.Instrument(&opts)
	ctx := testutil.Context(t, 60*time.Second)
	cl, err := keel.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })

	if err := cl.Set(ctx, "otel:k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Incr(ctx, "otel:k"); err == nil {
		t.Fatal("INCR of a non-integer succeeded")
	}
	owner, err := c.PrimaryFor(ctx, cluster.Slot("otel:k"))
	if err != nil {
		t.Fatal(err)
	}
	spans := s.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2 (SET, INCR)", len(spans))
	}
	set, incr := spans[0], spans[1]
	for _, sp := range spans {
		if sp.SpanKind().String() != "client" {
			t.Errorf("span %s is %v, want client", sp.Name(), sp.SpanKind())
		}
		for key, want := range map[attribute.Key]attribute.Value{
			"db.system":      attribute.StringValue("redis"),
			"db.operation":   attribute.StringValue(sp.Name()),
			"server.address": attribute.StringValue(owner.Host()),
			"server.port":    attribute.IntValue(owner.Port()),
			"keel.attempts":  attribute.IntValue(1),
		} {
			if got, _ := spanAttr(sp, key); got != want {
				t.Errorf("span %s: %s = %v, want %v", sp.Name(), key, got.String(), want.String())
			}
		}
	}
	if set.Name() != "SET" || set.Status().Code != codes.Unset {
		t.Errorf("first span %s with status %v, want SET unset", set.Name(), set.Status())
	}
	if got, _ := spanAttr(incr, "error.type"); incr.Name() != "INCR" || incr.Status().Code != codes.Error || got.AsString() != keelotel.ClassServer {
		t.Errorf("second span %s, status %v, error.type %q; want INCR, Error, server", incr.Name(), incr.Status(), got.AsString())
	}
	node := []attribute.KeyValue{attribute.String("server.address", owner.Host()), attribute.Int("server.port", owner.Port())}
	if pts := s.histogram(t, "db.client.operation.duration", append(node, attribute.String("db.operation", "SET"))...); len(pts) != 1 || pts[0].Count != 1 || pts[0].Sum <= 0 {
		t.Errorf("SET's latency on %s: %+v; want one positive measurement", owner.Addr(), pts)
	}
	if n := s.sum(t, "keel.client.errors", append(node, attribute.String("db.operation", "INCR"), attribute.String("error.type", keelotel.ClassServer))...); n != 1 {
		t.Errorf("%d server errors counted for INCR, want 1", n)
	}

	// A pipeline over every shard, and a transaction.
	p := cl.Pipeline()
	for i := range 20 {
		p.Do("SET", "otel:p:"+string(rune('a'+i)), i)
	}
	p.Exec(ctx)
	if _, err := cl.Tx().Do("SET", "{otel}t", 1).Do("INCR", "{otel}t").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	spans = s.spans.Ended()
	pipe, multi := spans[len(spans)-2], spans[len(spans)-1]
	if nodes, _ := spanAttr(pipe, "keel.nodes"); pipe.Name() != "PIPELINE" || len(nodes.AsStringSlice()) != 3 {
		t.Errorf("pipeline span %s with nodes %v, want PIPELINE over 3 nodes", pipe.Name(), nodes.AsStringSlice())
	}
	if size, _ := spanAttr(pipe, "db.operation.batch.size"); size.AsInt64() != 20 {
		t.Errorf("pipeline batch size %d, want 20", size.AsInt64())
	}
	if addr, ok := spanAttr(multi, "server.address"); multi.Name() != "MULTI" || !ok || addr.AsString() == "" {
		t.Errorf("transaction span %s on %q, want MULTI on its node", multi.Name(), addr.AsString())
	}

	// Move the key's slot to another primary behind the client's back.
	primaries, err := c.Primaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := primaries[0]
	if to == owner {
		to = primaries[1]
	}
	if _, err := c.MigrateSlots(ctx, []int{cluster.Slot("otel:k")}, owner, to, lab.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, err := cl.Get(ctx, "otel:k"); err != nil || v != "v" {
		t.Fatalf("GET after the migration = %q, %v", v, err)
	}
	get := s.spans.Ended()[len(s.spans.Ended())-1]
	attempts, _ := spanAttr(get, "keel.attempts")
	redirects, _ := spanAttr(get, "keel.redirects")
	addr, _ := spanAttr(get, "server.port")
	if get.Name() != "GET" || attempts.AsInt64() != 2 || redirects.AsInt64() != 1 || addr.AsInt64() != int64(to.Port()) {
		t.Errorf("GET span %s: %d attempts, %d redirects, port %d; want 2, 1, the new owner's %d",
			get.Name(), attempts.AsInt64(), redirects.AsInt64(), addr.AsInt64(), to.Port())
	}
	if n := s.sum(t, "keel.client.retries", attribute.String("db.operation", "GET")); n != 1 {
		t.Errorf("%d GET retries counted, want 1", n)
	}
	if n := s.sum(t, "keel.client.redirects", attribute.String("db.operation", "GET")); n != 1 {
		t.Errorf("%d GET redirects counted, want 1", n)
	}

	// Hang the key's new owner: a GET to it times out, keel suspects it;
	// once it is back, keel reconnects and the incident ends.
	if _, err := c.Pause(to); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	_, err = cl.Get(short, "otel:k")
	cancel()
	if _, rerr := c.Resume(to); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("GET on a hung node succeeded")
	}
	if n := s.sum(t, "keel.client.errors", attribute.String("db.operation", "GET"), attribute.String("error.type", keelotel.ClassTimeout)); n != 1 {
		t.Errorf("%d GET timeouts counted (GET failed with %v), want 1", n, err)
	}
	testutil.WaitFor(t, 15*time.Second, "the incident to end", func() bool {
		_, _ = cl.Get(ctx, "otel:k") // reconnects
		return len(s.histogram(t, "keel.incident.duration", attribute.Int("server.port", to.Port()))) == 1
	})
	if seen.Load() == 0 {
		t.Error("the handler already in Options.OnEvent received no event")
	}
}
