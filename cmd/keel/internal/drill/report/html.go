package report

import (
	_ "embed"
	"fmt"
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
		Title     string
		Sub       string
		Machine   []rptKV
		Settings  []rptKV
		Clients   []ClientInfo
		Columns   []rptHead
		Rows      []rptHTMLRow
		Legend    []string
		Swatches  []rptSwatch
		Scenarios []rptScenario
	}
	rptKV      struct{ K, V string }
	rptHead    struct{ Head, Unit string }
	rptHTMLRow struct {
		rptRow
		First   bool // the first run of its scenario
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

// rptBucket is a timeline bucket, possibly several merged.
type rptBucket struct {
	at, end float64 // offsets from the run's start, ms
	ok, n   int
	p99     float64
}

// rptMerge turns a shard's timeline into at most maxN buckets, merging
// neighbours: counts add up, and the merged p99 is the worst one.
func rptMerge(tl []Bucket, bucketMS float64, maxN int) []rptBucket {
	k := 1
	if len(tl) > maxN {
		k = (len(tl) + maxN - 1) / maxN
	}
	out := make([]rptBucket, 0, (len(tl)+k-1)/k)
	for i := 0; i < len(tl); i += k {
		b := rptBucket{at: tl[i].AtMS}
		for _, t := range tl[i:min(i+k, len(tl))] {
			errs := 0
			for _, e := range t.Errors {
				errs += e
			}
			b.ok += t.OK
			b.n += t.OK + errs
			if t.OK+errs > 0 {
				b.p99 = max(b.p99, t.P99MS)
			}
			b.end = t.AtMS + bucketMS
		}
		out = append(out, b)
	}
	return out
}

// rptBucketMS is the timeline's bucket width: the settings', or else the
// spacing of the buckets themselves.
func rptBucketMS(s Settings, runs []Run) float64 {
	if s.BucketMS > 0 {
		return s.BucketMS
	}
	for _, run := range runs {
		for _, tl := range run.Timeline {
			if len(tl) > 1 && tl[1].AtMS > tl[0].AtMS {
				return tl[1].AtMS - tl[0].AtMS
			}
		}
	}
	return 100
}

// rptNiceStep is a round tick step giving about target ticks over span.
func rptNiceStep(span float64, target int) float64 {
	raw := span / float64(target)
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw*0.75 {
			return m * p
		}
	}
	return 10 * p
}

// rptTick labels a tick value v on an axis of the given step.
func rptTick(v, step float64) string {
	dec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Trim(s, "-0.") == "" {
		return "0"
	}
	return strings.Replace(s, "-", "−", 1)
}

