package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// sampleReport is a synthetic report: 2 scenarios × 2 clients, 3 shards,
// 300 buckets of 100 ms per run, with markers; the graceful-failover run
// of go-redis failed and the kill-primary run of go-redis never recovered.
// Its first scenario's description carries markup that must come out
// escaped.
func sampleReport() Report {
	start := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	const (
		shards   = 3
		buckets  = 300
		bucketMS = 100.0
		faultMS  = 5000.0
		rate     = 600 // per shard and second
	)
	perBucket := int(rate * bucketMS / 1000)

	// timeline builds one run's buckets; down(shard, at) gives the share of
	// failed requests and the p99 at that offset.
	timeline := func(until float64, down func(sh int, at float64) (fail, p99 float64)) ([][]Bucket, Figures, []ShardFigures) {
		tl := make([][]Bucket, shards)
		var f Figures
		f.ErrorsByClass = map[string]int{}
		f.FailedReadsByClass = map[string]int{}
		sf := make([]ShardFigures, shards)
		for sh := range shards {
			sf[sh] = ShardFigures{Shard: sh, Recovered: true}
			for i := range buckets {
				at := float64(i) * bucketMS
				if at >= until {
					break
				}
				b := Bucket{AtMS: at, P50MS: 0.2 + rng.Float64()*0.1, P99MS: 0.6 + rng.Float64()*0.8}
				fail, p99 := down(sh, at)
				errs := int(math.Round(fail * float64(perBucket)))
				if sh == 2 && i >= 120 && i < 124 {
					errs, b.OK = 0, 0 // no requests at all: the charts leave a gap
				} else {
					b.OK = perBucket - errs
				}
				if errs > 0 {
					b.Errors = map[string]int{"timeout": errs}
					f.ErrorsByClass["timeout"] += errs
				}
				if p99 > 0 {
					b.P99MS = p99
				}
				f.Requests += b.OK + errs
				f.Errors += errs
				sf[sh].Requests += b.OK + errs
				sf[sh].Errors += errs
				f.MaxMS = max(f.MaxMS, b.P99MS*1.2)
				tl[sh] = append(tl[sh], b)
			}
		}
		f.Recovered = true
		f.HealthyAvailability = 1
		f.P50MS, f.P99MS = 0.3, 1.4
		return tl, f, sf
	}
	window := func(from, to float64) func(int, float64) (float64, float64) {
		return func(sh int, at float64) (float64, float64) {
			if sh == 0 && at >= from && at < to {
				return 1, 500
			}
			return 0, 0
		}
	}
	marks := func(ms ...MarkerJSON) []MarkerJSON { return ms }
	mk := func(at float64, kind MarkerKind, shard int, label string) MarkerJSON {
		return MarkerJSON{AtMS: at, Marker: Marker{At: time.Duration(at * float64(time.Millisecond)), Kind: kind, Shard: shard, Label: label}}
	}

	r := Report{
		Schema:   "keel-drill/1",
		Mode:     "lab",
		Started:  start,
		Finished: start.Add(3 * time.Minute),
		Machine:  map[string]string{"os": "linux/amd64", "cpus": "2", "go": "go1.26", "redis": "7.0.15"},
		Settings: Settings{Rate: 1800, RequestTimeout: 500, BucketMS: bucketMS, Shards: shards, Replicas: 1,
			NodeTimeoutMS: 2000, Mix: "GET 50% / SET 30% / INCR 20%"},
		Clients: []ClientInfo{
			{Name: "keel", Describe: "keel (this module), default options"},
			{Name: "go-redis", Describe: "github.com/redis/go-redis/v9 v9.7.0 ClusterClient, default options: MaxRedirects 3, ReadTimeout 3s, RouteByLatency false"},
		},
		Scenarios: []ScenarioInfo{
			{Name: "graceful-failover", Description: "CLUSTER FAILOVER on shard 0's replica, as an operator would <script>alert(1)</script> & co."},
			{Name: "kill-primary", Description: "SIGKILL shard 0's primary; its replica takes over after cluster-node-timeout."},
		},
	}

	// graceful-failover / keel: a short dip on shard 0.
	tl, f, sf := timeline(buckets*bucketMS, window(5000, 5300))
	f.DowntimeMS, sf[0].DowntimeMS, sf[0].Touched = 310, 310, true
	f.CloseMS = 1.2
	r.Runs = append(r.Runs, Run{Scenario: "graceful-failover", Client: "keel", Started: start.Add(time.Second),
		DurationMS: buckets * bucketMS, FaultMS: faultMS, Figures: f, Shards: sf, Timeline: tl,
		Markers: marks(
			mk(5000, MarkStep, 0, "failover 127.0.0.1:7003"),
			mk(5250, MarkStepDone, 0, "failover 127.0.0.1:7003"),
			mk(5200, MarkServed, 0, "127.0.0.1:7003"))})

	// graceful-failover / go-redis: the step failed half way.
	tl, f, sf = timeline(12000, window(5000, 9000))
	r.Runs = append(r.Runs, Run{Scenario: "graceful-failover", Client: "go-redis", Started: start.Add(40 * time.Second),
		Error:      "step 1 (failover primary:0): CLUSTER FAILOVER: ERR You should send CLUSTER FAILOVER to a replica",
		DurationMS: 12000, FaultMS: faultMS, Figures: f, Shards: sf, Timeline: tl,
		Markers: marks(mk(5000, MarkStep, 0, "failover 127.0.0.1:7003"))})

	// kill-primary / keel: down until the replica is promoted, then back.
	kill := marks(
		mk(5000, MarkStep, 0, "kill 127.0.0.1:7000"),
		mk(5020, MarkStepDone, 0, "kill 127.0.0.1:7000"),
		mk(5020, MarkUnserved, 0, ""),
		mk(7400, MarkServed, 0, "127.0.0.1:7003"),
		mk(15000, MarkStep, -1, "restart 127.0.0.1:7000"),
		mk(15500, MarkStepDone, -1, "restart 127.0.0.1:7000"))
	tl, f, sf = timeline(buckets*bucketMS, window(5000, 7500))
	f.DowntimeMS, sf[0].DowntimeMS, sf[0].Touched = 120, 120, true
	f.HealthyAvailability = 0.99996
	f.CloseMS = 0.8
	r.Runs = append(r.Runs, Run{Scenario: "kill-primary", Client: "keel", Started: start.Add(80 * time.Second),
		DurationMS: buckets * bucketMS, FaultMS: faultMS, Figures: f, Shards: sf, Timeline: tl, Markers: kill})

	// kill-primary / go-redis: never recovers on shard 0.
	tl, f, sf = timeline(buckets*bucketMS, window(5000, math.Inf(1)))
	f.DowntimeMS, f.Recovered = 22600, false
	sf[0].DowntimeMS, sf[0].Recovered, sf[0].Touched = 22600, false, true
	f.LostWrites, f.LostIncrs, f.DuplicateIncrs, f.GoroutinesLeft, f.CloseMS = 2, 1, 1, 3, 5003
	f.ErrorsByClass["conn"] = 17
	f.Reads, f.FailedReads, f.FailedReadsByClass = 7000, 6, map[string]int{"conn": 4, "timeout": 2}
	r.Runs = append(r.Runs, Run{Scenario: "kill-primary", Client: "go-redis", Started: start.Add(120 * time.Second),
		DurationMS: buckets * bucketMS, FaultMS: faultMS, Figures: f, Shards: sf, Timeline: tl, Markers: kill})
	return r
}

