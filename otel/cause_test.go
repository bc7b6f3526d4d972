package keelotel

import "testing"

// The causes of a refresh the engine produces (the trigger calls in
// internal/cluster, and the refresh loop's fallbacks): every one that
// names a node folds to one class.
func TestCauseClass(t *testing.T) {
	for _, tc := range []struct{ cause, class string }{
		{"node 10.0.0.1:6379 failed", "node failed"},
		{"node node1.example.com:6380 failed", "node failed"},
		{"node [::1]:6379 failed", "node failed"},
		{"subscriber connection to 10.0.0.1:6379 lost", "subscriber connection lost"},
		{"SUNSUBSCRIBE from 10.0.0.1:6379", "SUNSUBSCRIBE"},
		{"subscriber dial to 10.0.0.1:6379 failed", "subscriber dial failed"},
		{"slot not covered", "slot not covered"},
		{"MOVED", "MOVED"},
		{"CLUSTERDOWN", "CLUSTERDOWN"},
		{"TRYAGAIN", "TRYAGAIN"},
		{"discovery", "discovery"},
		{"periodic", "periodic"},
		{"incident", "incident"},
	} {
		if got := causeClass(tc.cause); got != tc.class {
			t.Errorf("causeClass(%q) = %q, want %q", tc.cause, got, tc.class)
		}
	}
}
