package keelotel_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/keel-go/keel"
)

// An incident lasts from a node's EventNodeSuspect (the first, when
// repeated) to its EventNodeRecovered, or to the next topology change for
// the nodes still suspect then; the change is counted by its cause.
func TestEventsMeasureIncidents(t *testing.T) {
	s := newSDK(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, ev := range []keel.Event{
		{Time: t0, Kind: keel.EventNodeSuspect, Node: "a:6379"},
		{Time: t0.Add(time.Second), Kind: keel.EventNodeSuspect, Node: "a:6379"}, // still the same incident
		{Time: t0.Add(time.Second), Kind: keel.EventNodeSuspect, Node: "b:6379"},
		{Time: t0.Add(2 * time.Second), Kind: keel.EventNodeRecovered, Node: "a:6379"},
		{Time: t0.Add(3 * time.Second), Kind: keel.EventNodeRecovered, Node: "c:6379"}, // never suspect: no incident
		{Time: t0.Add(5 * time.Second), Kind: keel.EventTopologyChanged, Cause: "node b:1 failed"},
		{Time: t0.Add(6 * time.Second), Kind: keel.EventTopologyChanged, Cause: "MOVED"},
	} {
		s.tel.OnEvent(ev)
	}
	a := s.histogram(t, "keel.incident.duration", attribute.String("server.address", "a"))
	if len(a) != 1 || a[0].Count != 1 || a[0].Sum != 2 || !has(a[0].Attributes, attribute.String("keel.incident.end", "recovered")) {
		t.Errorf("a's incident: %+v; want one of 2s, ended by recovery", a)
	}
	b := s.histogram(t, "keel.incident.duration", attribute.String("server.address", "b"))
	if len(b) != 1 || b[0].Count != 1 || b[0].Sum != 4 || !has(b[0].Attributes, attribute.String("keel.incident.end", "topology-changed")) {
		t.Errorf("b's incident: %+v; want one of 4s, ended by the topology change", b)
	}
	if c := s.histogram(t, "keel.incident.duration", attribute.String("server.address", "c")); len(c) != 0 {
		t.Errorf("c was never suspect, but has incidents %+v", c)
	}
	if n := s.sum(t, "keel.topology.changes"); n != 2 {
		t.Errorf("%d topology changes, want 2", n)
	}
	if n := s.sum(t, "keel.topology.changes", attribute.String("keel.cause", "node failed")); n != 1 {
		t.Errorf("%d changes with cause \"node failed\" (the node's address dropped), want 1", n)
	}
}

// Each EventResubscribed is counted, and its gap measured, by node.
func TestEventsMeasureResubscriptions(t *testing.T) {
	s := newSDK(t)
	for _, gap := range []time.Duration{time.Second, 3 * time.Second} {
		s.tel.OnEvent(keel.Event{Kind: keel.EventResubscribed, Node: "a:6379", Gap: gap, Cause: "connection lost: EOF"})
	}
	node := attribute.String("server.address", "a")
	if n := s.sum(t, "keel.pubsub.resubscribed", node); n != 2 {
		t.Errorf("%d resubscriptions of a, want 2", n)
	}
	if h := s.histogram(t, "keel.pubsub.gap", node); len(h) != 1 || h[0].Count != 2 || h[0].Sum != 4 {
		t.Errorf("gaps %+v; want two, 4s in all", h)
	}
}