func TestWriteTextReport(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Logf("\n%s", out)
	for _, want := range []string{
		"graceful-failover", "kill-primary", "keel", "go-redis",
		"error: step 1 (failover primary:0)",
		"keel (this module), default options",
		"downtime: the client-added downtime",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > rptWidth {
			t.Errorf("line %d is %d wide: %q", i+1, n, line)
		}
	}
	// The table rows, by scenario and client: a scenario's name is on its
	// first row only.
	rows := map[string][]string{}
	scen := ""
	table := strings.SplitN(out, "\n\n", 3)[1]
	for _, line := range strings.Split(table, "\n")[2:] {
		f := strings.Fields(line)
		if !strings.HasPrefix(line, " ") {
			scen, f = f[0], f[1:]
		}
		rows[scen+" "+f[0]] = f[1:]
	}
	checkRow := func(key string, want ...string) {
		t.Helper()
		if got := rows[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: row %q, want %q", key, got, want)
		}
	}
	checkRow("graceful-failover keel", "310", "180", "0", "100%", "1.4", "600", "0", "0", "0", "1.2")
	checkRow("kill-primary keel", "120", "1500", "0", "99.99%", "1.4", "600", "0", "0", "0", "0.8")
	checkRow("kill-primary go-redis", "22600+", "15000", "6", "100%", "1.4", "600", "3", "1", "3", "5003")
}

