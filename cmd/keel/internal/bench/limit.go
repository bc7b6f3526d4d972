package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The servers' limit: what the cluster delivers to a client that does
// nothing but pipeline, so that a client's req/s can be read as a share of
// what the servers can do on this machine. redis-benchmark (shipped with
// redis-server) measures it, in cluster mode: its connections spread over
// the primaries, each keeping a pipeline of requests in flight.
//
// redis-benchmark does one command per test, so it measures GET and SET of
// each value size; the other workloads (a mix, or several commands per
// operation) are measured by the raw load generator of rawload.go, which
// draws the same commands (see limitParts). Limit.Method says which.

// Limit is the servers' limit for one workload.
type Limit struct {
	Workload Workload `json:"workload"`
	// ReqPerSec is in the workload's operations (a MGET10 batch, a
	// PIPE100 pipeline, LARGEMIX's small requests), the median of the
	// rounds; Rounds has each round's.
	ReqPerSec float64   `json:"req_per_sec"`
	Rounds    []float64 `json:"round_req_per_sec"`
	// Method is how it was obtained: the redis-benchmark command line, or
	// the formula over such runs.
	Method string `json:"method"`
	// Error is why there is no limit, when there is none.
	Error string `json:"error,omitempty"`
}

// limitPart is one command of a workload's mix as redis-benchmark runs it:
// per operation of the workload, perOp of test at size bytes.
type limitPart struct {
	test  string // "get" or "set"
	size  int
	perOp float64
}

// limitParts returns the commands one operation of w costs the servers,
// and the fraction of operations the figures count (LargeMix counts its
// small requests only). A single part with perOp 1 is one redis-benchmark
// test; anything else is run by the raw load generator.
//
// MGET10 is taken for 10 GETs: keel and rueidis send one single-key MGET
// per slot, go-redis 10 GETs, and the servers do the same work for each.
func limitParts(w Workload) (parts []limitPart, counted float64) {
	one := func(test string, size int) []limitPart { return []limitPart{{test, size, 1}} }
	switch w {
	case Get:
		return one("get", 16), 1
	case Set16:
		return one("set", 16), 1
	case Set1K:
		return one("set", 1024), 1
	case Mix:
		return []limitPart{{"get", 16, 0.9}, {"set", 16, 0.1}}, 1
	case MGet10:
		return []limitPart{{"get", 16, 10}}, 1
	case Pipe100:
		return []limitPart{{"get", 16, 100}}, 1
	case Get16K:
		return one("get", size16K), 1
	case Set16K:
		return one("set", size16K), 1
	case Get1M:
		return one("get", size1M), 1
	case Set1M:
		return one("set", size1M), 1
	case LargeMix:
		large := 1.0 / largeMod
		return []limitPart{{"get", 16, 1 - 2*large}, {"get", size1M, large}, {"set", size1M, large}}, 1 - 2*large
	}
	return nil, 0
}

// isDirect reports whether parts are one redis-benchmark test.
func isDirect(parts []limitPart) bool { return len(parts) == 1 && parts[0].perOp == 1 }

// limitMethod describes how a workload's limit is measured.
func limitMethod(parts []limitPart, counted float64) string {
	if isDirect(parts) {
		return rbArgs(parts[0].size, "N").describe(parts[0].test)
	}
	terms := make([]string, len(parts))
	for i, p := range parts {
		terms[i] = fmt.Sprintf("%g %s", p.perOp, rbName(p.test, p.size))
	}
	s := fmt.Sprintf("raw pipelined load, %d connections per primary × %d commands in flight; an op = %s",
		rawConns, rawPipeline, strings.Join(terms, " + "))
	if counted < 1 {
		s += fmt.Sprintf(", counted: the %g of 16 B", counted)
	}
	return s
}

func rbName(test string, size int) string {
	return strings.ToUpper(test) + sizeName(size)
}

func sizeName(size int) string {
	switch {
	case size >= 1<<20 && size%(1<<20) == 0:
		return strconv.Itoa(size>>20) + "MiB"
	case size >= 1<<10 && size%(1<<10) == 0:
		return strconv.Itoa(size>>10) + "KiB"
	}
	return strconv.Itoa(size) + "B"
}

// rbConfig is one redis-benchmark run's shape for a value size.
type rbConfig struct {
	size      int
	conns     int // -c, spread over the primaries
	pipeline  int // -P
	keyspace  int // -r
	requests  string
	perWindow int // -n that takes about DefaultDuration for both tests on the README's machine
}

