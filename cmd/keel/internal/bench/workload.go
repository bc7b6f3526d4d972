package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Workload is what every goroutine of a cell does in a loop.
type Workload string

// The workloads; see the package documentation for how each client runs them.
const (
	Get     Workload = "GET"     // GET of a random pre-populated key
	Set16   Workload = "SET16B"  // SET of a 16-byte value
	Set1K   Workload = "SET1KiB" // SET of a 1 KiB value
	Mix     Workload = "MIX"     // 90% GET, 10% SET16B
	MGet10  Workload = "MGET10"  // one read of 10 keys across slots
	Pipe100 Workload = "PIPE100" // one pipeline of 100 GETs
)

// Workloads lists every workload, in report order.
var Workloads = []Workload{Get, Set16, Set1K, Mix, MGet10, Pipe100}

// batchSize is how many keys one operation of w touches.
func (w Workload) batchSize() int {
	switch w {
	case MGet10:
		return 10
	case Pipe100:
		return 100
	}
	return 1
}

// ParseWorkloads parses a comma-separated list of workload names, in any
// case.
func ParseWorkloads(s string) ([]Workload, error) {
	var out []Workload
	for _, f := range splitList(s) {
		var w Workload
		for _, c := range Workloads {
			if strings.EqualFold(f, string(c)) {
				w = c
			}
		}
		if w == "" {
			names := make([]string, len(Workloads))
			for i, c := range Workloads {
				names[i] = string(c)
			}
			return nil, fmt.Errorf("unknown workload %q (want %s)", f, strings.Join(names, ", "))
		}
		if !contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no workload given")
	}
	return out, nil
}

// ParseGoroutines parses a comma-separated list of positive goroutine
// counts.
func ParseGoroutines(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("goroutine count %q: want a positive integer", f)
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no goroutine count given")
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Keys are the keys and values the workloads use, built once so that the
// loop allocates nothing of its own.
type Keys struct {
	read  []string // pre-populated with val16 by Populate
	write []string // targets of the SET workloads
	val16 string
	val1K string
}

// NewKeys returns n read keys and n write keys.
func NewKeys(n int) *Keys {
	k := &Keys{
		read:  make([]string, n),
		write: make([]string, n),
		val16: "0123456789abcdef",
		val1K: strings.Repeat("0123456789abcdef", 64),
	}
	for i := range n {
		k.read[i] = "bench:r:" + strconv.Itoa(i)
		k.write[i] = "bench:w:" + strconv.Itoa(i)
	}
	return k
}

// Populate writes every read key with its 16-byte value, through c.
func (k *Keys) Populate(ctx context.Context, c Client) error {
	const step = 500
	for i := 0; i < len(k.read); i += step {
		// step concurrent SETs at a time: quick, and every client
		// batches concurrent requests in some way.
		end := min(i+step, len(k.read))
		errs := make(chan error, end-i)
		for _, key := range k.read[i:end] {
			go func() { errs <- c.Set(ctx, key, k.val16) }()
		}
		for range end - i {
			if err := <-errs; err != nil {
				return fmt.Errorf("populate: %w", err)
			}
		}
	}
	return nil
}

// worker is one goroutine's state for one workload on one client.
type worker struct {
	c     Client
	w     Workload
	keys  *Keys
	rng   uint64
	batch []string // keys of one MGET10 or PIPE100 operation
	b     Batch    // PIPE100 only
}

func newWorker(c Client, w Workload, keys *Keys, seed int) *worker {
	wk := &worker{c: c, w: w, keys: keys, rng: uint64(seed)*0x9e3779b97f4a7c15 + 1}
	if n := w.batchSize(); n > 1 {
		wk.batch = make([]string, n)
	}
	if w == Pipe100 {
		wk.b = c.Batch()
	}
	return wk
}

// next returns a pseudo-random number (xorshift64*), without allocating or
// sharing state with other goroutines.
func (wk *worker) next() uint64 {
	wk.rng ^= wk.rng >> 12
	wk.rng ^= wk.rng << 25
	wk.rng ^= wk.rng >> 27
	return wk.rng * 2685821657736338717
}

// op runs one operation.
func (wk *worker) op(ctx context.Context) error {
	k := wk.keys
	n := uint64(len(k.read))
	switch wk.w {
	case Get:
		return wk.c.Get(ctx, k.read[wk.next()%n])
	case Set16:
		return wk.c.Set(ctx, k.write[wk.next()%n], k.val16)
	case Set1K:
		return wk.c.Set(ctx, k.write[wk.next()%n], k.val1K)
	case Mix:
		r := wk.next()
		if r%10 == 0 {
			return wk.c.Set(ctx, k.write[(r/10)%n], k.val16)
		}
		return wk.c.Get(ctx, k.read[(r/10)%n])
	case MGet10, Pipe100:
		// Consecutive keys from a random start: distinct (there are more
		// keys than a batch holds), and their names hash to unrelated
		// slots, so a batch of 10 spans 10 slots but for a rare collision.
		start := wk.next() % n
		for i := range wk.batch {
			wk.batch[i] = k.read[(start+uint64(i))%n]
		}
		if wk.w == MGet10 {
			return wk.c.MGet(ctx, wk.batch)
		}
		return wk.b.Get(ctx, wk.batch)
	}
	return fmt.Errorf("bench: unknown workload %q", wk.w)
}
