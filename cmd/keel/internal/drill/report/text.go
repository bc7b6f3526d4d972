package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// reportSchema is the schema a Report's JSON form carries.
const reportSchema = "keel-drill/1"

// rptWidth is the width the text summary aims to stay within.
const rptWidth = 100

// rptColumns are the summary table's columns after scenario and client:
// header, unit row and whether the column holds numbers (right-aligned).
var rptColumns = []struct{ head, unit string }{
	{"downtime", "ms"},
	{"errors", ""},
	{"failed", "reads"},
	{"healthy", ""},
	{"p99", "ms"},
	{"max", "ms"},
	{"lost", ""},
	{"dup", ""},
	{"leaked", ""},
	{"close", "ms"},
}

// rptLegend explains the summary table's columns, for the text and HTML
// reports alike.
var rptLegend = []string{
	"downtime: the client-added downtime of the worst shard, in ms. While the cluster itself " +
		"served a shard, it is the time from the client's first failed request to the first " +
		"success after which none failed. \"+\" marks a client that had not recovered when " +
		"the run ended: the figure is then a lower bound.",
	"errors: errors the client surfaced to its caller. failed reads: those of them on GETs, " +
		"which a write pause (a manual failover) must not fail. healthy: success rate on the " +
		"shards no step touched (— when every shard was touched).",
	"p99, max: latency of every request, failed or not, in ms. lost: acknowledged SETs and " +
		"INCRs missing afterwards (not those the server lost with a killed or demoted primary, " +
		"listed apart). dup: INCRs counted twice. leaked: goroutines still running " +
		"2 s after Close. close: how long Close took, in ms.",
}

// rptRow is one line of the summary table.
type rptRow struct {
	Scenario, Client string
	// Err is the run's error; Cells are then empty.
	Err string
	// Cells follow rptColumns.
	Cells []string
	// NotRecovered marks a downtime that is a lower bound.
	NotRecovered bool
}

// rptRows builds the summary table, a row per run in report order.
func rptRows(r Report) []rptRow {
	rows := make([]rptRow, 0, len(r.Runs))
	for _, run := range r.Runs {
		row := rptRow{Scenario: run.Scenario, Client: run.Client}
		if run.Error != "" {
			row.Err = run.Error
			rows = append(rows, row)
			continue
		}
		f := run.Figures
		row.NotRecovered = !f.Recovered
		row.Cells = []string{
			rptDowntime(f),
			strconv.Itoa(f.Errors),
			strconv.Itoa(f.FailedReads),
			rptAvail(f.HealthyAvailability),
			rptMS(f.P99MS),
			rptMS(f.MaxMS),
			strconv.Itoa(f.LostWrites + f.LostIncrs),
			strconv.Itoa(f.DuplicateIncrs),
			strconv.Itoa(f.GoroutinesLeft),
			rptMS(f.CloseMS),
		}
		rows = append(rows, row)
	}
	return rows
}

// rptServerLost says what the server lost, "" for nothing.
func rptServerLost(f Figures) string {
	if f.ServerLostWrites+f.ServerLostIncrs == 0 {
		return ""
	}
	return fmt.Sprintf("%d writes and %d INCRs lost by the server (acknowledged by the old primary, not replicated)", f.ServerLostWrites, f.ServerLostIncrs)
}

// rptMS formats milliseconds: one decimal below 10 ms, none above.
func rptMS(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) < 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// rptDowntime formats a run's downtime, "+" marking a lower bound.
func rptDowntime(f Figures) string {
	s := rptMS(f.DowntimeMS)
	if !f.Recovered {
		s += "+"
	}
	return s
}

// rptAvail formats a success ratio as a percentage, rounding down so that
// anything short of every request shows below 100%.
func rptAvail(v float64) string {
	switch {
	case v < 0 || math.IsNaN(v):
		return "—"
	case v >= 1:
		return "100%"
	}
	return strconv.FormatFloat(math.Floor(v*10000)/100, 'f', 2, 64) + "%"
}

// rptErrClasses lists a run's errors by class, most frequent first, e.g.
// "timeout 30, conn 7".
func rptErrClasses(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range m {
		if v > 0 {
			l = append(l, kv{k, v})
		}
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].v != l[j].v {
			return l[i].v > l[j].v
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.k + " " + strconv.Itoa(e.v)
	}
	return strings.Join(parts, ", ")
}

