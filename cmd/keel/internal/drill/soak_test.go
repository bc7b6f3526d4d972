package drill

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// drawSoak returns the first n faults a generator draws, with their steps.
func drawSoak(p Soak, shards, n int) (kinds []string, steps [][]Step) {
	g := newSoakGenerator(p, shards, true)
	for range n {
		k, st := g.next()
		kinds, steps = append(kinds, k), append(steps, st)
	}
	return kinds, steps
}

// TestSoakGeneratorReplays checks that a seed draws the same faults every
// time, another seed others, and that every fault is a valid sequence of
// steps that leaves the cluster settled.
func TestSoakGeneratorReplays(t *testing.T) {
	p := Soak{Duration: Duration(time.Minute), Seed: 42}
	kinds, steps := drawSoak(p, 3, 200)
	again, againSteps := drawSoak(p, 3, 200)
	if !slices.Equal(kinds, again) || !slices.EqualFunc(steps, againSteps, slices.Equal) {
		t.Fatal("the same seed drew different faults")
	}
	p.Seed = 43
	if other, _ := drawSoak(p, 3, 200); slices.Equal(kinds, other) {
		t.Error("seeds 42 and 43 drew the same faults")
	}
	seen := map[string]bool{}
	for i, st := range steps {
		seen[kinds[i]] = true
		sc := Scenario{Name: "episode", Steps: st, Network: true}
		if err := sc.Check(); err != nil {
			t.Fatalf("fault %d (%s): %v", i, kinds[i], err)
		}
		if last := st[len(st)-1]; last.Action != "wait-stable" {
			t.Errorf("fault %d (%s) ends with %q, not wait-stable", i, kinds[i], last.Action)
		}
		if st[0].After < 0 || st[0].After > Duration(2*time.Second) {
			t.Errorf("fault %d: gap %v outside [0, 2s]", i, time.Duration(st[0].After))
		}
		for _, s := range st {
			if _, shard, _ := parseTarget(s.Target); shard >= 3 {
				t.Errorf("fault %d targets %q on a 3-shard cluster", i, s.Target)
			}
		}
		// A failed primary must be replaced before it comes back, or it
		// serves its slots again empty.
		if undo := slices.IndexFunc(st, func(s Step) bool { return s.Action == "restart" || s.Action == "resume" }); undo > 0 && kinds[i] != "stall" && kinds[i] != "kill-replica" {
			if !slices.ContainsFunc(st[:undo], func(s Step) bool { return s.Action == "wait-failed-over" }) {
				t.Errorf("fault %d (%s) undoes before the failover: %+v", i, kinds[i], st)
			}
		}
	}
	for _, f := range soakFaults(true) {
		if !seen[f.name] {
			t.Errorf("200 draws never drew %q", f.name)
		}
	}
	only, _ := drawSoak(Soak{Duration: 1, Faults: []string{"migrate"}}, 3, 20)
	if slices.ContainsFunc(only, func(k string) bool { return k != "migrate" }) {
		t.Errorf("Faults: [migrate] drew %v", only)
	}
}

