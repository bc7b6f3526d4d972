package drill

import (
	"context"
	"testing"
	"time"
)

// TestSentinelScenariosKeel runs the Sentinel scenarios with keel on real
// groups: no READONLY once the switch is announced, nothing lost but what
// the killed or demoted primary had not replicated, nothing counted twice,
// and no error in the graceful switchover nor when a sentinel dies.
func TestSentinelScenariosKeel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Sentinel groups")
	}
	var scs []Scenario
	for _, sc := range SentinelScenarios() {
		sc.Warmup, sc.Tail, sc.MaxTail = Duration(500*time.Millisecond), Duration(time.Second), Duration(15*time.Second)
		scs = append(scs, sc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := RunSuite(ctx, Options{Scenarios: scs, Drivers: []Driver{KeelDriver{}}, Workload: Workload{Rate: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != len(scs) {
		t.Fatalf("%d runs, want %d", len(rep.Runs), len(scs))
	}
	for _, run := range rep.Runs {
		f := run.Figures
		if run.Scenario == "sentinel-kill-sentinel" {
			// The primary never changes: no served marker to look for.
			if run.Error != "" || f.Errors+f.LostWrites+f.LostIncrs+f.DuplicateIncrs != 0 {
				t.Errorf("%s: error %q, %d errors (%v), lost %d+%d, duplicated %d", run.Scenario, run.Error,
					f.Errors, f.ErrorsByClass, f.LostWrites, f.LostIncrs, f.DuplicateIncrs)
			}
			continue
		}
		checkGroupRun(t, run)
		if run.Scenario == "sentinel-switchover" && f.Errors != 0 {
			t.Errorf("graceful switchover: %d errors (%v)", f.Errors, f.ErrorsByClass)
		}
	}
}

func TestSentinelScenarioCheck(t *testing.T) {
	for _, sc := range SentinelScenarios() {
		if err := sc.Check(); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
	}
	bad := []Scenario{
		{Name: "x", Sentinel: true, Steps: []Step{{Action: "kill"}}},
		{Name: "y", Sentinel: true, Steps: []Step{{Action: ActionReplKillPrimary}}},
		{Name: "z", Replication: true, Steps: []Step{{Action: ActionSentinelKillPrimary}}},
		{Name: "w", Steps: []Step{{Action: ActionSentinelSwitchover}}},
		{Name: "v", Sentinel: true, Replication: true, Steps: []Step{{Action: ActionSentinelSwitchover}}},
		{Name: "u", Sentinel: true, Probes: []string{ProbeBLPop}, Steps: []Step{{Action: ActionSentinelSwitchover}}},
	}
	for _, sc := range bad {
		if err := sc.Check(); err == nil {
			t.Errorf("%s: Check accepted %+v", sc.Name, sc)
		}
	}
}
