// Package report is what a drill produced — the JSON schema documented
// for "keel-drill/1" — and its writers: the text summary, the JSON file and
// the self-contained HTML page with its timeline charts.
package report

import "time"

// Report is everything one `keel drill` (or `keel drill watch`) produced. Its
// JSON form is documented in docs/drill-report.md and only grows: fields
// are added, never renamed or removed, within a schema version.
type Report struct {
	// Schema is "keel-drill/1".
	Schema string `json:"schema"`
	// Mode is "lab" (a cluster the drill started) or "watch" (an existing one).
	Mode string `json:"mode"`
	// Started and Finished bound the whole drill.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Machine describes where it ran: OS, CPU count, Go and redis-server versions.
	Machine map[string]string `json:"machine"`
	// Settings are the workload and cluster settings every run shared.
	Settings Settings `json:"settings"`
	// Clients describe each driver: name, library, version and options.
	Clients []ClientInfo `json:"clients"`
	// Scenarios are the scenarios run, in order.
	Scenarios []ScenarioInfo `json:"scenarios"`
	// Runs holds one entry per scenario and client, scenario by scenario.
	Runs []Run `json:"runs"`
}

// Settings are the knobs shared by every run of a report.
type Settings struct {
	Rate           int     `json:"rate"`               // requests per second, open loop
	RequestTimeout float64 `json:"request_timeout_ms"` // each request's own deadline
	BucketMS       float64 `json:"bucket_ms"`          // timeline bucket width
	Shards         int     `json:"shards"`
	Replicas       int     `json:"replicas"`
	NodeTimeoutMS  float64 `json:"node_timeout_ms"` // cluster-node-timeout; 0 when unknown (watch)
	Mix            string  `json:"mix"`             // e.g. "GET 50% / SET 30% / INCR 20%"
	TLS            bool    `json:"tls,omitempty"`   // the clients spoke TLS to the cluster
}

// ClientInfo describes one driver.
type ClientInfo struct {
	Name     string `json:"name"`
	Describe string `json:"describe"`
}

// ScenarioInfo describes one scenario.
type ScenarioInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Run is one client through one scenario.
type Run struct {
	Scenario string `json:"scenario"`
	Client   string `json:"client"`
	// Error is set when the run could not be carried out (e.g. the client
	// could not connect, or a step failed); figures are then partial.
	Error string `json:"error,omitempty"`
	// Started is when the workload began; every offset below counts from it.
	Started time.Time `json:"started"`
	// DurationMS is how long the workload ran.
	DurationMS float64 `json:"duration_ms"`
	// FaultMS is the offset of the first step: charts align runs on it.
	FaultMS float64 `json:"fault_ms"`
	// Figures are the headline numbers.
	Figures Figures `json:"figures"`
	// Shards holds per-shard figures, by shard index.
	Shards []ShardFigures `json:"shards"`
	// Timeline holds, per shard, one bucket per BucketMS of the run.
	Timeline [][]Bucket `json:"timeline"`
	// Markers are the steps and the cluster's own served/unserved events.
	Markers []MarkerJSON `json:"markers"`
	// Delivery holds the figures of the run's subscribers and consumers, one
	// per probe, for scenarios that have probes; absent otherwise.
	Delivery []Delivery `json:"delivery,omitempty"`
	// Soak holds a chaos soak's own figures (`keel drill soak`); absent
	// for other runs.
	Soak *Soak `json:"soak,omitempty"`
}

// Figures are a run's headline numbers. Latencies cover every request,
// failed or not: a caller waits either way.
type Figures struct {
	// DowntimeMS is the client-added downtime of the worst shard: see
	// ShardFigures.DowntimeMS.
	DowntimeMS float64 `json:"downtime_ms"`
	// Recovered is false when some shard's client never recovered before
	// the run ended; DowntimeMS is then a lower bound.
	Recovered bool `json:"recovered"`
	// Requests and Errors count every request and every error surfaced.
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// ErrorsByClass splits Errors by class (see Class).
	ErrorsByClass map[string]int `json:"errors_by_class"`
	// Reads counts the requests that only read (GET); FailedReads those of
	// them in Errors, and FailedReadsByClass splits FailedReads by class.
	// A write pause (a manual failover) must not fail reads: this is where
	// it shows.
	Reads              int            `json:"reads"`
	FailedReads        int            `json:"failed_reads"`
	FailedReadsByClass map[string]int `json:"failed_reads_by_class"`
	// HealthyAvailability is the success ratio on the shards no step
	// touched and whose serving node never changed; -1 when every shard was
	// touched or the untouched ones saw no request.
	HealthyAvailability float64 `json:"healthy_availability"`
	P50MS               float64 `json:"p50_ms"`
	P99MS               float64 `json:"p99_ms"`
	MaxMS               float64 `json:"max_ms"`
	// Audit results: acknowledged SETs missing or wrong afterwards, INCRs
	// acknowledged but not counted, and counter increments beyond every
	// INCR attempted (a write the client ran twice).
	LostWrites     int `json:"lost_writes"`
	LostIncrs      int `json:"lost_incrs"`
	DuplicateIncrs int `json:"duplicate_incrs"`
	// ServerLostWrites and ServerLostIncrs are acknowledged SETs and INCRs
	// lost by the server, not the client, and not in LostWrites and
	// LostIncrs: issued before a killed primary died or before the switch
	// away from a demoted one was announced, they may have been
	// acknowledged by it and not replicated (Redis replicates
	// asynchronously). Only replication and Sentinel scenarios that kill or
	// demote a primary count them; 0 otherwise.
	ServerLostWrites int `json:"server_lost_writes,omitempty"`
	ServerLostIncrs  int `json:"server_lost_incrs,omitempty"`
	// GoroutinesLeft counts goroutines still running 2s after Close that
	// were not running before the client was opened.
	GoroutinesLeft int `json:"goroutines_left"`
	// CloseMS is how long Close took.
	CloseMS float64 `json:"close_ms"`
	// ReadOnlyAfterServed counts READONLY errors surfaced by requests that
	// started once a replication group served writes again (its name
	// pointed at the new primary): the client kept writing to the old
	// primary. Always 0 for a cluster.
	ReadOnlyAfterServed int `json:"readonly_after_served,omitempty"`
}

// ShardFigures are one shard's numbers.
type ShardFigures struct {
	Shard int `json:"shard"`
	// DowntimeMS is the client-added downtime: in each period while the
	// cluster itself served the shard (from a served marker to the next
	// served or unserved marker; a period that ends unserved ends instead at
	// the first step injected on the shard within it), the time from the
	// first failed request started in it (or the period's start, if later)
	// to the completion of the first success after which no request of the
	// period failed; summed over periods.
	DowntimeMS float64 `json:"downtime_ms"`
	Recovered  bool    `json:"recovered"`
	Touched    bool    `json:"touched"` // a step acted on it or its serving node changed
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
}

// Bucket is one timeline slot of one shard.
type Bucket struct {
	AtMS   float64        `json:"at_ms"` // offset of the bucket's start
	OK     int            `json:"ok"`
	Errors map[string]int `json:"errors,omitempty"`
	P50MS  float64        `json:"p50_ms"`
	P99MS  float64        `json:"p99_ms"`
}

// MarkerJSON is a Marker as reports write it.
type MarkerJSON struct {
	AtMS float64 `json:"at_ms"`
	Marker
}