// rptOneLine collapses whitespace so that text fits on one line.
func rptOneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// rptWrap breaks prefix+s into lines of at most width runes where it can,
// the first starting with prefix as is and the others with indent.
func rptWrap(prefix, s string, width int, indent string) []string {
	var lines []string
	line, fresh := prefix, true
	for _, word := range strings.Fields(s) {
		switch {
		case fresh:
			line += word
			fresh = false
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width:
			lines = append(lines, line)
			line = indent + word
		default:
			line += " " + word
		}
	}
	if !fresh || (prefix != "" && len(lines) == 0) {
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// rptTitle is the report's one-line heading.
func rptTitle(r Report) string {
	var b strings.Builder
	b.WriteString("keel drill")
	if r.Mode != "" {
		b.WriteString(" (" + r.Mode + ")")
	}
	if !r.Started.IsZero() {
		b.WriteString(", " + r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	}
	fmt.Fprintf(&b, ": %d runs", len(r.Runs))
	s := r.Settings
	if s.Shards > 0 {
		fmt.Fprintf(&b, ", %d shard", s.Shards)
		if s.Shards != 1 {
			b.WriteString("s")
		}
		fmt.Fprintf(&b, " × %d replica", s.Replicas)
		if s.Replicas != 1 {
			b.WriteString("s")
		}
	}
	if s.TLS {
		b.WriteString(", over TLS")
	}
	if s.Rate > 0 {
		fmt.Fprintf(&b, ", %d req/s", s.Rate)
	}
	if s.RequestTimeout > 0 {
		fmt.Fprintf(&b, ", timeout %s ms", rptMS(s.RequestTimeout))
	}
	return b.String()
}

// WriteText writes the terminal summary of r: a table with a row per run,
// the clients' descriptions and a legend.
func WriteText(w io.Writer, r Report) error {
	rows := rptRows(r)
	ncol := 2 + len(rptColumns)

	// Right-align the numeric columns by padding them here; tabwriter then
	// only lays the columns out.
	cells := make([][]string, len(rows))
	nameW := [2]int{len("scenario"), len("client")}
	for i, row := range rows {
		nameW[0] = max(nameW[0], utf8.RuneCountInString(row.Scenario))
		nameW[1] = max(nameW[1], utf8.RuneCountInString(row.Client))
		cells[i] = row.Cells
	}
	widths := rptWidths(rptColumns, cells)
	pad := rptPadLeft

	bw := &rptErrWriter{w: w}
	bw.printf("%s\n\n", rptTitle(r))

	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	head := make([]string, 0, ncol)
	unit := make([]string, 0, ncol)
	head = append(head, "scenario", "client")
	unit = append(unit, "", "")
	for i, c := range rptColumns {
		head = append(head, pad(c.head, widths[i]))
		unit = append(unit, pad(c.unit, widths[i]))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	fmt.Fprintln(tw, strings.Join(unit, "\t"))

	var longErrs []rptRow
	errRoom := rptWidth - (nameW[0] + 2 + nameW[1] + 2)
	prev := ""
	for _, row := range rows {
		scen := row.Scenario
		if scen == prev {
			scen = "" // one name per group of runs reads better
		}
		prev = row.Scenario
		if row.Err != "" {
			msg := "error: " + rptOneLine(row.Err)
			if utf8.RuneCountInString(msg) > max(errRoom, 20) {
				longErrs = append(longErrs, row)
				msg = string([]rune(msg)[:max(errRoom, 20)-len(" (below)")-1]) + "… (below)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", scen, row.Client, msg)
			continue
		}
		cells := make([]string, len(row.Cells))
		for i, c := range row.Cells {
			cells[i] = pad(c, widths[i])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", scen, row.Client, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	for _, row := range longErrs {
		for _, l := range rptWrap("", row.Scenario+" / "+row.Client+": "+rptOneLine(row.Err), rptWidth, "    ") {
			bw.printf("%s\n", l)
		}
	}
	for _, run := range r.Runs {
		if n := run.Figures.ReadOnlyAfterServed; n > 0 && run.Error == "" {
			bw.printf("%s / %s: %d READONLY errors after the group served writes again\n", run.Scenario, run.Client, n)
		}
		if n := rptServerLost(run.Figures); n != "" && run.Error == "" {
			bw.printf("%s / %s: %s (not in \"lost\")\n", run.Scenario, run.Client, n)
		}
	}

	if len(r.Clients) > 0 {
		bw.printf("\n")
		w := 0
		for _, c := range r.Clients {
			w = max(w, utf8.RuneCountInString(c.Name))
		}
		indent := strings.Repeat(" ", w+4)
		for _, c := range r.Clients {
			name := c.Name + strings.Repeat(" ", w-utf8.RuneCountInString(c.Name))
			for _, l := range rptWrap("  "+name+"  ", c.Describe, rptWidth, indent) {
				bw.printf("%s\n", l)
			}
		}
	}

	bw.printf("\n")
	for _, para := range rptLegend {
		for _, l := range rptWrap("", para, rptWidth, "  ") {
			bw.printf("%s\n", l)
		}
	}
	writeDeliveryText(bw, r)
	writeSoakText(bw, r)
	return bw.err
}

// rptWidths returns the width of each numeric column: the widest of its
// header, unit and cells.
func rptWidths(columns []struct{ head, unit string }, cells [][]string) []int {
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = max(utf8.RuneCountInString(c.head), utf8.RuneCountInString(c.unit))
	}
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	return widths
}

// rptPadLeft right-aligns s in n runes.
func rptPadLeft(s string, n int) string {
	if k := n - utf8.RuneCountInString(s); k > 0 {
		return strings.Repeat(" ", k) + s
	}
	return s
}

// rptErrWriter keeps the first write error so that the writing code can
// ignore errors until the end.
type rptErrWriter struct {
	w   io.Writer
	err error
}

func (e *rptErrWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *rptErrWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