func TestTextReportFormats(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{-1, "—"}, {1, "100%"}, {0.99999, "99.99%"}, {0.5, "50.00%"}, {0, "0.00%"}} {
		if got := rptAvail(c.v); got != c.want {
			t.Errorf("rptAvail(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{0, "0"}, {0.25, "0.2"}, {9.96, "10.0"}, {10.4, "10"}, {2500.6, "2501"}, {math.NaN(), "—"}} {
		if got := rptMS(c.v); got != c.want {
			t.Errorf("rptMS(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	if got := rptDowntime(Figures{DowntimeMS: 3000, Recovered: false}); got != "3000+" {
		t.Errorf("not recovered downtime = %q", got)
	}
	if got := rptErrClasses(map[string]int{"conn": 3, "timeout": 7, "other": 0}); got != "timeout 7, conn 3" {
		t.Errorf("rptErrClasses = %q", got)
	}
}

func TestWriteJSONReport(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"schema": "keel-drill/1"`) {
		t.Errorf("JSON lacks the schema: %.200s", b.String())
	}
	if !strings.Contains(b.String(), "\n  \"mode\": \"lab\",\n") {
		t.Errorf("JSON is not indented: %.200s", b.String())
	}
	var got Report
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != r.Schema || got.Mode != r.Mode || !got.Started.Equal(r.Started) || !got.Finished.Equal(r.Finished) {
		t.Errorf("header: got %q %q %v %v", got.Schema, got.Mode, got.Started, got.Finished)
	}
	for name, pair := range map[string][2]any{
		"machine":   {got.Machine, r.Machine},
		"settings":  {got.Settings, r.Settings},
		"clients":   {got.Clients, r.Clients},
		"scenarios": {got.Scenarios, r.Scenarios},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: got %+v, want %+v", name, pair[0], pair[1])
		}
	}
	if len(got.Runs) != len(r.Runs) {
		t.Fatalf("%d runs, want %d", len(got.Runs), len(r.Runs))
	}
	for i, g := range got.Runs {
		w := r.Runs[i]
		if g.Scenario != w.Scenario || g.Client != w.Client || g.Error != w.Error || !g.Started.Equal(w.Started) ||
			g.DurationMS != w.DurationMS || g.FaultMS != w.FaultMS {
			t.Errorf("run %d: got %s/%s %q, want %s/%s %q", i, g.Scenario, g.Client, g.Error, w.Scenario, w.Client, w.Error)
		}
		if !reflect.DeepEqual(g.Figures, w.Figures) {
			t.Errorf("run %d figures: got %+v, want %+v", i, g.Figures, w.Figures)
		}
		if !reflect.DeepEqual(g.Shards, w.Shards) {
			t.Errorf("run %d shards differ", i)
		}
		if !reflect.DeepEqual(g.Timeline, w.Timeline) {
			t.Errorf("run %d timeline differs", i)
		}
		// Marker.At is not in the JSON: AtMS stands for it.
		wm := append([]MarkerJSON(nil), w.Markers...)
		for j := range wm {
			wm[j].At = 0
		}
		if !reflect.DeepEqual(g.Markers, wm) {
			t.Errorf("run %d markers: got %+v, want %+v", i, g.Markers, wm)
		}
	}
	// The description's markup stays readable in JSON.
	if !strings.Contains(b.String(), "<script>alert(1)</script> & co.") {
		t.Error("JSON escaped the description's markup")
	}
}

func TestWriteJSONReportEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, Report{Runs: []Run{{Scenario: "s", Client: "c", Timeline: [][]Bucket{nil}}}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, `"schema": "keel-drill/1"`) {
		t.Error("an empty report gets no schema")
	}
	if strings.Contains(out, "null") {
		t.Errorf("empty lists written as null:\n%s", out)
	}
}

func TestWriteHTMLReport(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()

	if n := strings.Count(out, "<svg"); n != len(r.Scenarios) {
		t.Errorf("%d <svg> elements, want one per scenario (%d)", n, len(r.Scenarios))
	}
	// Every SVG is well-formed XML on its own.
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(out, -1)
	for i, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("svg %d is not well-formed: %v", i, err)
			}
		}
	}
	// Per scenario: a panel per client, shard lines in their colours, the
	// markers.
	for _, want := range []string{
		`class="m-step"`, `class="m-done"`, `class="m-served"`, `class="m-unserved"`,
		`stroke="#1f77b4"`, `stroke="#ff7f0e"`, `stroke="#9467bd"`,
		">kill 127.0.0.1:7000</text>", ">failover 127.0.0.1:7003</text>",
		"≥22600, not recovered", "error: step 1 (failover primary:0)",
		"go1.26", "GET 50% / SET 30% / INCR 20%",
		"github.com/redis/go-redis/v9 v9.7.0 ClusterClient",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for i, s := range svgs {
		if n := strings.Count(s, `class="pname"`); n != 2 {
			t.Errorf("svg %d has %d client panels, want 2", i, n)
		}
		if n := strings.Count(s, `class="series"`); n != 2*2*3 {
			t.Errorf("svg %d has %d series, want 12 (2 clients × 3 shards × 2 strips)", i, n)
		}
	}
	// Buckets with no requests leave a gap: shard 2's lines restart.
	if !regexp.MustCompile(`d="M[^"]*M[^"]*" stroke="#9467bd"`).MatchString(out) {
		t.Error("shard 2's line has no gap where its buckets were empty")
	}
	// Self-contained: nothing loaded from elsewhere, no script at all.
	for _, bad := range []string{"<script", "<link", "<img", "@import", "url(", "src=", "ZgotmplZ"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	refs := regexp.MustCompile(`https?://[^\s"'<>]*`).FindAllString(out, -1)
	for _, ref := range refs {
		if ref != "http://www.w3.org/2000/svg" && !strings.HasPrefix(ref, "http://github.com") {
			t.Errorf("HTML refers to %s", ref)
		}
	}
	// Text from the report is escaped.
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co.") {
		t.Error("the scenario description is not escaped")
	}
}

func TestWriteHTMLReportEdgeCases(t *testing.T) {
	r := sampleReport()
	// A long timeline is merged into fewer points; no bucket width set.
	long := r.Runs[0]
	long.Timeline = make([][]Bucket, 1)
	for i := range 20000 {
		long.Timeline[0] = append(long.Timeline[0], Bucket{AtMS: float64(i) * 10, OK: 5, P99MS: 1 + float64(i%7)})
	}
	long.DurationMS = 200000
	long.Scenario = "watch"
	r.Settings.BucketMS = 0
	r.Settings.RequestTimeout = 0
	r.Runs = append(r.Runs, long, Run{Scenario: "empty", Client: "keel"})
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "<svg"); n != 4 {
		t.Errorf("%d charts, want 4 (two scenarios, then watch and empty, which only runs name)", n)
	}
	if !strings.Contains(out, "no requests recorded") {
		t.Error("a run without a timeline is not marked as such")
	}
	m := regexp.MustCompile(`<path d="([^"]*)"[^>]*><title>keel, shard 0: success rate`).FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatal("no line for the long run")
	}
	if n := strings.Count(m[len(m)-1][1], "H"); n > maxChartBuckets {
		t.Errorf("the long run's line has %d steps, want at most %d", n, maxChartBuckets)
	}

	// Nothing at all still makes a page, a table and a JSON document.
	for name, write := range map[string]func(io.Writer, Report) error{"html": WriteHTML, "text": WriteText, "json": WriteJSON} {
		if err := write(io.Discard, Report{}); err != nil {
			t.Errorf("%s of an empty report: %v", name, err)
		}
	}
}