// rptLogTick labels a latency tick in ms.
func rptLogTick(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func rptBuildChart(s Settings, scenario string, runs []Run) rptChart {
	c := rptChart{W: chartW, Label: "Timeline of " + scenario + ": success rate and p99 latency per shard, per client"}
	bw := rptBucketMS(s, runs)

	// The x domain, in ms from the fault, covers every run.
	xmin, xmax := math.Inf(1), math.Inf(-1)
	extend := func(v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xmin, xmax = min(xmin, v), max(xmax, v)
		}
	}
	// The latency domain: from a power of ten under the fastest p99 up to
	// the request timeout, where slower values are clamped.
	minP, maxP := math.Inf(1), 0.0
	for _, run := range runs {
		extend(-run.FaultMS)
		extend(run.DurationMS - run.FaultMS)
		for _, tl := range run.Timeline {
			if len(tl) > 0 {
				extend(tl[0].AtMS - run.FaultMS)
				extend(tl[len(tl)-1].AtMS + bw - run.FaultMS)
			}
			for _, b := range tl {
				if b.P99MS > 0 {
					minP, maxP = min(minP, b.P99MS), max(maxP, b.P99MS)
				}
			}
		}
		for _, m := range run.Markers {
			extend(m.AtMS - run.FaultMS)
		}
	}
	if math.IsInf(xmin, 0) {
		xmin, xmax = 0, 1000
	}
	if xmax-xmin < 1 {
		xmax = xmin + 1000
	}
	hi := s.RequestTimeout
	if hi <= 0 {
		hi = math.Pow(10, math.Ceil(math.Log10(max(maxP, 1))))
	}
	lo := hi / 1000
	if !math.IsInf(minP, 0) {
		lo = math.Pow(10, math.Floor(math.Log10(minP)))
	}
	lo = max(min(lo, hi/10), 0.001)

	xOf := func(ms float64) float64 { return chartML + (ms-xmin)/(xmax-xmin)*chartPW }
	// Success: 100% sits 2 units under the strip's top so the line shows.
	ySucc := func(y0, ratio float64) float64 {
		return y0 + panelSTop + 2 + (1-ratio)*(panelSH-4)
	}
	yLat := func(y0, v float64) float64 {
		v = min(max(v, lo), hi)
		f := (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
		return y0 + panelLTop + panelLH - 2 - f*(panelLH-4)
	}

	step := rptNiceStep((xmax-xmin)/1000, 12) * 1000
	var xticks []float64
	for t := math.Ceil(xmin/step) * step; t <= xmax+1e-9; t += step {
		xticks = append(xticks, t)
	}

	for i, run := range runs {
		y0 := chartTop + float64(i)*panelH
		c.Titles = append(c.Titles, rptText{X: chartML, Y: y0 + panelTitle, Class: "ptitle", Spans: rptPanelTitle(run)})

		// Strips, grid and axes.
		c.Rects = append(c.Rects,
			rptRect{chartML, y0 + panelSTop, chartPW, panelSH, "strip"},
			rptRect{chartML, y0 + panelLTop, chartPW, panelLH, "strip"})
		for _, pct := range []float64{0, 0.5, 1} {
			y := ySucc(y0, pct)
			c.Grid = append(c.Grid, rptLine{X1: chartML, Y1: y, X2: chartML + chartPW, Y2: y, Class: "grid"})
			c.Texts = append(c.Texts, rptText{X: chartML - 6, Y: y + 3.5, Anchor: "end", Class: "tick", Text: strconv.Itoa(int(pct*100)) + "%"})
		}
		yTop := yLat(y0, hi)
		for k := math.Round(math.Log10(lo)); math.Pow(10, k) < hi/1.0001; k++ {
			v := math.Pow(10, k)
			y := yLat(y0, v)
			c.Grid = append(c.Grid, rptLine{X1: chartML, Y1: y, X2: chartML + chartPW, Y2: y, Class: "grid"})
			if y-yTop >= 14 {
				c.Texts = append(c.Texts, rptText{X: chartML - 6, Y: y + 3.5, Anchor: "end", Class: "tick", Text: rptLogTick(v)})
			}
		}
		limit := rptLine{X1: chartML, Y1: yTop, X2: chartML + chartPW, Y2: yTop, Class: "grid"}
		if s.RequestTimeout > 0 {
			limit.Class, limit.Title = "grid limit", "the request timeout: slower requests are drawn here"
		}
		c.Grid = append(c.Grid, limit)
		c.Texts = append(c.Texts, rptText{X: chartML - 6, Y: yTop + 3.5, Anchor: "end", Class: "tick", Text: rptLogTick(hi)})
		for _, t := range xticks {
			x := xOf(t)
			cls := "grid"
			if t == 0 {
				cls = "grid zero"
			}
			c.Grid = append(c.Grid,
				rptLine{X1: x, Y1: y0 + panelSTop, X2: x, Y2: y0 + panelSTop + panelSH, Class: cls},
				rptLine{X1: x, Y1: y0 + panelLTop, X2: x, Y2: y0 + panelLTop + panelLH, Class: cls},
				rptLine{X1: x, Y1: y0 + panelLTop + panelLH, X2: x, Y2: y0 + panelLTop + panelLH + 4, Class: "axis"})
			c.Texts = append(c.Texts, rptText{X: x, Y: y0 + panelTicks, Anchor: "middle", Class: "tick", Text: rptTick(t/1000, step/1000)})
		}
		c.Texts = append(c.Texts,
			rptText{X: 14, Y: y0 + panelSTop + panelSH/2, Anchor: "middle", Class: "stitle", Rotate: true, Text: "success"},
			rptText{X: 14, Y: y0 + panelLTop + panelLH/2, Anchor: "middle", Class: "stitle", Rotate: true, Text: "p99 ms"})

		// One line per shard in each strip; a gap where a bucket had no
		// request. Success rates are steps, bucket by bucket; latencies
		// join the buckets' middles, which reads better when they jitter.
		drawn := false
		for sh, tl := range run.Timeline {
			var succ, lat strings.Builder
			var seg []rptBucket // the contiguous buckets of the latency line
			flush := func() {
				switch len(seg) {
				case 0:
				case 1:
					b := seg[0]
					fmt.Fprintf(&lat, "M%s %sH%s", rptNum(xOf(b.at-run.FaultMS)), rptNum(yLat(y0, b.p99)), rptNum(xOf(b.end-run.FaultMS)))
				default:
					for i, b := range seg {
						cmd := "L"
						if i == 0 {
							cmd = "M"
						}
						fmt.Fprintf(&lat, "%s%s %s", cmd, rptNum(xOf((b.at+b.end)/2-run.FaultMS)), rptNum(yLat(y0, b.p99)))
					}
				}
				seg = seg[:0]
			}
			prevEnd := math.NaN()
			for _, b := range rptMerge(tl, bw, maxChartBuckets) {
				if b.n == 0 {
					prevEnd = math.NaN()
					continue
				}
				x0, x1 := xOf(b.at-run.FaultMS), xOf(b.end-run.FaultMS)
				ys := ySucc(y0, float64(b.ok)/float64(b.n))
				if math.Abs(b.at-prevEnd) < bw*1e-6 {
					fmt.Fprintf(&succ, "V%sH%s", rptNum(ys), rptNum(x1))
				} else {
					flush()
					fmt.Fprintf(&succ, "M%s %sH%s", rptNum(x0), rptNum(ys), rptNum(x1))
				}
				seg = append(seg, b)
				prevEnd = b.end
			}
			flush()
			if succ.Len() == 0 {
				continue
			}
			drawn = true
			title := run.Client + ", shard " + strconv.Itoa(sh)
			c.Paths = append(c.Paths,
				rptPath{D: succ.String(), Stroke: rptShardColor(sh), Class: "series", Title: title + ": success rate"},
				rptPath{D: lat.String(), Stroke: rptShardColor(sh), Class: "series", Title: title + ": p99 latency"})
		}
		if !drawn {
			c.Texts = append(c.Texts, rptText{X: chartML + chartPW/2, Y: y0 + panelSTop + panelSH/2 + 4, Anchor: "middle", Class: "nodata", Text: "no requests recorded"})
		}

		// Markers: steps in red, dashed and labelled where there is room;
		// served in green, unserved in grey, with a dot in the shard's colour.
		var rowEnd [2]float64
		rowEnd[0], rowEnd[1] = math.Inf(-1), math.Inf(-1)
		for _, m := range run.Markers {
			t := m.AtMS - run.FaultMS
			x := xOf(t)
			title := rptMarkerTitle(m, t)
			bottom := y0 + panelLTop + panelLH
			switch m.Kind {
			case MarkStep:
				top := y0 + panelSTop
				if m.Label != "" {
					w := 5.6*float64(len([]rune(m.Label))) + 8
					lx, anchor, start := x+3, "start", x
					if lx+w > chartML+chartPW {
						lx, anchor, start = x-3, "end", x-w
					}
					for r, base := range []float64{panelBand1, panelBand2} {
						if start > rowEnd[r] {
							rowEnd[r] = start + w
							top = y0 + base - 9
							c.Texts = append(c.Texts, rptText{X: lx, Y: y0 + base, Anchor: anchor, Class: "mlabel", Text: m.Label})
							break
						}
					}
				}
				c.Marks = append(c.Marks, rptLine{X1: x, Y1: top, X2: x, Y2: bottom, Class: "m-step", Title: title})
			case MarkStepDone:
				c.Marks = append(c.Marks, rptLine{X1: x, Y1: y0 + panelSTop, X2: x, Y2: bottom, Class: "m-done", Title: title})
			case MarkServed, MarkUnserved:
				cls := "m-served"
				if m.Kind == MarkUnserved {
					cls = "m-unserved"
				}
				c.Marks = append(c.Marks, rptLine{X1: x, Y1: y0 + panelSTop, X2: x, Y2: bottom, Class: cls, Title: title})
				c.Dots = append(c.Dots, rptDot{X: x, Y: y0 + panelSTop, R: 3, Fill: rptShardColor(m.Shard), Title: title})
			default:
				c.Marks = append(c.Marks, rptLine{X1: x, Y1: y0 + panelSTop, X2: x, Y2: bottom, Class: "m-other", Title: title})
			}
		}
	}
	n := float64(len(runs))
	c.H = chartTop + n*panelH + chartBottom
	if len(runs) == 0 {
		c.H = 40
		c.Texts = append(c.Texts, rptText{X: chartW / 2, Y: 24, Anchor: "middle", Class: "nodata", Text: "no runs"})
		return c
	}
	c.Texts = append(c.Texts, rptText{X: chartML + chartPW/2, Y: c.H - 6, Anchor: "middle", Class: "xtitle",
		Text: "seconds from the fault (the first step) · one point per " + rptMS(bw) + " ms bucket per shard · p99 on a log scale, clamped at " + rptMS(hi) + " ms"})
	return c
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
	return append(spans, rptSpan{"psum", " · " + errs + " · p99 " + rptMS(f.P99MS) + " ms · max " + rptMS(f.MaxMS) + " ms"})
}

func rptMarkerTitle(m MarkerJSON, t float64) string {
	s := string(m.Kind) + " at " + strings.Replace(strconv.FormatFloat(t/1000, 'f', 2, 64), "-", "−", 1) + " s"
	if m.Shard >= 0 {
		s += ", shard " + strconv.Itoa(m.Shard)
	}
	if m.Label != "" {
		s += ": " + m.Label
	}
	return s
}

func rptShardsText(s Settings) string {
	t := strconv.Itoa(s.Shards) + ", " + strconv.Itoa(s.Replicas) + " replica"
	if s.Replicas != 1 {
		t += "s"
	}
	return t + " each"
}
