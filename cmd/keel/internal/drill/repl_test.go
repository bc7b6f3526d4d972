package drill

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// TestReplicationScenariosKeel runs both replication-group scenarios with
// keel on a real group: neither surfaces READONLY once the name points at
// the new primary nor counts an INCR twice, and the client recovers; the
// graceful failover surfaces no error and loses nothing. A killed primary
// loses the writes it acknowledged but had not yet replicated, as in the
// real event (the replica may lag, under -race most of all): the audit
// counts those as lost by the server, and keel must lose nothing else.
func TestReplicationScenariosKeel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts replication groups")
	}
	scs := ReplicationScenarios()
	for i := range scs {
		scs[i].Warmup, scs[i].Tail, scs[i].MaxTail = Duration(500*time.Millisecond), Duration(time.Second), Duration(15*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := RunSuite(ctx, Options{Scenarios: scs, Drivers: []Driver{KeelDriver{}}, Workload: Workload{Rate: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(rep.Runs))
	}
	for _, run := range rep.Runs {
		f := run.Figures
		checkGroupRun(t, run)
		if run.Scenario == "repl-failover" && f.Errors+f.ServerLostWrites+f.ServerLostIncrs != 0 {
			t.Errorf("graceful failover: %d errors (%v), lost by the server %d+%d", f.Errors, f.ErrorsByClass, f.ServerLostWrites, f.ServerLostIncrs)
		}
	}
}

// checkGroupRun checks what every replication or Sentinel run of keel must
// show: no run error, recovery, no READONLY once the group served writes
// again, nothing lost by the client nor counted twice, and a served marker
// after the step.
func checkGroupRun(t *testing.T, run report.Run) {
	t.Helper()
	f := run.Figures
	t.Logf("%s: downtime %.1f ms, errors %v, READONLY after served %d, lost by the server %d+%d",
		run.Scenario, f.DowntimeMS, f.ErrorsByClass, f.ReadOnlyAfterServed, f.ServerLostWrites, f.ServerLostIncrs)
	if run.Error != "" {
		t.Errorf("%s: %s", run.Scenario, run.Error)
		return
	}
	if !f.Recovered || f.ReadOnlyAfterServed != 0 || f.LostWrites+f.LostIncrs+f.DuplicateIncrs != 0 {
		t.Errorf("%s: recovered %v, READONLY after served %d, lost %d+%d, duplicated %d", run.Scenario,
			f.Recovered, f.ReadOnlyAfterServed, f.LostWrites, f.LostIncrs, f.DuplicateIncrs)
	}
	if !hasServedAfterStep(run.Markers) {
		t.Errorf("%s: no served marker after the step: %+v", run.Scenario, run.Markers)
	}
}

// hasServedAfterStep reports whether a served marker follows the first step.
func hasServedAfterStep(markers []report.MarkerJSON) bool {
	stepped := false
	for _, m := range markers {
		stepped = stepped || m.Kind == report.MarkStep
		if stepped && m.Kind == report.MarkServed {
			return true
		}
	}
	return false
}

func TestReplicationScenarioCheck(t *testing.T) {
	for _, sc := range ReplicationScenarios() {
		if err := sc.Check(); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
	}
	bad := []Scenario{
		{Name: "x", Replication: true, Steps: []Step{{Action: "kill"}}},
		{Name: "y", Steps: []Step{{Action: ActionReplFailover}}},
		{Name: "z", Replication: true, Probes: []string{ProbeSubscribe}, Steps: []Step{{Action: ActionReplFailover}}},
	}
	for _, sc := range bad {
		if err := sc.Check(); err == nil {
			t.Errorf("%s: Check accepted %+v", sc.Name, sc)
		}
	}
}
