package drill

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/keel-go/keel/lab"
)

// keyspace places the workload's keys on every shard. Keys carry a hash tag
// for a chosen slot, so each key's shard is known from the layout the run
// began with, even after slots move.
type keyspace struct {
	prefix   string     // unique per run, so runs never see each other's keys
	tags     [][]string // per shard: the hash tags of its chosen slots
	reads    [][]string // per shard: keys written before the run, read by GETs
	counters [][]string // per shard: the audited INCR counters
}

// Per shard, the workload uses this many slots, this many keys to read and
// this many counters.
const (
	slotsPerShard    = 16
	readsPerShard    = 32
	countersPerShard = 4
)

// newKeyspace picks, per shard, its first slots (the ones a migrate step moves
// first) and slots spread over the rest of its ranges.
func newKeyspace(l Layout, prefix string) *keyspace {
	ks := &keyspace{prefix: prefix}
	for _, sh := range l.Shards {
		slots := pickSlots(sh.Ranges, slotsPerShard)
		tags := make([]string, len(slots))
		for i, s := range slots {
			tags[i] = lab.SlotTag(s)
		}
		ks.tags = append(ks.tags, tags)
		var reads, counters []string
		for i := range readsPerShard {
			reads = append(reads, ks.key(tags[i%len(tags)], "r", i))
		}
		for i := range countersPerShard {
			counters = append(counters, ks.key(tags[i%len(tags)], "c", i))
		}
		ks.reads = append(ks.reads, reads)
		ks.counters = append(ks.counters, counters)
	}
	return ks
}

func (ks *keyspace) key(tag, kind string, n int) string {
	return ks.prefix + ":{" + tag + "}:" + kind + ":" + strconv.Itoa(n)
}

// readValue is what a read key holds: any other value read back is wrong.
func readValue(key string) string { return "v=" + key }

// writeKey returns the n-th write key on shard: every SET writes a new key,
// so that a lost acknowledged write is unambiguous.
func (ks *keyspace) writeKey(shard, n int, r *rand.Rand) string {
	tags := ks.tags[shard]
	return ks.key(tags[r.IntN(len(tags))], "w", n)
}

// pickSlots returns n slots of ranges: half the first slots, half spread
// evenly over the rest.
func pickSlots(ranges [][2]int, n int) []int {
	var all []int
	for _, r := range ranges {
		for s := r[0]; s <= r[1]; s++ {
			all = append(all, s)
		}
	}
	if len(all) <= n {
		return all
	}
	out := append([]int(nil), all[:n/2]...)
	rest := all[n/2:]
	step := len(rest) / (n - n/2)
	for i := 0; len(out) < n; i++ {
		out = append(out, rest[i*step])
	}
	return out
}

// runPrefix makes a key prefix unique to one run.
func runPrefix(scenario, client string, seq int) string {
	return fmt.Sprintf("drill:%d:%s:%s", seq, scenario, sanitize(client))
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}