// rbArgs returns the run's shape for values of size bytes, with requests
// as its -n. The pipelines are deep enough to keep the servers busy and, for
// large values, shallow enough that the bytes in flight stay a few MiB per
// connection; on the 2-core machine of the README these were the fastest of
// the shapes tried.
func rbArgs(size int, requests string) rbConfig {
	c := rbConfig{size: size, requests: requests}
	switch {
	case size <= 1024:
		c.conns, c.pipeline, c.keyspace, c.perWindow = 48, 64, DefaultKeys, 800_000
	case size <= size16K:
		c.conns, c.pipeline, c.keyspace, c.perWindow = 12, 8, keys16K, 100_000
	default:
		c.conns, c.pipeline, c.keyspace, c.perWindow = 12, 2, keys1M, 2_000
	}
	return c
}

func (c rbConfig) args(addr string) ([]string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return []string{"--cluster", "-h", host, "-p", port, "-t", "set,get",
		"-d", strconv.Itoa(c.size), "-r", strconv.Itoa(c.keyspace),
		"-c", strconv.Itoa(c.conns), "-P", strconv.Itoa(c.pipeline),
		"-n", c.requests, "--csv"}, nil
}

func (c rbConfig) describe(test string) string {
	return fmt.Sprintf("redis-benchmark --cluster -t set,get -d %d -r %d -c %d -P %d (%s)",
		c.size, c.keyspace, c.conns, c.pipeline, strings.ToUpper(test))
}

// ErrNoRedisBenchmark is reported when redis-benchmark is not on PATH.
var ErrNoRedisBenchmark = errors.New("bench: redis-benchmark not found on PATH (it comes with redis-server)")

// limiter measures limits with redis-benchmark against the node at addr.
type limiter struct {
	bin  string
	addr string
	d    time.Duration // the window a run aims at
}

func newLimiter(addr string, d time.Duration) (*limiter, error) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoRedisBenchmark, err)
	}
	return &limiter{bin: bin, addr: addr, d: d}, nil
}

// run runs redis-benchmark's SET then GET tests of size-byte values and
// returns their requests per second.
func (l *limiter) run(ctx context.Context, size int) (set, get float64, err error) {
	c := rbArgs(size, "")
	n := int(float64(c.perWindow) * l.d.Seconds() / DefaultDuration.Seconds())
	// A tenth of a window at least: below that, connecting and the
	// first round trips weigh on the rate more than the servers do.
	c.requests = strconv.Itoa(max(n, c.perWindow/10))
	args, err := c.args(l.addr)
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, l.bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("redis-benchmark: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	rates, err := parseRedisBenchmarkCSV(out)
	if err != nil {
		return 0, 0, err
	}
	set, get = rates["SET"], rates["GET"]
	if set <= 0 || get <= 0 {
		return 0, 0, fmt.Errorf("redis-benchmark: no SET and GET rates in %q", out)
	}
	return set, get, nil
}

// parseRedisBenchmarkCSV reads the "test","rps",… lines of --csv output
// into test → requests per second. Cluster mode prints a line of its own
// before the header, which is skipped.
func parseRedisBenchmarkCSV(out []byte) (map[string]float64, error) {
	rates := map[string]float64{}
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark output: %w", err)
	}
	for _, rec := range recs {
		if len(rec) < 2 || rec[0] == "test" {
			continue
		}
		x, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			continue
		}
		rates[rec[0]] = x
	}
	return rates, nil
}

// measure returns w's limit over rounds runs of what it needs; k are the
// keys the raw load reads and writes.
func (l *limiter) measure(ctx context.Context, w Workload, rounds int, k *Keys) Limit {
	parts, counted := limitParts(w)
	lim := Limit{Workload: w, Method: limitMethod(parts, counted)}
	if !isDirect(parts) {
		for range rounds {
			x, err := rawLimit(ctx, l.addr, w, k, l.d)
			if err != nil {
				lim.Error = err.Error()
				return lim
			}
			lim.Rounds = append(lim.Rounds, x)
		}
		lim.ReqPerSec = median(lim.Rounds)
		return lim
	}
	p := parts[0]
	for range rounds {
		set, get, err := l.run(ctx, p.size)
		if err != nil {
			lim.Error = err.Error()
			return lim
		}
		lim.Rounds = append(lim.Rounds, map[string]float64{"set": set, "get": get}[p.test])
	}
	lim.ReqPerSec = median(lim.Rounds)
	return lim
}

// fillOfLimit sets OfLimit on rows, the clients of one cell, from lim.
func fillOfLimit(rows []Row, lim Limit) {
	for i := range rows {
		rows[i].OfLimit = ratio(rows[i].ReqPerSec, lim.ReqPerSec)
	}
}
