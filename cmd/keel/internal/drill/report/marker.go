package report

import "time"

// MarkerKind says what a [Marker] marks.
type MarkerKind string

// Marker kinds.
const (
	// MarkStep: a scenario step began (the fault was injected).
	MarkStep MarkerKind = "step"
	// MarkStepDone: a scenario step had taken effect.
	MarkStepDone MarkerKind = "step-done"
	// MarkServed: the cluster itself served the shard again, or served it
	// from a different node, seen by probing every node directly.
	MarkServed MarkerKind = "served"
	// MarkUnserved: no node served the shard any more.
	MarkUnserved MarkerKind = "unserved"
)

// Marker is one event on a run's timeline that is not a client request.
type Marker struct {
	// At is an offset from the run's start.
	At time.Duration `json:"-"`
	// Kind says what happened.
	Kind MarkerKind `json:"kind"`
	// Shard is the shard concerned, or -1 for a cluster-wide step.
	Shard int `json:"shard"`
	// Label describes it for people, e.g. "kill 127.0.0.2:7000".
	Label string `json:"label"`
}
