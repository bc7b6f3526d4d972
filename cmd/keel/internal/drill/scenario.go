package drill

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Scenario is a timed list of steps taken on the cluster while the workload
// runs. Scenarios are plain data: write your own in Go or in a JSON file
// (see [ReadScenarios]).
type Scenario struct {
	// Name identifies the scenario on the command line and in reports.
	Name string `json:"name"`
	// Description says what it reproduces, for the report.
	Description string `json:"description,omitempty"`
	// Warmup is how long the workload runs before the first step. Default 1.5s.
	Warmup Duration `json:"warmup,omitempty"`
	// Steps run one after another.
	Steps []Step `json:"steps"`
	// Tail is how long the workload keeps running after the last step, at
	// least, and after every shard is served again and the client has
	// succeeded on it for this long. Default 2s.
	Tail Duration `json:"tail,omitempty"`
	// LosesData says the steps lose the cluster's data by design (a full
	// restart of nodes that persist nothing): the audit then checks only
	// the SETs acknowledged after the last step, and no counters.
	LosesData bool `json:"loses_data,omitempty"`
	// MaxTail bounds the wait for a client that does not recover: the run
	// ends this long after the last step whatever happens. Default 60s.
	MaxTail Duration `json:"max_tail,omitempty"`
	// Probes are subscribers and consumers the run drives through the client
	// besides the workload, each fed by an independent publisher or producer
	// (one message or item every 5 ms) on shard 0's first slot: "subscribe",
	// "ssubscribe", "blpop", "xreadgroup" (see the Probe constants). The run
	// reports their delivery figures (report.Delivery). Default none.
	Probes []string `json:"probes,omitempty"`
	// Replication runs the scenario on a replication group (a primary and a
	// replica behind a DNS name, the primary endpoint; see
	// [ReplicationScenarios]) instead of a cluster: its steps are then
	// repl-failover or repl-kill-primary, and it takes no probes. Default
	// false.
	Replication bool `json:"replication,omitempty"`
	// Sentinel runs the scenario on a Sentinel group (a primary, a replica
	// and three sentinels; see [SentinelScenarios]): its steps are then
	// sentinel-switchover, sentinel-kill-primary or sentinel-kill-sentinel,
	// and it takes no probes. Default false.
	Sentinel bool `json:"sentinel,omitempty"`
	// Network runs the scenario on a cluster whose nodes each have a
	// network namespace of their own (Linux, as root; see
	// lab.ClusterOptions.NetNamespaces), which its steps may partition,
	// heal and slow down ([NetworkScenarios]). Default false.
	Network bool `json:"network,omitempty"`
	// Soak makes the scenario a chaos soak: instead of Steps, random faults
	// drawn from a seeded generator until its Duration has passed (see
	// [SoakScenario]). Default none.
	Soak *Soak `json:"soak,omitempty"`
}

// kind names what the scenario runs on, for messages.
func (s Scenario) kind() string {
	switch {
	case s.Replication:
		return "replication group"
	case s.Sentinel:
		return "Sentinel group"
	}
	return "cluster"
}

// onCluster reports whether the scenario runs on a cluster.
func (s Scenario) onCluster() bool { return !s.Replication && !s.Sentinel }

// Step is one action on the cluster.
type Step struct {
	// After is how long to wait before the action, counted from the end of
	// the previous step (or of the warm-up).
	After Duration `json:"after,omitempty"`
	// Action is one of:
	//   kill, pause, resume, restart   signals / restarts Target
	//   failover, failover-force, failover-takeover
	//                                  CLUSTER FAILOVER on a replica of Target's shard
	//   replace                        a new node takes Target's place
	//   migrate                        move Slots slots from Target's shard to the next shard
	//   migrate-back                   move the slots of the latest migrate back where they came from
	//   restart-all, restart-all-new   restart every node, on the same or new addresses
	//   rolling-restart                restart every node in turn, failing each
	//                                  primary over to its replica first (an engine upgrade)
	//   wait-served                    wait until the cluster serves every shard (bounded by Timeout)
	//   wait-failed-over               wait until the node of the previous step that named one
	//                                  serves no slot as a primary (bounded by Timeout)
	//   wait-stable                    wait until the cluster has settled: every node healthy,
	//                                  every replica in sync (lab's WaitStable; bounded by Timeout)
	//   partition, heal                drop every packet to and from Target, silently; undo it
	//   latency, clear-latency         delay what Target sends by Delay; undo it
	// partition, heal, latency and clear-latency need a Network scenario.
	Action string `json:"action"`
	// Target names the node acted on: "primary:N" (the primary of shard N),
	// "replica:N" (a replica of shard N) or "last" (the node of the
	// previous step that named one). Default "primary:0".
	Target string `json:"target,omitempty"`
	// Slots is how many slots a migrate step moves. Default 100.
	Slots int `json:"slots,omitempty"`
	// Timeout bounds a wait-served step. Default 30s.
	Timeout Duration `json:"timeout,omitempty"`
	// Delay is what a latency step adds to every round trip with Target.
	// Default 200ms.
	Delay Duration `json:"delay,omitempty"`
}

