package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The timeline chart: one panel per run of a scenario, each with a success
// strip and a log-scale p99 strip, lines per shard, and the run's markers.
// rptBuildChart lays it out; the draw functions below add one kind of thing
// each, in the order the SVG stacks them.

// rptBuildChart builds the chart of one scenario's runs.
func rptBuildChart(s Settings, scenario string, runs []Run) rptChart {
	c := rptChart{W: chartW, Label: "Timeline of " + scenario + ": success rate and p99 latency per shard, per client"}
	sc := newRptScale(s, runs)
	for i, run := range runs {
		y0 := chartTop + float64(i)*panelH
		c.Titles = append(c.Titles, rptText{X: chartML, Y: y0 + panelTitle, Class: "ptitle", Spans: rptPanelTitle(run)})
		c.drawAxes(sc, y0, s.RequestTimeout > 0)
		c.drawSeries(sc, y0, run)
		c.drawMarkers(sc, y0, run)
	}
	n := float64(len(runs))
	c.H = chartTop + n*panelH + chartBottom
	if len(runs) == 0 {
		c.H = 40
		c.Texts = append(c.Texts, rptText{X: chartW / 2, Y: 24, Anchor: "middle", Class: "nodata", Text: "no runs"})
		return c
	}
	c.Texts = append(c.Texts, rptText{X: chartML + chartPW/2, Y: c.H - 6, Anchor: "middle", Class: "xtitle",
		Text: "seconds from the fault (the first step) · one point per " + rptMS(sc.bw) + " ms bucket per shard · p99 on a log scale, clamped at " + rptMS(sc.hi) + " ms"})
	return c
}

// rptScale maps a scenario's times and values to chart coordinates; every
// panel of the chart shares it.
type rptScale struct {
	bw         float64   // bucket width, ms
	xmin, xmax float64   // x domain, ms from the fault
	lo, hi     float64   // latency domain, ms (log scale)
	step       float64   // x tick step, ms
	xticks     []float64 // x tick positions, ms from the fault
}

func newRptScale(s Settings, runs []Run) rptScale {
	sc := rptScale{bw: rptBucketMS(s, runs)}

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
				extend(tl[len(tl)-1].AtMS + sc.bw - run.FaultMS)
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
	sc.xmin, sc.xmax, sc.hi, sc.lo = xmin, xmax, hi, max(min(lo, hi/10), 0.001)

	sc.step = rptNiceStep((xmax-xmin)/1000, 12) * 1000
	for t := math.Ceil(xmin/sc.step) * sc.step; t <= xmax+1e-9; t += sc.step {
		sc.xticks = append(sc.xticks, t)
	}
	return sc
}

// x is the horizontal position of ms (from the fault).
func (sc rptScale) x(ms float64) float64 { return chartML + (ms-sc.xmin)/(sc.xmax-sc.xmin)*chartPW }

// ySucc is the height of a success ratio in the panel at y0: 100% sits 2
// units under the strip's top so the line shows.
func (sc rptScale) ySucc(y0, ratio float64) float64 {
	return y0 + panelSTop + 2 + (1-ratio)*(panelSH-4)
}

// yLat is the height of a latency v (ms) in the panel at y0, clamped to the
// latency domain.
func (sc rptScale) yLat(y0, v float64) float64 {
	v = min(max(v, sc.lo), sc.hi)
	f := (math.Log10(v) - math.Log10(sc.lo)) / (math.Log10(sc.hi) - math.Log10(sc.lo))
	return y0 + panelLTop + panelLH - 2 - f*(panelLH-4)
}

// drawAxes adds the panel at y0's strips, grid lines, tick labels and strip
// titles. limit marks the top of the latency strip as the request timeout.
func (c *rptChart) drawAxes(sc rptScale, y0 float64, limit bool) {
	c.Rects = append(c.Rects,
		rptRect{chartML, y0 + panelSTop, chartPW, panelSH, "strip"},
		rptRect{chartML, y0 + panelLTop, chartPW, panelLH, "strip"})
	for _, pct := range []float64{0, 0.5, 1} {
		y := sc.ySucc(y0, pct)
		c.Grid = append(c.Grid, rptLine{X1: chartML, Y1: y, X2: chartML + chartPW, Y2: y, Class: "grid"})
		c.Texts = append(c.Texts, rptText{X: chartML - 6, Y: y + 3.5, Anchor: "end", Class: "tick", Text: strconv.Itoa(int(pct*100)) + "%"})
	}
	yTop := sc.yLat(y0, sc.hi)
	for k := math.Round(math.Log10(sc.lo)); math.Pow(10, k) < sc.hi/1.0001; k++ {
		v := math.Pow(10, k)
		y := sc.yLat(y0, v)
		c.Grid = append(c.Grid, rptLine{X1: chartML, Y1: y, X2: chartML + chartPW, Y2: y, Class: "grid"})
		if y-yTop >= 14 {
			c.Texts = append(c.Texts, rptText{X: chartML - 6, Y: y + 3.5, Anchor: "end", Class: "tick", Text: rptLogTick(v)})
		}
	}
	top := rptLine{X1: chartML, Y1: yTop, X2: chartML + chartPW, Y2: yTop, Class: "grid"}
	if limit {
		top.Class, top.Title = "grid limit", "the request timeout: slower requests are drawn here"
	}
	c.Grid = append(c.Grid, top)
	c.Texts = append(c.Texts, rptText{X: chartML - 6, Y: yTop + 3.5, Anchor: "end", Class: "tick", Text: rptLogTick(sc.hi)})
	for _, t := range sc.xticks {
		x := sc.x(t)
		cls := "grid"
		if t == 0 {
			cls = "grid zero"
		}
		c.Grid = append(c.Grid,
			rptLine{X1: x, Y1: y0 + panelSTop, X2: x, Y2: y0 + panelSTop + panelSH, Class: cls},
			rptLine{X1: x, Y1: y0 + panelLTop, X2: x, Y2: y0 + panelLTop + panelLH, Class: cls},
			rptLine{X1: x, Y1: y0 + panelLTop + panelLH, X2: x, Y2: y0 + panelLTop + panelLH + 4, Class: "axis"})
		c.Texts = append(c.Texts, rptText{X: x, Y: y0 + panelTicks, Anchor: "middle", Class: "tick", Text: rptTick(t/1000, sc.step/1000)})
	}
	c.Texts = append(c.Texts,
		rptText{X: 14, Y: y0 + panelSTop + panelSH/2, Anchor: "middle", Class: "stitle", Rotate: true, Text: "success"},
		rptText{X: 14, Y: y0 + panelLTop + panelLH/2, Anchor: "middle", Class: "stitle", Rotate: true, Text: "p99 ms"})
}

