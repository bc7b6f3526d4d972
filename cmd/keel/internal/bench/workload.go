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
	Get     Workload = "GET"      // GET of a random pre-populated key
	Set16   Workload = "SET16B"   // SET of a 16-byte value
	Set1K   Workload = "SET1KiB"  // SET of a 1 KiB value
	Mix     Workload = "MIX"      // 90% GET, 10% SET16B
	MGet10  Workload = "MGET10"   // one read of 10 keys across slots
	Pipe100 Workload = "PIPE100"  // one pipeline of 100 GETs
	Get16K  Workload = "GET16KiB" // GET of a key holding 16 KiB
	Set16K  Workload = "SET16KiB" // SET of a 16 KiB value
	Get1M   Workload = "GET1MiB"  // GET of a key holding 1 MiB
	Set1M   Workload = "SET1MiB"  // SET of a 1 MiB value
	// LargeMix is 99% GETs of 16 bytes and 1% requests of 1 MiB (half
	// GET1MiB, half SET1MiB). Only the small requests are counted: its
	// req/s and latencies are theirs, with the large ones in the way.
	LargeMix Workload = "LARGEMIX"
)

// Workloads lists every workload, in report order.
var Workloads = []Workload{Get, Set16, Set1K, Mix, MGet10, Pipe100, Get16K, Set16K, Get1M, Set1M, LargeMix}

// Sizes of the large values, and how many keys of each the workloads use
// (read keys, and as many write keys): enough to spread over every node,
// few enough that the servers hold them easily.
const (
	size16K  = 16 << 10
	size1M   = 1 << 20
	keys16K  = 1000
	keys1M   = 32
	largeMod = 200 // LargeMix: one operation in largeMod is a GET1MiB, one a SET1MiB
)

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
	// The large values' keys, pre-populated by PopulateLarge, and their
	// write keys.
	read16K, write16K []string
	read1M, write1M   []string
	val16K, val1M     string
}

// NewKeys returns n read keys and n write keys, and the keys of the large
// values (at most n of each).
func NewKeys(n int) *Keys {
	k := &Keys{
		read:   make([]string, n),
		write:  make([]string, n),
		val16:  "0123456789abcdef",
		val1K:  strings.Repeat("0123456789abcdef", 64),
		val16K: strings.Repeat("0123456789abcdef", size16K/16),
		val1M:  strings.Repeat("0123456789abcdef", size1M/16),
	}
	for i := range n {
		k.read[i] = "bench:r:" + strconv.Itoa(i)
		k.write[i] = "bench:w:" + strconv.Itoa(i)
	}
	k.read16K, k.write16K = largeKeys("16k", min(n, keys16K))
	k.read1M, k.write1M = largeKeys("1m", min(n, keys1M))
	return k
}

func largeKeys(tag string, n int) (read, write []string) {
	read, write = make([]string, n), make([]string, n)
	for i := range n {
		read[i] = "bench:r" + tag + ":" + strconv.Itoa(i)
		write[i] = "bench:w" + tag + ":" + strconv.Itoa(i)
	}
	return read, write
}

// PopulateAll writes the read keys, and the large values the workloads ws
// read, through a keel client of its own, closed afterwards. No measured
// client's connection writes them: Redis gives a connection that sent an
// argument of 32 KiB or more a query buffer that large, and keeps it while
// the connection stays busy, so a connection that wrote 1 MiB values has
// the server read many more commands per read(2) than any other client's
// (SET16KiB from 256 goroutines: about a quarter more requests/s).
func (k *Keys) PopulateAll(ctx context.Context, seeds []string, ws []Workload) error {
	c, err := Open(ctx, Keel, seeds)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := k.Populate(ctx, c); err != nil {
		return err
	}
	return k.PopulateLarge(ctx, c, ws)
}

// PopulateLarge writes the large values the workloads ws read, through c,
// a few at a time (a thousand 1 MiB SETs at once would only fill memory).
func (k *Keys) PopulateLarge(ctx context.Context, c Client, ws []Workload) error {
	write := func(keys []string, val string) error {
		const parallel = 8
		sem := make(chan struct{}, parallel)
		errs := make(chan error, len(keys))
		for _, key := range keys {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				errs <- c.Set(ctx, key, val)
			}()
		}
		for range keys {
			if err := <-errs; err != nil {
				return fmt.Errorf("populate: %w", err)
			}
		}
		return nil
	}
	if contains(ws, Get16K) {
		if err := write(k.read16K, k.val16K); err != nil {
			return err
		}
	}
	if contains(ws, Get1M) || contains(ws, LargeMix) {
		return write(k.read1M, k.val1M)
	}
	return nil
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

// op runs one operation. counted is false for an operation the figures
// leave out: the large requests of LargeMix.
func (wk *worker) op(ctx context.Context) (counted bool, err error) {
	k := wk.keys
	n := uint64(len(k.read))
	switch wk.w {
	case Get:
		return true, wk.c.Get(ctx, k.read[wk.next()%n])
	case Set16:
		return true, wk.c.Set(ctx, k.write[wk.next()%n], k.val16)
	case Set1K:
		return true, wk.c.Set(ctx, k.write[wk.next()%n], k.val1K)
	case Mix:
		r := wk.next()
		if r%10 == 0 {
			return true, wk.c.Set(ctx, k.write[(r/10)%n], k.val16)
		}
		return true, wk.c.Get(ctx, k.read[(r/10)%n])
	case Get16K:
		return true, wk.c.Get(ctx, pick(k.read16K, wk.next()))
	case Set16K:
		return true, wk.c.Set(ctx, pick(k.write16K, wk.next()), k.val16K)
	case Get1M:
		return true, wk.c.Get(ctx, pick(k.read1M, wk.next()))
	case Set1M:
		return true, wk.c.Set(ctx, pick(k.write1M, wk.next()), k.val1M)
	case LargeMix:
		r := wk.next()
		switch r % largeMod {
		case 0:
			return false, wk.c.Get(ctx, pick(k.read1M, r/largeMod))
		case 1:
			return false, wk.c.Set(ctx, pick(k.write1M, r/largeMod), k.val1M)
		}
		return true, wk.c.Get(ctx, k.read[(r/largeMod)%n])
	case MGet10, Pipe100:
		// Consecutive keys from a random start: distinct (there are more
		// keys than a batch holds), and their names hash to unrelated
		// slots, so a batch of 10 spans 10 slots but for a rare collision.
		start := wk.next() % n
		for i := range wk.batch {
			wk.batch[i] = k.read[(start+uint64(i))%n]
		}
		if wk.w == MGet10 {
			return true, wk.c.MGet(ctx, wk.batch)
		}
		return true, wk.b.Get(ctx, wk.batch)
	}
	return true, fmt.Errorf("bench: unknown workload %q", wk.w)
}

// pick returns the key of keys that r selects.
func pick(keys []string, r uint64) string { return keys[r%uint64(len(keys))] }