func TestReportTicks(t *testing.T) {
	for _, c := range []struct {
		span, want float64
	}{{30, 2}, {25, 2}, {100, 10}, {3, 0.2}, {600, 50}} {
		if got := rptNiceStep(c.span, 12); got != c.want {
			t.Errorf("rptNiceStep(%v) = %v, want %v", c.span, got, c.want)
		}
	}
	if got := rptTick(-2, 2); got != "−2" {
		t.Errorf("rptTick(-2) = %q", got)
	}
	if got := rptTick(-0.0000001, 0.5); got != "0" {
		t.Errorf("rptTick(-0) = %q", got)
	}
	if got := rptTick(1.5, 0.5); got != "1.5" {
		t.Errorf("rptTick(1.5) = %q", got)
	}
}

// TestReportColoursInCheckScript keeps scripts/check-report.sh, which
// looks for the shard colours in its screenshot, in step with the palette.
func TestReportColoursInCheckScript(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "..", "scripts", "check-report.sh"))
	if err != nil {
		t.Skip(err)
	}
	m := regexp.MustCompile(`(?m)^COLOURS="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal(`scripts/check-report.sh sets no COLOURS="..."`)
	}
	for _, c := range strings.Split(string(m[1]), ",") {
		found := false
		for _, p := range rptShardColors {
			found = found || strings.EqualFold(c, p)
		}
		if !found {
			t.Errorf("check-report.sh looks for %s, which no shard is drawn in", c)
		}
	}
}

// TestWriteSampleHTML renders the sample report; with KEEL_DRILL_SAMPLE_HTML
// set it writes the page there (scripts/check-report.sh screenshots it).
func TestWriteSampleHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("KEEL_DRILL_SAMPLE_HTML"); path != "" {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, b.Len())
	}
}

func TestReportsShowReadOnlyAfterServed(t *testing.T) {
	r := sampleReport()
	r.Runs[0].Error = ""
	r.Runs[0].Figures.ReadOnlyAfterServed = 42
	text, html, _ := writeAll(t, r)
	want := r.Runs[0].Scenario + " / " + r.Runs[0].Client + ": 42 READONLY errors after the group served writes again"
	if !strings.Contains(text, want) {
		t.Errorf("text report lacks %q:\n%s", want, text)
	}
	if !strings.Contains(html, "42 READONLY after the group served again") {
		t.Error("HTML report lacks the READONLY count")
	}
	if strings.Count(text, "READONLY") != 1 {
		t.Errorf("text report mentions READONLY for runs without any:\n%s", text)
	}
}

func TestReportsShowServerLosses(t *testing.T) {
	r := sampleReport()
	r.Runs[0].Error = ""
	r.Runs[0].Figures.ServerLostWrites, r.Runs[0].Figures.ServerLostIncrs = 7, 3
	text, html, js := writeAll(t, r)
	const want = "7 writes and 3 INCRs lost by the server"
	if !strings.Contains(text, r.Runs[0].Scenario+" / "+r.Runs[0].Client+": "+want) {
		t.Errorf("text report lacks %q:\n%s", want, text)
	}
	if !strings.Contains(html, want) {
		t.Error("HTML report lacks the server's losses")
	}
	if !strings.Contains(js, `"server_lost_writes": 7`) || !strings.Contains(js, `"server_lost_incrs": 3`) {
		t.Errorf("JSON report lacks the server's losses:\n%s", js)
	}
	if strings.Count(text, "lost by the server") != 1 {
		t.Errorf("text report mentions server losses for runs without any:\n%s", text)
	}
}

func TestReportsShowFailedReads(t *testing.T) {
	r := sampleReport()
	text, html, js := writeAll(t, r)
	if !strings.Contains(text, "failed reads: those of them on GETs") {
		t.Error("text legend does not explain failed reads")
	}
	for _, want := range []string{"6 failed reads (conn 4, timeout 2)", "0 failed reads", "<th class=\"num\">failed<small>reads</small></th>"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	var back struct {
		Runs []struct {
			Figures map[string]json.RawMessage `json:"figures"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(js), &back); err != nil {
		t.Fatal(err)
	}
	want := []string{"0", "0", "0", "6"}
	for i, run := range back.Runs {
		if got := string(run.Figures["failed_reads"]); got != want[i] {
			t.Errorf("run %d: failed_reads %q, want %s", i, got, want[i])
		}
		if _, ok := run.Figures["failed_reads_by_class"]; !ok {
			t.Errorf("run %d: no failed_reads_by_class", i)
		}
	}
	if got := string(back.Runs[3].Figures["reads"]); got != "7000" {
		t.Errorf("reads %q, want 7000", got)
	}
}

// writeAll writes r as text, HTML and JSON.
func writeAll(t *testing.T, r Report) (text, html, js string) {
	t.Helper()
	var tb, hb, jb bytes.Buffer
	if err := WriteText(&tb, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&hb, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&jb, r); err != nil {
		t.Fatal(err)
	}
	return tb.String(), hb.String(), jb.String()
}