// drawSeries adds one line per shard in each strip of run's panel at y0,
// or a "no requests recorded" note when it has none.
func (c *rptChart) drawSeries(sc rptScale, y0 float64, run Run) {
	drawn := false
	for sh, tl := range run.Timeline {
		succ, lat := sc.shardPaths(y0, run.FaultMS, tl)
		if succ == "" {
			continue
		}
		drawn = true
		title := run.Client + ", shard " + strconv.Itoa(sh)
		c.Paths = append(c.Paths,
			rptPath{D: succ, Stroke: rptShardColor(sh), Class: "series", Title: title + ": success rate"},
			rptPath{D: lat, Stroke: rptShardColor(sh), Class: "series", Title: title + ": p99 latency"})
	}
	if !drawn {
		c.Texts = append(c.Texts, rptText{X: chartML + chartPW/2, Y: y0 + panelSTop + panelSH/2 + 4, Anchor: "middle", Class: "nodata", Text: "no requests recorded"})
	}
}

// shardPaths returns the SVG paths of one shard's success rate and p99
// latency, with a gap where a bucket had no request. Success rates are
// steps, bucket by bucket; latencies join the buckets' middles, which reads
// better when they jitter.
func (sc rptScale) shardPaths(y0, faultMS float64, tl []Bucket) (succPath, latPath string) {
	var succ, lat strings.Builder
	var seg []rptBucket // the contiguous buckets of the latency line
	flush := func() {
		switch len(seg) {
		case 0:
		case 1:
			b := seg[0]
			fmt.Fprintf(&lat, "M%s %sH%s", rptNum(sc.x(b.at-faultMS)), rptNum(sc.yLat(y0, b.p99)), rptNum(sc.x(b.end-faultMS)))
		default:
			for i, b := range seg {
				cmd := "L"
				if i == 0 {
					cmd = "M"
				}
				fmt.Fprintf(&lat, "%s%s %s", cmd, rptNum(sc.x((b.at+b.end)/2-faultMS)), rptNum(sc.yLat(y0, b.p99)))
			}
		}
		seg = seg[:0]
	}
	prevEnd := math.NaN()
	for _, b := range rptMerge(tl, sc.bw, maxChartBuckets) {
		if b.n == 0 {
			prevEnd = math.NaN()
			continue
		}
		x0, x1 := sc.x(b.at-faultMS), sc.x(b.end-faultMS)
		ys := sc.ySucc(y0, float64(b.ok)/float64(b.n))
		if math.Abs(b.at-prevEnd) < sc.bw*1e-6 {
			fmt.Fprintf(&succ, "V%sH%s", rptNum(ys), rptNum(x1))
		} else {
			flush()
			fmt.Fprintf(&succ, "M%s %sH%s", rptNum(x0), rptNum(ys), rptNum(x1))
		}
		seg = append(seg, b)
		prevEnd = b.end
	}
	flush()
	return succ.String(), lat.String()
}

// drawMarkers adds run's markers to its panel at y0: steps in red, dashed
// and labelled where there is room; served in green, unserved in grey, with
// a dot in the shard's colour.
func (c *rptChart) drawMarkers(sc rptScale, y0 float64, run Run) {
	rowEnd := [2]float64{math.Inf(-1), math.Inf(-1)} // where each row of step labels is taken up to
	for _, m := range run.Markers {
		t := m.AtMS - run.FaultMS
		x := sc.x(t)
		title := rptMarkerTitle(m, t)
		bottom := y0 + panelLTop + panelLH
		switch m.Kind {
		case MarkStep:
			top := y0 + panelSTop
			if m.Label != "" {
				top = c.stepLabel(y0, x, m.Label, &rowEnd)
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

// stepLabel writes a step's label at x in the first of the panel's two label
// rows with room for it (none when both are taken there) and returns where
// the step's line starts: under its label, or at the success strip's top.
func (c *rptChart) stepLabel(y0, x float64, label string, rowEnd *[2]float64) float64 {
	w := 5.6*float64(len([]rune(label))) + 8
	lx, anchor, start := x+3, "start", x
	if lx+w > chartML+chartPW {
		lx, anchor, start = x-3, "end", x-w
	}
	for r, base := range []float64{panelBand1, panelBand2} {
		if start > rowEnd[r] {
			rowEnd[r] = start + w
			c.Texts = append(c.Texts, rptText{X: lx, Y: y0 + base, Anchor: anchor, Class: "mlabel", Text: label})
			return y0 + base - 9
		}
	}
	return y0 + panelSTop
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
