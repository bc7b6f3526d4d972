package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the outcome of Run.
type Report struct {
	Machine  Machine       `json:"machine"`
	Duration time.Duration `json:"duration_ns"`
	Warmup   time.Duration `json:"warmup_ns"`
	Rounds   int           `json:"rounds"`
	Keys     int           `json:"keys"`
	Started  time.Time     `json:"started"`
	Took     time.Duration `json:"took_ns"`
	Rows     []Row         `json:"rows"`
	// Limits has the servers' limit for each workload (see Limit), none
	// when Config.NoLimit was set.
	Limits []Limit `json:"limits,omitempty"`
	// Memory has each client's memory at rest (see Memory).
	Memory []Memory `json:"memory,omitempty"`
}

// limit returns the limit of w, and false when there is none.
func (r *Report) limit(w Workload) (Limit, bool) {
	for _, l := range r.Limits {
		if l.Workload == w && l.Error == "" && l.ReqPerSec > 0 {
			return l, true
		}
	}
	return Limit{}, false
}

// Row is one client in one cell.
type Row struct {
	Workload   Workload `json:"workload"`
	Goroutines int      `json:"goroutines"`
	Client     string   `json:"client"`
	// ReqPerSec is the median over the rounds of operations per second;
	// Rounds has each round's.
	ReqPerSec float64   `json:"req_per_sec"`
	Rounds    []float64 `json:"round_req_per_sec"`
	// P50 and P99 are latency quantiles over all rounds.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	// AllocsPerOp and BytesPerOp are the process's allocations during the
	// windows divided by the operations in them.
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	// ReadsPerOp and WritesPerOp are the process's read and write system
	// calls during the windows divided by the operations (Linux; 0
	// elsewhere): how well the client batches its socket I/O.
	ReadsPerOp  float64 `json:"read_syscalls_per_op"`
	WritesPerOp float64 `json:"write_syscalls_per_op"`
	// CPUPerOp is the process's user and system CPU time during the
	// windows divided by the operations (0 where it is not measured): what
	// one call costs the client's machine, which decides the throughput
	// where the client shares its cores with the servers, as here.
	CPUPerOp time.Duration `json:"cpu_per_op_ns"`
	// ServerCPUPerOp is the servers' CPU time during the windows (INFO
	// cpu, every server of the cluster) divided by the operations (0 where
	// it is not measured): what one call costs the servers, which a client
	// decides by how many commands it hands each of their reads.
	ServerCPUPerOp time.Duration `json:"server_cpu_per_op_ns,omitempty"`
	// HeapInUse is how much the process's heap in use (runtime.MemStats
	// HeapInuse) grew under the load: at the end of a window less just
	// before its goroutines started (after a GC), the largest of the rounds.
	// It includes garbage not yet collected, as a process's memory does.
	HeapInUse int64 `json:"heap_in_use_bytes"`
	// OfLimit is ReqPerSec divided by the servers' limit for the workload
	// (see Limit); 0 when there is none.
	OfLimit float64 `json:"of_limit,omitempty"`
	// Ops and Errors count operations over all windows.
	Ops        int64  `json:"ops"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// VsRueidis and VsGoRedis are keel's throughput over the peer's in the
	// same cell (see versus), on keel's row only; 0 when either is missing.
	VsRueidis float64 `json:"keel_vs_rueidis,omitempty"`
	VsGoRedis float64 `json:"keel_vs_go_redis,omitempty"`
}

// Spread is how far apart the rounds were: (max−min)/median, 0 for fewer
// than two rounds.
func (r Row) Spread() float64 {
	if len(r.Rounds) < 2 || r.ReqPerSec == 0 {
		return 0
	}
	lo, hi := r.Rounds[0], r.Rounds[0]
	for _, x := range r.Rounds[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return (hi - lo) / r.ReqPerSec
}

// fillRatios sets the ratio fields of the keel row among rows, which are
// the clients of one cell.
func fillRatios(rows []Row) {
	var k *Row
	peers := map[string]Row{}
	for i := range rows {
		peers[rows[i].Client] = rows[i]
		if rows[i].Client == Keel {
			k = &rows[i]
		}
	}
	if k == nil {
		return
	}
	k.VsRueidis = versus(*k, peers[Rueidis])
	k.VsGoRedis = versus(*k, peers[GoRedis])
}

// versus is keel's throughput over a peer's in one cell: the median over
// the rounds of keel's req/s divided by the peer's in the same round. A
// round's windows follow one another, so whatever slowed the machine then
// (another process, the host under the virtual machine) weighs on both,
// and the ratio keeps less of it than the ratio of the two medians would.
// Without rounds to pair (a peer missing, or a round without an operation)
// it is the ratio of the medians; 0 when either is 0.
func versus(k, peer Row) float64 {
	if len(k.Rounds) == 0 || len(k.Rounds) != len(peer.Rounds) {
		return ratio(k.ReqPerSec, peer.ReqPerSec)
	}
	ratios := make([]float64, len(k.Rounds))
	for i := range k.Rounds {
		if ratios[i] = ratio(k.Rounds[i], peer.Rounds[i]); ratios[i] == 0 {
			return ratio(k.ReqPerSec, peer.ReqPerSec)
		}
	}
	return median(ratios)
}

func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the machine, the results table, the targets and any
// errors.
func (r *Report) WriteText(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "machine: %s, %d cores (GOMAXPROCS %d), %s %s/%s, redis %s\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.Go, m.OS, m.Arch, m.Redis)
	fmt.Fprintf(w, "load average: %s at start, %s at end\n", m.LoadStart, m.LoadEnd)
	var vs []string
	for _, c := range ClientNames {
		if v, ok := m.Clients[c]; ok {
			vs = append(vs, c+" "+v)
		}
	}
	fmt.Fprintf(w, "clients: %s (default options)\n", strings.Join(vs, ", "))
	fmt.Fprintf(w, "cluster: %d primaries, no replicas; each client runs a cell once unmeasured (%v), then %d round(s) of %v after %v warm-up, clients interleaved; took %v\n\n",
		m.Primaries, cellWarmup(r.Warmup, r.Duration), r.Rounds, r.Duration, r.Warmup, RoundDuration(r.Took))
	if err := r.WriteTable(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "An op is one call: one GET/SET, one 10-key MGET (go-redis: a pipeline of 10 GETs), one pipeline of 100 GETs.")
	fmt.Fprintln(w, "req/s: median of rounds; ±: spread of rounds, (max−min)/median. p50/p99: all rounds.")
	fmt.Fprintln(w, "keel÷peer: median over rounds of keel's req/s ÷ the peer's in the same round.")
	fmt.Fprintln(w, "allocs/op, B/op: the whole process (client and its goroutines) over the window ÷ ops.")
	fmt.Fprintln(w, "rd/op, wr/op: read(2)/write(2) calls of the process (/proc/self/io; EAGAIN reads and the runtime's eventfd included) ÷ ops.")
	fmt.Fprintln(w, "cpu/op: the process's user and system CPU time (getrusage) over the window ÷ ops.")
	fmt.Fprintln(w, "srv cpu/op: the servers' CPU time (INFO cpu of every server) over the window ÷ ops.")
	fmt.Fprintln(w, "heap: growth of the process's heap in use under the load (end of window less before it, garbage included; largest round).")
	fmt.Fprintln(w, "LARGEMIX: 99% GETs of 16 B, 1% GET or SET of 1 MiB; its req/s and latencies are the small requests' only.")
	if len(r.Limits) > 0 {
		fmt.Fprintln(w, "limit: the servers' own rate for the workload, measured just before its cells; of limit: req/s ÷ limit. How each was obtained:")
		for _, l := range r.Limits {
			if l.Error != "" {
				fmt.Fprintf(w, "  %-8s none: %s\n", l.Workload, l.Error)
				continue
			}
			fmt.Fprintf(w, "  %-8s %s\n", l.Workload, l.Method)
		}
	}
	if len(r.Memory) > 0 {
		fmt.Fprintln(w)
		if err := WriteMemory(w, r.Memory); err != nil {
			return err
		}
	}
	if checks := r.Targets(); len(checks) > 0 {
		fmt.Fprintln(w)
		if err := WriteTargets(w, checks); err != nil {
			return err
		}
	}
	blank := false
	for _, row := range r.Rows {
		if row.Errors > 0 {
			if !blank {
				fmt.Fprintln(w)
				blank = true
			}
			fmt.Fprintf(w, "errors: %s %s g=%d: %d, first: %s\n", row.Workload, row.Client, row.Goroutines, row.Errors, row.FirstError)
		}
		if row.Ops == 0 && row.Errors == 0 {
			if !blank {
				fmt.Fprintln(w)
				blank = true
			}
			fmt.Fprintf(w, "no operation: %s %s g=%d: none that began in a window ended (each took longer than %v)\n",
				row.Workload, row.Client, row.Goroutines, r.Duration)
		}
	}
	return nil
}

// WriteTable writes one line per row, the ratios on keel's lines.
func (r *Report) WriteTable(w io.Writer) error {
	t := table{left: []bool{true, false, true}}
	t.add("workload", "g", "client", "req/s", "±", "p50", "p99", "allocs/op", "B/op", "rd/op", "wr/op", "cpu/op", "srv cpu/op", "heap", "of limit", "keel÷rueidis", "keel÷go-redis")
	for i, row := range r.Rows {
		if i == 0 || row.Workload != r.Rows[i-1].Workload {
			if i > 0 {
				t.add()
			}
			if l, ok := r.limit(row.Workload); ok {
				t.add(string(row.Workload), "-", "limit", FormatRate(l.ReqPerSec), FormatPercent(l.Spread()))
			}
		}
		rate := FormatRate(row.ReqPerSec)
		if row.Errors > 0 {
			rate = "!" + rate // the errors are listed under the table
		}
		t.add(string(row.Workload), strconv.Itoa(row.Goroutines), row.Client,
			rate, FormatPercent(row.Spread()),
			FormatLatency(row.P50), FormatLatency(row.P99),
			FormatAllocs(row.AllocsPerOp), FormatBytes(row.BytesPerOp),
			FormatSyscalls(row.ReadsPerOp), FormatSyscalls(row.WritesPerOp),
			FormatCPU(row.CPUPerOp), FormatCPU(row.ServerCPUPerOp), FormatMiB(row.HeapInUse), formatOfLimit(row.OfLimit),
			FormatRatio(row.VsRueidis), FormatRatio(row.VsGoRedis))
	}
	return t.write(w)
}

// table lays out columns two spaces apart, numbers aligned right and the
// columns marked in left aligned left; an empty row is an empty line.
type table struct {
	left []bool
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	var width []int
	for _, row := range t.rows {
		for i, c := range row {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, row := range t.rows {
		var line strings.Builder
		for i, c := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < len(t.left) && t.left[i] {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TargetWorkloads and TargetGoroutines are the cells the targets
// are about: concurrent GET and SET at 64 and 256 goroutines.
var (
	TargetWorkloads  = []Workload{Get, Set16, Set1K}
	TargetGoroutines = []int{64, 256}
)

// Target thresholds: keel's requests/s over each peer's, at least.
const (
	TargetVsRueidis = 1.1
	TargetVsGoRedis = 2.0
)

// Check is keel against the targets in one cell.
type Check struct {
	Workload   Workload
	Goroutines int
	VsRueidis  float64 // keel req/s ÷ rueidis req/s; target ≥ TargetVsRueidis
	VsGoRedis  float64 // keel req/s ÷ go-redis req/s; target ≥ TargetVsGoRedis
	P99Ratio   float64 // keel p99 ÷ rueidis p99; target ≤ 1
	// KeelAllocs and PeerAllocs are allocs/op of keel and of the peer with
	// the fewest; target KeelAllocs < PeerAllocs.
	KeelAllocs, PeerAllocs float64
}

// Met reports which targets the cell meets, in the order of the fields.
func (c Check) Met() (vsRueidis, vsGoRedis, p99, allocs bool) {
	return c.VsRueidis >= TargetVsRueidis, c.VsGoRedis >= TargetVsGoRedis,
		c.P99Ratio > 0 && c.P99Ratio <= 1, c.allocsTied() < 0
}

// allocsTied compares keel's allocs/op with the peer's as shown, to a tenth:
// -1 fewer, 0 a tie, +1 more. Counts over a window wobble in the third
// decimal (a GC refilling a pool), which must not flip the verdict.
func (c Check) allocsTied() int {
	k, p := math.Round(c.KeelAllocs*10), math.Round(c.PeerAllocs*10)
	switch {
	case k < p:
		return -1
	case k == p:
		return 0
	}
	return 1
}

// Targets returns a Check for every target cell that has keel and both
// peers.
func (r *Report) Targets() []Check {
	type key struct {
		w Workload
		g int
	}
	cells := map[key]map[string]Row{}
	for _, row := range r.Rows {
		k := key{row.Workload, row.Goroutines}
		if cells[k] == nil {
			cells[k] = map[string]Row{}
		}
		cells[k][row.Client] = row
	}
	var out []Check
	for _, w := range TargetWorkloads {
		for _, g := range TargetGoroutines {
			c := cells[key{w, g}]
			k, okK := c[Keel]
			ru, okR := c[Rueidis]
			gr, okG := c[GoRedis]
			if !okK || !okR || !okG {
				continue
			}
			out = append(out, Check{
				Workload:   w,
				Goroutines: g,
				VsRueidis:  versus(k, ru),
				VsGoRedis:  versus(k, gr),
				P99Ratio:   ratio(float64(k.P99), float64(ru.P99)),
				KeelAllocs: k.AllocsPerOp,
				PeerAllocs: min(ru.AllocsPerOp, gr.AllocsPerOp),
			})
		}
	}
	return out
}

// WriteTargets writes checks as a table, each value marked met or missed.
func WriteTargets(w io.Writer, checks []Check) error {
	fmt.Fprintln(w, "targets (keel):")
	t := table{left: []bool{true, false, true, true, true, true}}
	t.add("workload", "g", fmt.Sprintf("req/s ÷rueidis ≥%.1f", TargetVsRueidis), fmt.Sprintf("÷go-redis ≥%.0f", TargetVsGoRedis),
		"p99 ÷rueidis ≤1", "allocs/op < fewest of peers")
	for _, c := range checks {
		a, b, p, al := c.Met()
		t.add(string(c.Workload), strconv.Itoa(c.Goroutines),
			FormatRatio(c.VsRueidis)+" "+mark(a), FormatRatio(c.VsGoRedis)+" "+mark(b),
			formatP99Ratio(c.P99Ratio)+" "+mark(p),
			FormatAllocs(c.KeelAllocs)+" vs "+FormatAllocs(c.PeerAllocs)+" "+allocsMark(al, c.allocsTied() == 0))
	}
	return t.write(w)
}

// formatP99Ratio shows three decimals, so that 1.004× is not shown as a
// missed 1.00×. (The histograms are within 1%, so such a miss is a tie.)
func formatP99Ratio(x float64) string {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 3, 64) + "×"
}

func allocsMark(ok, tie bool) string {
	if tie {
		return "MISSED (tie)"
	}
	return mark(ok)
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// limitLine summarises a workload's limit for the progress output.
func limitLine(l Limit) string {
	if l.Error != "" {
		return fmt.Sprintf("%-8s limit: none (%s)", l.Workload, l.Error)
	}
	return fmt.Sprintf("%-8s limit %s req/s", l.Workload, FormatRate(l.ReqPerSec))
}

// progressLine summarises one cell for the progress output.
func progressLine(rows []Row) string {
	if len(rows) == 0 {
		return ""
	}
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s %s req/s p99 %s", r.Client, FormatRate(r.ReqPerSec), FormatLatency(r.P99))
		if r.Errors > 0 {
			parts[i] += fmt.Sprintf(" (%d errors)", r.Errors)
		}
	}
	return fmt.Sprintf("%-8s g=%-4d %s", rows[0].Workload, rows[0].Goroutines, strings.Join(parts, ", "))
}

// FormatRate formats a rate with thousands separators: 123,456.
func FormatRate(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatLatency formats a latency with three significant digits or so:
// 87µs, 1.23ms, 45.6ms, 1.20s; "-" for none.
func FormatLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatInt(int64(math.Round(float64(d)/1e3)), 10) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

// FormatCPU formats CPU time per operation as FormatLatency does, with a
// tenth of a microsecond below 10µs, where small requests' costs lie.
func FormatCPU(d time.Duration) string {
	if d > 0 && d < 10*time.Microsecond {
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	}
	return FormatLatency(d)
}

// RoundDuration rounds d for people: to the second from 10s up, else to
// the millisecond.
func RoundDuration(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// FormatRatio formats a ratio as 1.23×; "-" when there is none.
func FormatRatio(x float64) string {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// FormatAllocs formats allocations per operation: one decimal below 100.
func FormatAllocs(x float64) string {
	if x < 100 {
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return FormatRate(x)
}

// FormatSyscalls formats system calls per operation: two decimals below
// 10, "-" for none measured.
func FormatSyscalls(x float64) string {
	switch {
	case x <= 0:
		return "-"
	case x < 10:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return FormatRate(x)
}

// FormatBytes formats bytes per operation as a whole number.
func FormatBytes(x float64) string { return FormatRate(x) }

// Spread is how far apart the rounds were: (max−min)/median, 0 for fewer
// than two rounds.
func (l Limit) Spread() float64 {
	return Row{ReqPerSec: l.ReqPerSec, Rounds: l.Rounds}.Spread()
}

// formatOfLimit formats a share of the limit as a whole percentage, "-"
// for none.
func formatOfLimit(x float64) string {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return FormatPercent(x)
}

// FormatMiB formats a byte count in MiB with one decimal: 12.3MiB; "-" for
// none or a negative count.
func FormatMiB(b int64) string {
	if b <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + "MiB"
}

// FormatPercent formats a fraction as a whole percentage: 0.034 is "3%".
func FormatPercent(x float64) string {
	return strconv.FormatFloat(x*100, 'f', 0, 64) + "%"
}
