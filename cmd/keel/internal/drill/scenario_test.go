package drill

import (
	"strings"
	"testing"
	"time"
)

func TestReadScenarios(t *testing.T) {
	in := `[{"name": "mine", "warmup": "1s", "steps": [
		{"action": "pause", "target": "primary:1"},
		{"action": "wait-served", "timeout": "10s"},
		{"after": "500ms", "action": "resume", "target": "last"}]}]`
	scs, err := ReadScenarios(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != 1 || len(scs[0].Steps) != 3 {
		t.Fatalf("got %+v", scs)
	}
	sc := scs[0].withDefaults()
	if sc.Warmup != Duration(time.Second) || sc.Tail != Duration(2*time.Second) {
		t.Errorf("warmup %v tail %v", sc.Warmup, sc.Tail)
	}
	if st := sc.Steps[2]; st.After != Duration(500*time.Millisecond) || st.Target != "last" {
		t.Errorf("step 3: %+v", st)
	}
	if st := sc.Steps[1]; st.Timeout != Duration(10*time.Second) || st.Target != "primary:0" {
		t.Errorf("step 2 defaults: %+v", st)
	}
}

func TestReadScenariosRejectsBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"unknown action": `[{"name": "x", "steps": [{"action": "explode"}]}]`,
		"bad target":     `[{"name": "x", "steps": [{"action": "kill", "target": "primary:-1"}]}]`,
		"bad role":       `[{"name": "x", "steps": [{"action": "kill", "target": "leader:0"}]}]`,
		"no name":        `[{"steps": [{"action": "kill"}]}]`,
		"no steps":       `[{"name": "x"}]`,
		"bad duration":   `[{"name": "x", "warmup": 5, "steps": [{"action": "kill"}]}]`,
		"unknown field":  `[{"name": "x", "stpes": [{"action": "kill"}]}]`,
		"not json":       `kill everything`,
		"unknown probe":  `[{"name": "x", "probes": ["psubscribe"], "steps": [{"action": "kill"}]}]`,
	} {
		if _, err := ReadScenarios(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
}

func TestDefaultScenariosAreValid(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range append(DefaultScenarios(), DeliveryScenarios()...) {
		if err := sc.Check(); err != nil {
			t.Error(err)
		}
		if seen[sc.Name] {
			t.Errorf("two scenarios named %q", sc.Name)
		}
		seen[sc.Name] = true
	}
	if len(DefaultScenarios()) != 7 {
		t.Errorf("%d default scenarios, want the 7 of the issue", len(DefaultScenarios()))
	}
	if len(DeliveryScenarios()) != 6 {
		t.Errorf("%d delivery scenarios, want 6: Pub/Sub and consumers through a forced failover, a graceful failover and a migration", len(DeliveryScenarios()))
	}
}

func TestPickSlots(t *testing.T) {
	got := pickSlots([][2]int{{0, 99}, {200, 299}}, 8)
	if len(got) != 8 {
		t.Fatalf("got %v", got)
	}
	for i, s := range got[:4] {
		if s != i {
			t.Errorf("slot %d = %d: the first half must be the first slots (a migration moves them)", i, s)
		}
	}
	for _, s := range got {
		if !(s >= 0 && s <= 99 || s >= 200 && s <= 299) {
			t.Errorf("slot %d is outside the ranges", s)
		}
	}
	if got[7] < 200 {
		t.Errorf("the spread half does not reach the second range: %v", got)
	}
	if small := pickSlots([][2]int{{5, 7}}, 8); len(small) != 3 {
		t.Errorf("3-slot shard: got %v", small)
	}
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]Class{
		"CLUSTERDOWN The cluster is down":                         ClassClusterDown,
		"MOVED 3999 127.0.0.1:6381":                               ClassRedirect,
		"READONLY You can't write against a replica.":             ClassReadOnly,
		"LOADING Redis is loading the dataset":                    ClassLoading,
		"TRYAGAIN Multiple keys request during rehashing of slot": ClassTryAgain,
		"keel: outcome unknown: the command may have run":         ClassUnknown,
		"dial tcp 127.0.0.1:7000: connect: connection refused":    ClassConn,
		"read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout":          ClassTimeout,
		"ERR something odd":                                       ClassOther,
	} {
		if got := Classify(errString(msg)); got != want {
			t.Errorf("Classify(%q) = %v, want %v", msg, got, want)
		}
	}
	if Classify(nil) != ClassOK {
		t.Error("nil is not ok")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestReadScenariosWithProbes(t *testing.T) {
	in := `[{"name": "mine", "probes": ["ssubscribe", "xreadgroup"], "steps": [{"action": "failover"}]}]`
	scs, err := ReadScenarios(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := scs[0].Probes; len(got) != 2 || got[0] != ProbeSSubscribe || got[1] != ProbeXReadGroup {
		t.Errorf("probes %v", got)
	}
	for _, sc := range DefaultScenarios() {
		if len(sc.Probes) != 0 {
			t.Errorf("default scenario %q has probes %v: the default suite must stay as it was", sc.Name, sc.Probes)
		}
	}
}

func TestNetworkScenarios(t *testing.T) {
	for _, sc := range NetworkScenarios() {
		if err := sc.Check(); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
		if !sc.Network {
			t.Errorf("%s is not a Network scenario", sc.Name)
		}
	}
	bad := Scenario{Name: "x", Steps: []Step{{Action: "partition"}}}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "network") {
		t.Errorf("partition without network: %v, want an error asking for network", err)
	}
	bad = Scenario{Name: "x", Network: true, Replication: true, Steps: []Step{{Action: ActionReplFailover}}}
	if err := bad.Check(); err == nil {
		t.Error("a replication scenario with network passed Check")
	}
	slow := Scenario{Name: "x", Network: true, Steps: []Step{{Action: "latency", Delay: Duration(300 * time.Millisecond)}}}
	if got := watchProbeTimeout(slow.withDefaults()); got != 400*time.Millisecond {
		t.Errorf("watchProbeTimeout = %v, want 400ms: the default plus the delay", got)
	}
	if got := watchProbeTimeout(DefaultScenarios()[0]); got != 0 {
		t.Errorf("watchProbeTimeout without latency = %v, want 0 (lab's default)", got)
	}
}