// Duration is a time.Duration written as a Go duration string in JSON,
// such as "1.5s".
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "2s" or "250ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("drill: duration must be a string such as \"2s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	*d = Duration(v)
	return nil
}

// ReadScenarios decodes a JSON array of scenarios and checks each.
func ReadScenarios(r io.Reader) ([]Scenario, error) {
	var out []Scenario
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("drill: reading scenarios: %w", err)
	}
	for i := range out {
		if err := out[i].Check(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var knownActions = map[string]bool{
	"kill": true, "pause": true, "resume": true, "restart": true,
	"failover": true, "failover-force": true, "failover-takeover": true,
	"replace": true, "migrate": true, "restart-all": true, "restart-all-new": true,
	"rolling-restart": true, "wait-served": true,
	"partition": true, "heal": true, "latency": true, "clear-latency": true,
	"wait-stable": true, "migrate-back": true, "wait-failed-over": true,
}

// networkActions need a Network scenario's cluster.
var networkActions = map[string]bool{"partition": true, "heal": true, "latency": true, "clear-latency": true}

// replicationActions are the actions of a Replication scenario.
var replicationActions = map[string]bool{ActionReplFailover: true, ActionReplKillPrimary: true}

// Check reports the first thing wrong with s.
func (s Scenario) Check() error {
	if s.Name == "" {
		return fmt.Errorf("drill: a scenario has no name")
	}
	if s.Soak != nil {
		return s.checkSoak()
	}
	if len(s.Steps) == 0 {
		return fmt.Errorf("drill: scenario %q has no steps", s.Name)
	}
	if s.Replication && s.Sentinel {
		return fmt.Errorf("drill: scenario %q: replication and sentinel both set", s.Name)
	}
	if s.Network && !s.onCluster() {
		return fmt.Errorf("drill: scenario %q: a %s scenario cannot be a network one", s.Name, s.kind())
	}
	if !s.onCluster() && len(s.Probes) > 0 {
		return fmt.Errorf("drill: scenario %q: a %s scenario takes no probes", s.Name, s.kind())
	}
	for _, p := range s.Probes {
		if !knownProbes[p] {
			return fmt.Errorf("drill: scenario %q: unknown probe %q (want subscribe, ssubscribe, blpop or xreadgroup)", s.Name, p)
		}
	}
	for i, st := range s.Steps {
		if !knownActions[st.Action] && !replicationActions[st.Action] && !sentinelActions[st.Action] {
			return fmt.Errorf("drill: scenario %q step %d: unknown action %q", s.Name, i+1, st.Action)
		}
		if s.Replication != replicationActions[st.Action] || s.Sentinel != sentinelActions[st.Action] {
			return fmt.Errorf("drill: scenario %q step %d: action %q is not for a %s", s.Name, i+1, st.Action, s.kind())
		}
		if networkActions[st.Action] && !s.Network {
			return fmt.Errorf("drill: scenario %q step %d: action %q needs \"network\": true", s.Name, i+1, st.Action)
		}
		if _, _, err := parseTarget(st.Target); err != nil {
			return fmt.Errorf("drill: scenario %q step %d: %w", s.Name, i+1, err)
		}
		if st.After < 0 || st.Timeout < 0 || st.Slots < 0 || st.Delay < 0 {
			return fmt.Errorf("drill: scenario %q step %d: negative value", s.Name, i+1)
		}
	}
	return nil
}

// withDefaults fills in the documented defaults.
func (s Scenario) withDefaults() Scenario {
	if s.Warmup == 0 {
		s.Warmup = Duration(1500 * time.Millisecond)
	}
	if s.Tail == 0 {
		s.Tail = Duration(2 * time.Second)
	}
	if s.MaxTail == 0 {
		s.MaxTail = Duration(60 * time.Second)
	}
	steps := make([]Step, len(s.Steps))
	for i, st := range s.Steps {
		if st.Target == "" {
			st.Target = "primary:0"
		}
		if st.Slots == 0 {
			st.Slots = 100
		}
		if st.Timeout == 0 {
			st.Timeout = Duration(30 * time.Second)
		}
		if st.Delay == 0 {
			st.Delay = Duration(200 * time.Millisecond)
		}
		steps[i] = st
	}
	s.Steps = steps
	return s
}

// watchProbeTimeout is how long the watcher gives a node to answer in sc:
// lab's default, plus the largest delay a latency step adds, so that a node
// that is slow but serves is not taken for one that does not.
func watchProbeTimeout(sc Scenario) time.Duration {
	var most time.Duration
	for _, st := range sc.Steps {
		if st.Action == "latency" {
			most = max(most, time.Duration(st.Delay))
		}
	}
	if most == 0 {
		return 0
	}
	return defaultWatchProbeTimeout + most
}

// defaultWatchProbeTimeout is lab.WatchOptions.ProbeTimeout's default.
const defaultWatchProbeTimeout = 100 * time.Millisecond

// parseTarget splits "primary:N", "replica:N" or "last".
func parseTarget(t string) (role string, shard int, err error) {
	if t == "" || t == "last" {
		return t, 0, nil
	}
	var r string
	for i := 0; i < len(t); i++ {
		if t[i] == ':' {
			r = t[:i]
			if _, err := fmt.Sscanf(t[i+1:], "%d", &shard); err != nil || shard < 0 {
				return "", 0, fmt.Errorf("bad target %q: want primary:N, replica:N or last", t)
			}
			break
		}
	}
	if r != "primary" && r != "replica" {
		return "", 0, fmt.Errorf("bad target %q: want primary:N, replica:N or last", t)
	}
	return r, shard, nil
}

// DefaultScenarios returns the suite `keel drill` runs by default: the
// maintenance a managed Redis Cluster performs.
func DefaultScenarios() []Scenario {
	sec := func(s float64) Duration { return Duration(time.Duration(s * float64(time.Second))) }
	return []Scenario{
		{Name: "graceful-failover", Description: "CLUSTER FAILOVER on the replica of shard 0, as a planned maintenance does",
			Steps: []Step{{Action: "failover"}}},
		{Name: "forced-failover", Description: "shard 0's primary is killed (SIGKILL); its replica takes over after the node timeout",
			Steps: []Step{{Action: "kill"}}},
		{Name: "hung-primary", Description: "shard 0's primary hangs (SIGSTOP); its replica takes over; the old primary resumes 3s later as a replica",
			Steps: []Step{{Action: "pause"}, {Action: "wait-served"}, {After: sec(3), Action: "resume", Target: "last"}}},
		{Name: "node-replacement", Description: "a new node joins, syncs and takes over from shard 0's primary, which is forgotten",
			Steps: []Step{{Action: "replace"}}},
		{Name: "slot-migration", Description: "100 slots move from shard 0 to shard 1 under load (ASK, then MOVED)",
			Steps: []Step{{Action: "migrate", Slots: 100}}},
		{Name: "restart-all-new", Description: "every node restarts on a new address; clients must find the cluster again through its DNS name (the lab's nodes persist nothing: only writes after the restart are audited)",
			Steps: []Step{{Action: "restart-all-new"}}, LosesData: true},
		{Name: "rolling-restart", Description: "every node restarts in turn, each primary failed over to its replica first, as an engine upgrade does",
			Steps: []Step{{Action: "rolling-restart"}}},
	}
}

// DeliveryScenarios returns the Pub/Sub and consumer scenarios: forced
// failover, graceful failover and migration of the probes' slot, once with a
// SUBSCRIBE and an SSUBSCRIBE subscriber and once with a BLPOP and an
// XREADGROUP consumer. `keel drill -scenarios delivery` runs them all; each
// can be named alone too.
func DeliveryScenarios() []Scenario {
	pubsub := []string{ProbeSubscribe, ProbeSSubscribe}
	consumers := []string{ProbeBLPop, ProbeXReadGroup}
	var out []Scenario
	for _, g := range []struct {
		prefix, what string
		probes       []string
	}{
		{"pubsub", "a SUBSCRIBE and an SSUBSCRIBE subscriber of channels in shard 0's first slot, fed every 5 ms by an independent publisher", pubsub},
		{"consumer", "a BLPOP consumer of a list and an XREADGROUP consumer of a stream in shard 0's first slot, fed every 5 ms by an independent producer", consumers},
	} {
		out = append(out,
			Scenario{Name: g.prefix + "-forced-failover", Probes: g.probes,
				Description: "shard 0's primary is killed (SIGKILL) and its replica takes over, with " + g.what,
				Steps:       []Step{{Action: "kill"}}},
			Scenario{Name: g.prefix + "-graceful-failover", Probes: g.probes,
				Description: "CLUSTER FAILOVER on the replica of shard 0, with " + g.what,
				Steps:       []Step{{Action: "failover"}}},
			Scenario{Name: g.prefix + "-slot-migration", Probes: g.probes,
				Description: "100 slots, the probes' among them, move from shard 0 to shard 1, with " + g.what,
				Steps:       []Step{{Action: "migrate", Slots: 100}}},
		)
	}
	return out
}

// NetworkScenarios returns the network-fault scenarios, run on a cluster
// whose nodes each have a network namespace (Linux, as root). `keel drill
// -scenarios net` runs them all; they are not in the default suite.
func NetworkScenarios() []Scenario {
	return []Scenario{
		{Name: "partition-primary", Network: true,
			Description: "shard 0's primary is cut off the network (packets dropped, no RST: dials hang); its replica takes over; the old primary rejoins 3s later as a replica",
			Steps: []Step{{Action: "partition"}, {Action: "wait-served"},
				{After: Duration(3 * time.Second), Action: "heal", Target: "last"}}},
		{Name: "slow-network", Network: true,
			Description: "every reply of shard 0's primary is delayed by 200ms for 5s, then the delay goes",
			Steps: []Step{{Action: "latency", Delay: Duration(200 * time.Millisecond)},
				{After: Duration(5 * time.Second), Action: "clear-latency", Target: "last"}}},
	}
}
