package drill

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// A forced fault's window runs from forcedBefore before the fault began to
// forcedAfter after it was done. Before: a primary killed, hung or failed
// over without its agreement loses what it acknowledged but had not yet
// replicated (the lab's replicas lag by milliseconds). After: a primary
// resumed or restarted, or still running when its replica was forced to
// take over, may acknowledge writes until it learns it was deposed, then
// drops them as it becomes a replica.
const (
	forcedBefore = time.Second
	forcedAfter  = 2 * time.Second
)

// forcedActions are the lab actions after which the cluster itself may lose
// writes it acknowledged.
var forcedActions = map[string]bool{
	"kill": true, "pause": true, "resume": true, "restart": true,
	"failover-force": true, "failover-takeover": true, "partition": true, "heal": true,
}

// window is a span of a run on one shard (by index; -1 for every shard),
// as offsets from the run's start.
type window struct {
	shard    int
	from, to time.Duration
}

// windows are the forced faults' windows of a run.
type windows []window

// contain reports whether at falls in one of ws on shard.
func (ws windows) contain(shard int, at time.Duration) bool {
	for _, w := range ws {
		if (w.shard == shard || w.shard == -1) && at >= w.from && at <= w.to {
			return true
		}
	}
	return false
}

// covered is how much of [0, end) ws cover on shard.
func (ws windows) covered(shard int, end time.Duration) time.Duration {
	sorted := slices.DeleteFunc(slices.Clone(ws), func(w window) bool { return w.shard != shard && w.shard != -1 })
	slices.SortFunc(sorted, func(a, b window) int { return cmp.Compare(a.from, b.from) })
	var total, reach time.Duration
	for _, w := range sorted {
		from, to := max(w.from, reach, 0), min(w.to, end)
		if to > from {
			total += to - from
			reach = to
		}
	}
	return total
}

// shardOf returns what finds a workload key's shard (by index, as the run
// began) from its hash tag; -1 for a key of no shard.
func (ks *keyspace) shardOf() func(key string) int {
	byTag := make(map[string]int)
	for i, tags := range ks.tags {
		for _, t := range tags {
			byTag[t] = i
		}
	}
	return func(key string) int {
		_, rest, _ := strings.Cut(key, "{")
		tag, _, _ := strings.Cut(rest, "}")
		if s, ok := byTag[tag]; ok {
			return s
		}
		return -1
	}
}

// forcedWindows finds the windows of a run's forced faults from its step
// markers: each forced step's begin mark, and the done mark with the same
// label that follows it (none when the step failed: the window then lasts
// to the run's end), on the shard the step acted on. A write to another
// shard is not excused by the fault.
func forcedWindows(markers []report.Marker) windows {
	var ws windows
	for i, m := range markers {
		action, _, _ := strings.Cut(m.Label, " ")
		if m.Kind != report.MarkStep || !forcedActions[action] {
			continue
		}
		w := window{shard: m.Shard, from: m.At - forcedBefore, to: math.MaxInt64}
		for _, d := range markers[i+1:] {
			if d.Kind == report.MarkStepDone && d.Label == m.Label {
				w.to = d.At + forcedAfter
				break
			}
		}
		ws = append(ws, w)
	}
	return ws
}
