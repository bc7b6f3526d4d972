package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{FormatRate(0), "0"},
		{FormatRate(999.4), "999"},
		{FormatRate(1000), "1,000"},
		{FormatRate(1234567.6), "1,234,568"},
		{FormatRate(-1234), "-1,234"},
		{FormatRate(math.NaN()), "-"},
		{FormatLatency(0), "-"},
		{FormatLatency(87400 * time.Nanosecond), "87µs"},
		{FormatLatency(999 * time.Microsecond), "999µs"},
		{FormatLatency(1234 * time.Microsecond), "1.23ms"},
		{FormatLatency(45670 * time.Microsecond), "45.7ms"},
		{FormatLatency(1200 * time.Millisecond), "1.20s"},
		{FormatCPU(0), "-"},
		{FormatCPU(3450 * time.Nanosecond), "3.5µs"},
		{FormatCPU(12400 * time.Nanosecond), "12µs"},
		{FormatCPU(1234 * time.Microsecond), "1.23ms"},
		{FormatRatio(1.234), "1.23×"},
		{FormatRatio(0), "-"},
		{FormatRatio(math.Inf(1)), "-"},
		{FormatAllocs(2), "2.0"},
		{FormatAllocs(35.25), "35.2"},
		{FormatAllocs(1234.4), "1,234"},
		{FormatBytes(39041.2), "39,041"},
		{FormatPercent(0.034), "3%"},
		{FormatPercent(0), "0%"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMedianAndSpread(t *testing.T) {
	if m := median(nil); m != 0 {
		t.Errorf("median(nil) = %v", m)
	}
	xs := []float64{3, 1, 2}
	if m := median(xs); m != 2 {
		t.Errorf("median(3,1,2) = %v, want 2", m)
	}
	if !slices.Equal(xs, []float64{3, 1, 2}) {
		t.Errorf("median reordered its argument: %v", xs)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median(4,1,3,2) = %v, want 2.5", m)
	}
	r := Row{ReqPerSec: 100, Rounds: []float64{95, 105, 100}}
	if s := r.Spread(); math.Abs(s-0.10) > 1e-9 {
		t.Errorf("spread = %v, want 0.10", s)
	}
	if s := (Row{ReqPerSec: 100, Rounds: []float64{100}}).Spread(); s != 0 {
		t.Errorf("spread of one round = %v, want 0", s)
	}
}

func TestRowPerOpFigures(t *testing.T) {
	var c cellResult
	c.add(runResult{ops: 900, errs: 100, elapsed: time.Second, cpu: 4 * time.Millisecond, reads: 1500, serverCPU: 10 * time.Millisecond, serverKnown: true, hist: new(drill.Histogram)})
	c.add(runResult{ops: 1000, elapsed: time.Second, cpu: 2 * time.Millisecond, reads: 500, serverCPU: time.Hour, hist: new(drill.Histogram)})
	row := c.row(Get, 1, Keel)
	if row.CPUPerOp != 3*time.Microsecond {
		t.Errorf("cpu/op = %v, want 3µs (6ms over 2,000 calls, failed ones included)", row.CPUPerOp)
	}
	if row.ServerCPUPerOp != 10*time.Microsecond {
		t.Errorf("srv cpu/op = %v, want 10µs (10ms over the 1,000 calls of the one round whose servers' figure is known)", row.ServerCPUPerOp)
	}
	if row.ReadsPerOp != 1 {
		t.Errorf("rd/op = %v, want 1", row.ReadsPerOp)
	}
	if row.ReqPerSec != 950 {
		t.Errorf("req/s = %v, want the median of 900 and 1,000", row.ReqPerSec)
	}
}

func TestFillRatios(t *testing.T) {
	rows := []Row{
		{Client: Keel, ReqPerSec: 300},
		{Client: Rueidis, ReqPerSec: 200},
		{Client: GoRedis, ReqPerSec: 100},
	}
	fillRatios(rows)
	if rows[0].VsRueidis != 1.5 || rows[0].VsGoRedis != 3 {
		t.Errorf("keel ratios %v, %v; want 1.5, 3", rows[0].VsRueidis, rows[0].VsGoRedis)
	}
	for _, r := range rows[1:] {
		if r.VsRueidis != 0 || r.VsGoRedis != 0 {
			t.Errorf("%s has ratios %v, %v; want none", r.Client, r.VsRueidis, r.VsGoRedis)
		}
	}
	// A missing or idle peer gives no ratio rather than infinity.
	rows = []Row{{Client: Keel, ReqPerSec: 300}, {Client: GoRedis, ReqPerSec: 0}}
	fillRatios(rows)
	if rows[0].VsRueidis != 0 || rows[0].VsGoRedis != 0 {
		t.Errorf("ratios against missing peers: %v, %v; want 0, 0", rows[0].VsRueidis, rows[0].VsGoRedis)
	}
}

// keel's ratio to a peer is the median of the rounds' ratios, not the ratio
// of the medians.
func TestRatiosPairTheRounds(t *testing.T) {
	rows := []Row{
		{Client: Keel, ReqPerSec: 150, Rounds: []float64{100, 200, 150}},
		// Round ratios 1.11, 0.95 and 1.5; the medians' ratio is 1.5.
		{Client: Rueidis, ReqPerSec: 100, Rounds: []float64{90, 210, 100}},
		// Rounds that cannot be paired: the ratio of the medians.
		{Client: GoRedis, ReqPerSec: 50, Rounds: []float64{50}},
	}
	fillRatios(rows)
	if math.Abs(rows[0].VsRueidis-100.0/90) > 1e-9 {
		t.Errorf("keel ÷ rueidis = %v, want %v (paired rounds)", rows[0].VsRueidis, 100.0/90)
	}
	if rows[0].VsGoRedis != 3 {
		t.Errorf("keel ÷ go-redis = %v, want 3 (medians)", rows[0].VsGoRedis)
	}
	// A round with no operation is not paired either.
	rows[1].Rounds = []float64{90, 0, 100}
	fillRatios(rows)
	if rows[0].VsRueidis != 1.5 {
		t.Errorf("keel ÷ rueidis with an empty round = %v, want 1.5 (medians)", rows[0].VsRueidis)
	}
}

// sampleReport has two target cells: GET at 64 goroutines, where keel meets
// every target, and SET16B at 256, where it misses every one. GET has a
// limit, SET16B none.
func sampleReport() *Report {
	rows := []Row{
		{Workload: Get, Goroutines: 64, Client: Keel, ReqPerSec: 240000, Rounds: []float64{230000, 250000}, P50: 200 * time.Microsecond, P99: 900 * time.Microsecond, AllocsPerOp: 2, BytesPerOp: 48, ReadsPerOp: 0.12, WritesPerOp: 0.345, CPUPerOp: 4200 * time.Nanosecond, ServerCPUPerOp: 6100 * time.Nanosecond},
		{Workload: Get, Goroutines: 64, Client: Rueidis, ReqPerSec: 200000, Rounds: []float64{200000, 200000}, P50: 250 * time.Microsecond, P99: 1100 * time.Microsecond, AllocsPerOp: 3, BytesPerOp: 16, ReadsPerOp: 0.1, WritesPerOp: 0.1},
		{Workload: Get, Goroutines: 64, Client: GoRedis, ReqPerSec: 100000, Rounds: []float64{100000, 100000}, P50: 600 * time.Microsecond, P99: 3 * time.Millisecond, AllocsPerOp: 7, BytesPerOp: 241},
		{Workload: Set16, Goroutines: 256, Client: Keel, ReqPerSec: 150000, Rounds: []float64{150000, 150000}, P50: time.Millisecond, P99: 5 * time.Millisecond, AllocsPerOp: 1, BytesPerOp: 48},
		{Workload: Set16, Goroutines: 256, Client: Rueidis, ReqPerSec: 200000, Rounds: []float64{200000, 200000}, P50: time.Millisecond, P99: 2 * time.Millisecond, AllocsPerOp: 0, BytesPerOp: 0},
		{Workload: Set16, Goroutines: 256, Client: GoRedis, ReqPerSec: 100000, Rounds: []float64{100000, 100000}, P50: 2 * time.Millisecond, P99: 8 * time.Millisecond, AllocsPerOp: 8, BytesPerOp: 282, Errors: 3, FirstError: "boom"},
	}
	for i := range rows {
		if i != 4 { // SET16B rueidis: none ended, listed under the table
			rows[i].Ops = 1000
		}
	}
	fillRatios(rows[:3])
	fillRatios(rows[3:])
	getLimit := Limit{Workload: Get, ReqPerSec: 800000, Rounds: []float64{760000, 840000}, Method: "redis-benchmark (GET)"}
	fillOfLimit(rows[:3], getLimit)
	rows[0].HeapInUse = 3 << 20
	return &Report{
		Limits: []Limit{getLimit, {Workload: Set16, Error: "no redis-benchmark"}},
		Memory: []Memory{
			{Client: Keel, Clients: 50, IdleBytesPerClient: 140000, UsedBytesPerClient: 150000, ConnsPerClient: 3, BytesPerConn: 50000, HeapUnderLoad: 3 << 20, LoadCell: "GET g=64"},
			{Client: GoRedis, Clients: 50, Error: "refused"},
		},
		Machine:  Machine{CPU: "Test CPU", Cores: 2, GOMAXPROCS: 2, Go: "go1.26", OS: "linux", Arch: "amd64", Redis: "7.0.15", Primaries: 3, Clients: map[string]string{Keel: "local checkout", Rueidis: "v1.0.79", GoRedis: "v9.23.0"}},
		Duration: 2 * time.Second, Warmup: 100 * time.Millisecond, Rounds: 2, Keys: 10000, Took: 5 * time.Minute,
		Rows: rows,
	}
}

func TestTargets(t *testing.T) {
	checks := sampleReport().Targets()
	if len(checks) != 2 {
		t.Fatalf("%d checks, want 2: %+v", len(checks), checks)
	}
	get, set := checks[0], checks[1]
	if get.Workload != Get || get.Goroutines != 64 || set.Workload != Set16 || set.Goroutines != 256 {
		t.Fatalf("checks for %s/%d and %s/%d", get.Workload, get.Goroutines, set.Workload, set.Goroutines)
	}
	if a, b, p, al := get.Met(); !a || !b || !p || !al {
		t.Errorf("GET/64 %+v: met %v %v %v %v, want all", get, a, b, p, al)
	}
	if get.VsRueidis != 1.2 || get.VsGoRedis != 2.4 || get.P99Ratio != 900.0/1100 || get.KeelAllocs != 2 || get.PeerAllocs != 3 {
		t.Errorf("GET/64 values %+v", get)
	}
	if a, b, p, al := set.Met(); a || b || p || al {
		t.Errorf("SET16B/256 %+v: met %v %v %v %v, want none", set, a, b, p, al)
	}
	// Allocation counts equal to a tenth tie either way: not fewer.
	for _, pair := range [][2]float64{{0.998, 1.002}, {1.002, 0.998}, {0, 0.01}} {
		c := Check{KeelAllocs: pair[0], PeerAllocs: pair[1]}
		if _, _, _, al := c.Met(); al || c.allocsTied() != 0 {
			t.Errorf("allocs %v vs %v: met %v, tie %d; want a tie, not met", pair[0], pair[1], al, c.allocsTied())
		}
	}
}

func TestWriteText(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []string{
		"machine: Test CPU, 2 cores (GOMAXPROCS 2), go1.26 linux/amd64, redis 7.0.15\n",
		"clients: keel local checkout, rueidis v1.0.79, go-redis v9.23.0 (default options)\n",
		"workload    g  client       req/s    ±     p50     p99  allocs/op  B/op  rd/op  wr/op  cpu/op  srv cpu/op    heap  of limit  keel÷rueidis  keel÷go-redis\n",
		"GET         -  limit      800,000  10%\n",
		"GET        64  keel       240,000   8%   200µs   900µs        2.0    48   0.12   0.34   4.2µs       6.1µs  3.0MiB       30%         1.20×          2.40×\n",
		"GET        64  rueidis    200,000   0%   250µs  1.10ms        3.0    16   0.10   0.10       -           -       -       25%             -              -\n",
		"\n\nSET16B    256  keel       150,000",
		"  GET      redis-benchmark (GET)\n  SET16B   none: no redis-benchmark\n",
		"keel           50         140,000        150,000           3.0  50,000  3.0MiB (GET g=64)\n",
		"go-redis       50  error: refused\n",
		"SET16B    256  go-redis  !100,000",
		"GET        64  1.20× met            2.40× met     0.818× met       2.0 vs 3.0 met\n",
		"SET16B    256  0.75× MISSED         1.50× MISSED  2.500× MISSED    1.0 vs 0.0 MISSED\n",
		"MISSED\n\nno operation: SET16B rueidis g=256: none that began in a window ended (each took longer than 2s)\n" +
			"errors: SET16B go-redis g=256: 3, first: boom\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " ") != line {
			t.Errorf("line %d has trailing spaces: %q", i+1, line)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != 6 || back.Rows[0].VsRueidis != 1.2 || back.Rows[0].P99 != 900*time.Microsecond || back.Machine.Redis != "7.0.15" {
		t.Errorf("round trip lost data: %+v", back)
	}
	if !strings.Contains(out.String(), `"keel_vs_go_redis": 2.4`) {
		t.Errorf("JSON lacks keel_vs_go_redis:\n%s", out.String())
	}
}

func TestParse(t *testing.T) {
	ws, err := ParseWorkloads(" get,MGET10 , get,pipe100")
	if err != nil || !slices.Equal(ws, []Workload{Get, MGet10, Pipe100}) {
		t.Errorf("ParseWorkloads = %v, %v", ws, err)
	}
	if _, err := ParseWorkloads("GET,HGET"); err == nil || !strings.Contains(err.Error(), `"HGET"`) {
		t.Errorf("ParseWorkloads(HGET) error %v", err)
	}
	cs, err := ParseClients("go-redis,Keel")
	if err != nil || !slices.Equal(cs, []string{GoRedis, Keel}) {
		t.Errorf("ParseClients = %v, %v", cs, err)
	}
	if _, err := ParseClients("redigo"); err == nil {
		t.Error("ParseClients accepted redigo")
	}
	gs, err := ParseGoroutines("1, 16,256")
	if err != nil || !slices.Equal(gs, []int{1, 16, 256}) {
		t.Errorf("ParseGoroutines = %v, %v", gs, err)
	}
	for _, bad := range []string{"0", "-4", "x", ""} {
		if _, err := ParseGoroutines(bad); err == nil {
			t.Errorf("ParseGoroutines(%q) accepted", bad)
		}
	}
}

func TestEstimatedTime(t *testing.T) {
	c := Config{Seeds: []string{"x:1"}}
	// 11 workloads × 4 goroutine counts × 3 clients × 2 rounds × 2.05s,
	// a cell warm-up of 0.5s per client, and a limit measurement of 2s per
	// workload and round.
	windows := 264*2050*time.Millisecond + 132*500*time.Millisecond
	if got, want := c.EstimatedTime(), windows+22*2*time.Second; got != want {
		t.Errorf("default estimate %v, want %v", got, want)
	}
	c.NoLimit = true
	if got, want := c.EstimatedTime(), windows; got != want {
		t.Errorf("estimate without limits %v, want %v", got, want)
	}
}

// fakeClient records the calls a worker makes.
type fakeClient struct {
	mu               sync.Mutex
	gets, sets       int
	setValues        map[int]int // value length → count
	batches          [][]string
	readKey, written map[string]bool
}

func (f *fakeClient) Name() string { return "fake" }
func (f *fakeClient) Get(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	f.readKey[key] = true
	return nil
}
func (f *fakeClient) Set(_ context.Context, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	f.setValues[len(value)]++
	f.written[key] = true
	return nil
}
func (f *fakeClient) MGet(_ context.Context, keys []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, slices.Clone(keys))
	return nil
}
func (f *fakeClient) Batch() Batch { return fakeBatch{f} }
func (f *fakeClient) Close() error { return nil }

type fakeBatch struct{ f *fakeClient }

func (b fakeBatch) Get(ctx context.Context, keys []string) error { return b.f.MGet(ctx, keys) }

func newFake() *fakeClient {
	return &fakeClient{setValues: map[int]int{}, readKey: map[string]bool{}, written: map[string]bool{}}
}

func TestWorkerOps(t *testing.T) {
	keys := NewKeys(1000)
	ctx := context.Background()
	run := func(w Workload, n int) *fakeClient {
		f := newFake()
		wk := newWorker(f, w, keys, 7)
		for range n {
			if _, err := wk.op(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}

	f := run(Mix, 10000)
	if f.gets+f.sets != 10000 || f.sets < 900 || f.sets > 1100 {
		t.Errorf("MIX: %d GETs, %d SETs; want about 9000 and 1000", f.gets, f.sets)
	}
	if f.setValues[16] != f.sets {
		t.Errorf("MIX SET value lengths %v, want 16 only", f.setValues)
	}
	for k := range f.readKey {
		if !strings.HasPrefix(k, "bench:r:") {
			t.Errorf("MIX read %q, not a read key", k)
		}
	}
	for k := range f.written {
		if !strings.HasPrefix(k, "bench:w:") {
			t.Errorf("MIX wrote %q, not a write key", k)
		}
	}
	if len(f.readKey) < 900 {
		t.Errorf("MIX read only %d distinct keys of 1000 in 9000 GETs", len(f.readKey))
	}

	if f := run(Set1K, 10); f.setValues[1024] != 10 {
		t.Errorf("SET1KiB value lengths %v", f.setValues)
	}
	for _, w := range []Workload{MGet10, Pipe100} {
		f := run(w, 50)
		if len(f.batches) != 50 {
			t.Fatalf("%s: %d batches, want 50", w, len(f.batches))
		}
		for _, b := range f.batches {
			if len(b) != w.batchSize() {
				t.Fatalf("%s: batch of %d keys", w, len(b))
			}
			seen := map[string]bool{}
			for _, k := range b {
				if seen[k] || !strings.HasPrefix(k, "bench:r:") {
					t.Fatalf("%s: batch %v repeats %q or reads a write key", w, b, k)
				}
				seen[k] = true
			}
		}
	}
}

// TestWorkerLargeOps checks the large-value workloads: value sizes, the
// large keys, and LargeMix's 1% of large requests, which are not counted.
func TestWorkerLargeOps(t *testing.T) {
	keys := NewKeys(1000)
	ctx := context.Background()
	for _, tc := range []struct {
		w      Workload
		prefix string // of every key touched
		set    int    // value length of the SETs; 0 for a GET workload
	}{
		{Get16K, "bench:r16k:", 0}, {Set16K, "bench:w16k:", size16K},
		{Get1M, "bench:r1m:", 0}, {Set1M, "bench:w1m:", size1M},
	} {
		f := newFake()
		wk := newWorker(f, tc.w, keys, 3)
		for range 200 {
			counted, err := wk.op(ctx)
			if err != nil || !counted {
				t.Fatalf("%s: counted %v, err %v", tc.w, counted, err)
			}
		}
		if tc.set > 0 && f.setValues[tc.set] != 200 {
			t.Errorf("%s: value lengths %v, want 200 of %d", tc.w, f.setValues, tc.set)
		}
		if tc.set == 0 && f.gets != 200 {
			t.Errorf("%s: %d GETs, want 200", tc.w, f.gets)
		}
		for k := range f.readKey {
			if !strings.HasPrefix(k, tc.prefix) {
				t.Errorf("%s read %q", tc.w, k)
			}
		}
		for k := range f.written {
			if !strings.HasPrefix(k, tc.prefix) {
				t.Errorf("%s wrote %q", tc.w, k)
			}
		}
	}

	f := newFake()
	wk := newWorker(f, LargeMix, keys, 5)
	const n = 100000
	uncounted := 0
	for range n {
		counted, err := wk.op(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !counted {
			uncounted++
		}
	}
	read1M := 0
	for k := range f.readKey {
		if strings.HasPrefix(k, "bench:r1m:") {
			read1M++
		}
	}
	if uncounted < 800 || uncounted > 1200 || f.sets != f.setValues[size1M] || f.sets < 400 || f.sets > 600 {
		t.Errorf("LARGEMIX: %d uncounted of %d, %d SETs (lengths %v); want about 1%%, half of them SETs of 1 MiB",
			uncounted, n, f.sets, f.setValues)
	}
	if read1M != keys1M {
		t.Errorf("LARGEMIX read %d of the %d 1 MiB keys", read1M, keys1M)
	}
}