func TestSoakScenarioCheck(t *testing.T) {
	scs, err := ReadScenarios(strings.NewReader(`[{"name": "mine", "soak": {"duration": "10s", "seed": 7, "faults": ["kill", "failover"]}}]`))
	if err != nil || scs[0].Soak.Seed != 7 || len(scs[0].Soak.Faults) != 2 {
		t.Fatalf("a soak scenario from JSON: %+v, %v", scs, err)
	}
	if err := SoakScenario(Soak{Duration: Duration(time.Minute)}, false).Check(); err != nil {
		t.Errorf("SoakScenario: %v", err)
	}
	for name, sc := range map[string]Scenario{
		"no duration":               SoakScenario(Soak{}, false),
		"unknown fault":             SoakScenario(Soak{Duration: 1, Faults: []string{"meteor"}}, false),
		"partition without network": SoakScenario(Soak{Duration: 1, Faults: []string{"partition"}}, false),
		"on a replication group":    {Name: "x", Soak: &Soak{Duration: 1}, Replication: true},
		"with steps":                {Name: "x", Soak: &Soak{Duration: 1}, Steps: []Step{{Action: "kill"}}},
		"with probes":               {Name: "x", Soak: &Soak{Duration: 1}, Probes: []string{ProbeSubscribe}},
		"negative gap":              {Name: "x", Soak: &Soak{Duration: 1, MaxGap: -1}},
	} {
		if err := sc.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSoakPartition checks that partitions are drawn exactly on a Network
// soak, and what their steps are.
func TestSoakPartition(t *testing.T) {
	has := func(network bool) bool {
		return slices.ContainsFunc(soakFaults(network), func(f soakFault) bool { return f.name == "partition" })
	}
	if has(false) || !has(true) {
		t.Fatalf("partition offered without network namespaces: %v, with: %v", has(false), has(true))
	}
	if sc := SoakScenario(Soak{Duration: 1}, true); !sc.Network || !slices.Contains(sc.Soak.Faults, "partition") || sc.Check() != nil {
		t.Errorf("a network soak: %+v, %v", sc.Soak, sc.Check())
	}
	_, steps := drawSoak(Soak{Duration: 1, Faults: []string{"partition"}}, 3, 1)
	var actions []string
	for _, s := range steps[0] {
		actions = append(actions, s.Action)
		if s.Action != "" && !knownActions[s.Action] {
			t.Errorf("unknown action %q", s.Action)
		}
	}
	if want := []string{"partition", "wait-failed-over", "wait-served", "heal", "wait-stable"}; !slices.Equal(actions, want) {
		t.Errorf("partition steps %v, want %v", actions, want)
	}
}

func TestForcedWindows(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	markers := []report.Marker{
		{At: sec(5), Kind: report.MarkStep, Shard: 1, Label: "kill 127.0.0.1:7001"},
		{At: sec(5.1), Kind: report.MarkStepDone, Shard: 1, Label: "kill 127.0.0.1:7001"},
		{At: sec(6), Kind: report.MarkServed, Shard: 1, Label: "served by 127.0.0.1:7004"},
		{At: sec(10), Kind: report.MarkStep, Shard: 0, Label: "failover 127.0.0.1:7003"},
		{At: sec(11), Kind: report.MarkStepDone, Shard: 0, Label: "failover 127.0.0.1:7003"},
		{At: sec(20), Kind: report.MarkStep, Shard: 2, Label: "failover-force 127.0.0.1:7005"}, // never done
	}
	ws := forcedWindows(markers)
	if len(ws) != 2 {
		t.Fatalf("%d windows, want 2 (the graceful failover forces nothing): %+v", len(ws), ws)
	}
	for _, c := range []struct {
		shard int
		at    float64
		want  bool
	}{
		{1, 3.9, false}, {1, 4.1, true}, {1, 7, true}, {1, 7.2, false}, // kill: 1 s before, 2 s after done
		{0, 5, false},                   // another shard
		{0, 10.5, false},                // a graceful failover
		{2, 19.5, true}, {2, 1e6, true}, // a step that failed: to the end
	} {
		if got := ws.contain(c.shard, sec(c.at)); got != c.want {
			t.Errorf("shard %d at %vs: in a forced window %v, want %v", c.shard, c.at, got, c.want)
		}
	}
	if got := ws.covered(1, sec(30)); got != sec(3.1) {
		t.Errorf("shard 1 covered %v, want 3.1s", got)
	}
	if all := (windows{{shard: -1, from: 0, to: sec(2)}, {shard: 0, from: sec(1), to: sec(3)}}); all.covered(0, sec(10)) != sec(3) || !all.contain(2, sec(1)) {
		t.Error("a window on every shard (-1) is not counted on each")
	}
}

// TestCounterLostForced checks which lost INCR acknowledgements a forced
// fault explains: the first of a value returned twice (the failover rolled
// the counter back past it), and a value above the final count.
func TestCounterLostForced(t *testing.T) {
	a := newAudit()
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	for i, at := range []float64{1, 2, 3, 10} { // values 1..4; 4 lost in a failover at 10 s
		a.ackIncr("c", sec(at), sec(at), int64(i+1))
	}
	a.ackIncr("c", sec(12), sec(12), 4) // the counter, rolled back to 3, returns 4 again
	c := a.counters["c"]
	forced := windows{{shard: 0, from: sec(9), to: sec(11)}}
	if n := c.lostForced(4, forced, 0); n != 1 {
		t.Errorf("rolled back and returned again: %d forced, want 1", n)
	}
	if n := c.lostForced(4, forced, 1); n != 0 {
		t.Errorf("a window on another shard excused %d", n)
	}
	b := newAudit()
	b.ackIncr("c", sec(1), sec(1), 1)
	b.ackIncr("c", sec(10), sec(10), 2)
	if n := b.counters["c"].lostForced(1, forced, 0); n != 1 {
		t.Errorf("a value above the final count, acknowledged in the window: %d forced, want 1", n)
	}
	if n := b.counters["c"].lostForced(0, forced, 0); n != 1 {
		t.Errorf("value 1, acknowledged outside any window, was excused: %d forced, want 1", n)
	}
}

func TestSeriesGrowth(t *testing.T) {
	if s := series([]int64{40, 70, 41}, goroutineAllowance); s.Grew || s.First != 40 || s.Last != 41 || s.Max != 70 || s.Samples != 3 {
		t.Errorf("flat with a spike: %+v", s)
	}
	if s := series([]int64{40, 50, 90}, goroutineAllowance); !s.Grew {
		t.Errorf("40 → 90 goroutines did not count as growth: %+v", s)
	}
	if s := series([]int64{1 << 20, 1 << 30}, math.MaxInt64); s.Grew {
		t.Error("a series without allowance was flagged")
	}
	if s := series(nil, 1); s.Samples != 0 || s.Grew {
		t.Errorf("no samples: %+v", s)
	}
}

func TestClientCode(t *testing.T) {
	for fn, want := range map[string]bool{
		"github.com/keel-go/keel.(*Client).Get":                       true,
		"github.com/keel-go/keel/internal/conn.(*Conn).readLoop":      true,
		"github.com/keel-go/keel/resp.AppendCommand":                  true,
		"github.com/redis/go-redis/v9.(*ClusterClient).Process":       true,
		"github.com/redis/rueidis.(*pipe).Do":                         true,
		"github.com/keel-go/keel/cmd/keel/internal/drill.(*load).run": false,
		"github.com/keel-go/keel/lab.(*Cluster).Watch":                false,
		"runtime.malg": false,
	} {
		if got := clientCode(fn); got != want {
			t.Errorf("clientCode(%q) = %v", fn, got)
		}
	}
}
