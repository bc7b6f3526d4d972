package report

import (
	_ "embed"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var rptHTMLSource string

var rptHTMLTemplate = template.Must(template.New("report").
	Funcs(template.FuncMap{"n": rptNum}).
	Parse(rptHTMLSource))

// rptShardColors are the colours of the shards' lines, cycled when there
// are more shards. scripts/check-report.sh looks for the first three in its
// screenshot: keep the two in step. Red and green are left out: they mark
// steps and served events.
var rptShardColors = []string{
	"#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#393b79",
}

func rptShardColor(i int) string {
	if i < 0 {
		return "#6e7781"
	}
	return rptShardColors[i%len(rptShardColors)]
}

// The timeline chart's geometry, in viewBox units. Every client gets a
// panel: a title line, a band for step labels, the success strip and the
// latency strip, with tick labels under it.
const (
	chartW      = 960.0
	chartML     = 66.0 // left margin: y tick labels and strip titles
	chartMR     = 14.0
	chartPW     = chartW - chartML - chartMR
	chartTop    = 6.0
	panelTitle  = 14.0 // baseline of the panel's title
	panelBand1  = 30.0 // baselines of the two rows of step labels
	panelBand2  = 41.0
	panelSTop   = 47.0 // success strip
	panelSH     = 88.0
	panelLTop   = panelSTop + panelSH + 8 // latency strip
	panelLH     = 76.0
	panelTicks  = panelLTop + panelLH + 13 // baseline of the x tick labels
	panelH      = panelTicks + 16
	chartBottom = 18.0 // the x axis title
	// maxChartBuckets bounds the points drawn per line: longer timelines
	// are merged into coarser buckets.
	maxChartBuckets = 880
)

// View model of the HTML page: everything is computed here, and the
// template only prints (and escapes) it.
type (
	rptPage struct {
		Title    string
		Sub      string
		Machine  []rptKV
		Settings []rptKV
		Clients  []ClientInfo
		Columns  []rptHead
		Rows     []rptHTMLRow
		Legend   []string
		// The subscribers' and consumers' table, empty when no run has probes.
		DeliveryColumns []rptHead
		DeliveryRows    []rptHTMLDeliveryRow
		DeliveryLegend  []string
		Swatches        []rptSwatch
		Scenarios       []rptScenario
		// The chaos soaks' figures, as the text summary writes them.
		Soak []string
	}
	rptKV      struct{ K, V string }
	rptHead    struct{ Head, Unit string }
	rptHTMLRow struct {
		rptRow
		First   bool // the first run of its scenario
		ErrSpan int
	}
	rptHTMLDeliveryRow struct {
		rptDeliveryRow
		First   bool // the first probe of its scenario
		ErrSpan int
	}
	rptSwatch struct {
		Name, Color string
	}
	rptScenario struct {
		ID, Name, Description string
		Chart                 rptChart
		Shards                []rptShardRow
	}
	rptShardRow struct {
		Client, Color                  string
		Shard                          int
		Touched, Downtime, Success     string
		Requests, Errors               int
		NotRecovered, FirstOfTheClient bool
	}
	rptChart struct {
		W, H   float64
		Label  string
		Rects  []rptRect
		Grid   []rptLine
		Paths  []rptPath
		Marks  []rptLine
		Dots   []rptDot
		Texts  []rptText
		Titles []rptText
	}
	rptRect struct {
		X, Y, W, H float64
		Class      string
	}
	rptLine struct {
		X1, Y1, X2, Y2 float64
		Class, Title   string
	}
	rptPath struct {
		D, Stroke, Class, Title string
	}
	rptDot struct {
		X, Y, R     float64
		Fill, Title string
	}
	rptText struct {
		X, Y          float64
		Anchor, Class string
		Rotate        bool
		Text          string
		Spans         []rptSpan
	}
	rptSpan struct{ Class, Text string }
)

// rptNum prints a coordinate with one decimal at most.
func rptNum(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// WriteHTML writes r as one self-contained HTML page: the summary table,
// and per scenario a timeline chart of every client's per-shard success
// rate and latency against the fault markers, as inline SVG. The page
// loads nothing: no script, font, style sheet or image from elsewhere.
func WriteHTML(w io.Writer, r Report) error {
	return rptHTMLTemplate.Execute(w, rptBuildPage(r))
}

func rptBuildPage(r Report) rptPage {
	p := rptPage{
		Title:   "keel drill report",
		Sub:     rptSub(r),
		Clients: r.Clients,
		Legend:  rptLegend,
	}
	for k, v := range r.Machine {
		p.Machine = append(p.Machine, rptKV{k, v})
	}
	sort.Slice(p.Machine, func(i, j int) bool { return p.Machine[i].K < p.Machine[j].K })
	p.Settings = rptSettings(r.Settings)
	for _, c := range rptColumns {
		p.Columns = append(p.Columns, rptHead{c.head, c.unit})
	}
	prev := ""
	for i, row := range rptRows(r) {
		if row.NotRecovered && row.Err == "" {
			row.Cells[0] = "≥" + rptMS(r.Runs[i].Figures.DowntimeMS) + ", not recovered"
		}
		p.Rows = append(p.Rows, rptHTMLRow{rptRow: row, First: i == 0 || row.Scenario != prev, ErrSpan: len(rptColumns)})
		prev = row.Scenario
	}
	prev, prevClient := "", ""
	for _, row := range rptDeliveryRows(r) {
		if row.NotRecovered {
			row.Cells[0] = "≥" + strings.TrimSuffix(row.Cells[0], "+") + ", nothing received after"
		}
		first := row.Scenario != prev
		client := row.Client
		if !first && client == prevClient {
			row.Client = "" // one name per client's group of probes
		}
		p.DeliveryRows = append(p.DeliveryRows, rptHTMLDeliveryRow{rptDeliveryRow: row,
			First: first, ErrSpan: len(rptDeliveryColumns)})
		prev, prevClient = row.Scenario, client
	}
	p.Soak = soakLines(r)
	if len(p.DeliveryRows) > 0 {
		for _, c := range rptDeliveryColumns {
			p.DeliveryColumns = append(p.DeliveryColumns, rptHead{c.head, c.unit})
		}
		p.DeliveryLegend = rptDeliveryLegend
	}
	for i := 0; i < rptShardCount(r); i++ {
		p.Swatches = append(p.Swatches, rptSwatch{"shard " + strconv.Itoa(i), rptShardColor(i)})
	}

	// Scenarios in the report's order, then any that only runs name.
	scens := append([]ScenarioInfo(nil), r.Scenarios...)
	known := map[string]bool{}
	for _, s := range scens {
		known[s.Name] = true
	}
	for _, run := range r.Runs {
		if !known[run.Scenario] {
			known[run.Scenario] = true
			scens = append(scens, ScenarioInfo{Name: run.Scenario})
		}
	}
	for i, s := range scens {
		var runs []Run
		for _, run := range r.Runs {
			if run.Scenario == s.Name {
				runs = append(runs, run)
			}
		}
		p.Scenarios = append(p.Scenarios, rptScenario{
			ID:          "s" + strconv.Itoa(i+1),
			Name:        s.Name,
			Description: s.Description,
			Chart:       rptBuildChart(r.Settings, s.Name, runs),
			Shards:      rptShardRows(runs),
		})
	}
	return p
}

func rptSub(r Report) string {
	var parts []string
	if r.Mode != "" {
		parts = append(parts, r.Mode+" mode")
	}
	if !r.Started.IsZero() {
		parts = append(parts, "started "+r.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
		if r.Finished.After(r.Started) {
			parts = append(parts, "took "+r.Finished.Sub(r.Started).Round(time.Second).String())
		}
	}
	parts = append(parts, strconv.Itoa(len(r.Scenarios))+" scenarios", strconv.Itoa(len(r.Clients))+" clients", strconv.Itoa(len(r.Runs))+" runs")
	return strings.Join(parts, " · ")
}

func rptSettings(s Settings) []rptKV {
	kv := []rptKV{
		{"request rate", strconv.Itoa(s.Rate) + " req/s, open loop"},
		{"request timeout", rptMS(s.RequestTimeout) + " ms"},
		{"timeline bucket", rptMS(s.BucketMS) + " ms"},
		{"shards", rptShardsText(s)},
	}
	if s.NodeTimeoutMS > 0 {
		kv = append(kv, rptKV{"cluster-node-timeout", rptMS(s.NodeTimeoutMS) + " ms"})
	} else {
		kv = append(kv, rptKV{"cluster-node-timeout", "unknown"})
	}
	if s.Mix != "" {
		kv = append(kv, rptKV{"mix", s.Mix})
	}
	if s.TLS {
		kv = append(kv, rptKV{"transport", "TLS (clients, cluster bus, replication)"})
	}
	return kv
}

func rptShardCount(r Report) int {
	n := r.Settings.Shards
	for _, run := range r.Runs {
		n = max(n, len(run.Timeline), len(run.Shards))
	}
	return n
}

func rptShardRows(runs []Run) []rptShardRow {
	var rows []rptShardRow
	for _, run := range runs {
		for i, s := range run.Shards {
			row := rptShardRow{
				Client: run.Client, Color: rptShardColor(s.Shard), Shard: s.Shard,
				Touched: "no", Downtime: rptMS(s.DowntimeMS), Requests: s.Requests, Errors: s.Errors,
				Success: "—", NotRecovered: !s.Recovered, FirstOfTheClient: i == 0,
			}
			if s.Touched {
				row.Touched = "yes"
			}
			if !s.Recovered {
				row.Downtime = "≥" + row.Downtime + ", not recovered"
			}
			if s.Requests > 0 {
				row.Success = rptAvail(float64(s.Requests-s.Errors) / float64(s.Requests))
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func rptPanelTitle(run Run) []rptSpan {
	spans := []rptSpan{{"pname", run.Client}}
	if run.Error != "" {
		msg := rptOneLine(run.Error)
		if r := []rune(msg); len(r) > 110 {
			msg = string(r[:109]) + "…"
		}
		return append(spans, rptSpan{"bad", "  error: " + msg})
	}
	f := run.Figures
	if f.Recovered {
		spans = append(spans, rptSpan{"psum", "  downtime " + rptMS(f.DowntimeMS) + " ms"})
	} else {
		spans = append(spans, rptSpan{"bad", "  downtime ≥" + rptMS(f.DowntimeMS) + " ms, not recovered"})
	}
	errs := strconv.Itoa(f.Errors) + " errors"
	if f.Errors == 1 {
		errs = "1 error"
	}
	if cl := rptErrClasses(f.ErrorsByClass); cl != "" {
		errs += " (" + cl + ")"
	}
	reads := strconv.Itoa(f.FailedReads) + " failed reads"
	if f.FailedReads == 1 {
		reads = "1 failed read"
	}
	if cl := rptErrClasses(f.FailedReadsByClass); cl != "" {
		reads += " (" + cl + ")"
	}
	errs += " · " + reads
	if f.ReadOnlyAfterServed > 0 {
		errs += " · " + strconv.Itoa(f.ReadOnlyAfterServed) + " READONLY after the group served again"
	}
	if n := rptServerLost(f); n != "" {
		errs += " · " + n
	}
	return append(spans, rptSpan{"psum", " · " + errs + " · p99 " + rptMS(f.P99MS) + " ms · max " + rptMS(f.MaxMS) + " ms"})
}

func rptShardsText(s Settings) string {
	t := strconv.Itoa(s.Shards) + ", " + strconv.Itoa(s.Replicas) + " replica"
	if s.Replicas != 1 {
		t += "s"
	}
	return t + " each"
}
