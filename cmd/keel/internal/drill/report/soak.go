package report

// Soak is what a chaos soak run adds to its Run: the faults it injected,
// the forced faults' windows, and whether the drill process's goroutines
// and the client's heap stayed flat. In a soak, an acknowledged write lost
// within a forced fault's window counts in Figures.ServerLostWrites or
// ServerLostIncrs (a killed, hung or forcibly failed-over primary may lose
// what it acknowledged before replicating it), any other in
// Figures.LostWrites or LostIncrs.
type Soak struct {
	// Seed drew the faults: `keel drill soak -seed` with it replays the same
	// sequence.
	Seed uint64 `json:"seed"`
	// DurationMS is how long faults were injected (the soak's -duration).
	DurationMS float64 `json:"duration_ms"`
	// Faults counts the faults injected, by kind (kill, pause, failover, …).
	Faults map[string]int `json:"faults"`
	// ForcedWindows counts the forced faults' windows, each on the shard
	// its fault acted on (a loss on another shard is not excused);
	// ForcedWindowMS is how much of the run they covered, summed over
	// shards.
	ForcedWindows  int     `json:"forced_windows"`
	ForcedWindowMS float64 `json:"forced_window_ms"`
	// FailedSteps are the errors of the steps that failed (the lab could
	// not carry them out, say a failover that did not take effect in
	// time): the soak went on once the cluster had settled again.
	FailedSteps []string `json:"failed_steps,omitempty"`
	// Goroutines samples the drill process's goroutines other than the
	// workload's requests in flight; ClientHeap samples the heap in use
	// that the client's own code allocated (runtime heap profile), in
	// bytes; Heap samples the whole process's heap in use (it includes the
	// drill's own records, which grow with the run). Sampled every few
	// seconds from the end of the warm-up to the end of the run.
	Goroutines Series `json:"goroutines"`
	ClientHeap Series `json:"client_heap_bytes"`
	Heap       Series `json:"heap_bytes"`
}

// Series summarises a sampled quantity.
type Series struct {
	Samples int   `json:"samples"`
	First   int64 `json:"first"`
	Last    int64 `json:"last"`
	Max     int64 `json:"max"`
	// Grew is set when the last sample exceeds the first by more than the
	// series' allowance (see the soak's documentation): a leak suspect.
	Grew bool `json:"grew,omitempty"`
}
