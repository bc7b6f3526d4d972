package report

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// rptDeliveryColumns are the delivery table's columns after scenario,
// client and probe.
var rptDeliveryColumns = []struct{ head, unit string }{
	{"gap", "ms"},
	{"missed", ""},
	{"lost", ""},
	{"dup", ""},
	{"errors", ""},
	{"received", ""},
}

// rptDeliveryLegend explains the delivery table, for the text and HTML
// reports alike.
var rptDeliveryLegend = []string{
	"delivery: an independent publisher (PUBLISH / SPUBLISH) or producer (RPUSH / XADD) sent a " +
		"sequence-numbered message or item every 5 ms to the shard the scenario acts on. gap: " +
		"from the cluster serving that shard again (the watcher's first served mark after the " +
		"step that names a new node) to the first message or item the client received after " +
		"it, in ms; \"+\" marks a client that received nothing more before the run ended; — " +
		"when the shard was not served again.",
	"missed (Pub/Sub): acknowledged messages never received, counted from the first one " +
		"received; Pub/Sub stores nothing, so this is informative. lost (BLPOP, XREADGROUP): " +
		"acknowledged items never consumed and not left undelivered at the end. dup: messages " +
		"or items received more than once. errors: errors the client returned to the loop. " +
		"received: distinct messages or items received / acknowledged by the server.",
}

// rptDeliveryRow is one line of the delivery table.
type rptDeliveryRow struct {
	Scenario, Client, Probe string
	Err                     string
	Cells                   []string
	NotRecovered            bool
}

// rptDeliveryRows builds the delivery table: a row per probe of every run
// that has some, in report order. It is empty when no run has probes.
func rptDeliveryRows(r Report) []rptDeliveryRow {
	var rows []rptDeliveryRow
	for _, run := range r.Runs {
		for _, d := range run.Delivery {
			row := rptDeliveryRow{Scenario: run.Scenario, Client: run.Client, Probe: d.Probe}
			if d.Error != "" {
				row.Err = d.Error
				rows = append(rows, row)
				continue
			}
			gap := "—"
			if d.ServedAgainMS >= 0 {
				gap = rptMS(d.GapMS)
				if !d.Recovered {
					gap += "+"
				}
			}
			missed, lost := strconv.Itoa(d.Missed), strconv.Itoa(d.Lost)
			if d.Probe == "blpop" || d.Probe == "xreadgroup" {
				missed = "—"
			} else {
				lost = "—"
			}
			row.NotRecovered = d.ServedAgainMS >= 0 && !d.Recovered
			row.Cells = []string{gap, missed, lost, strconv.Itoa(d.Duplicates), strconv.Itoa(d.Errors),
				strconv.Itoa(d.Received) + "/" + strconv.Itoa(d.Sent)}
			rows = append(rows, row)
		}
	}
	return rows
}

// writeDeliveryText writes the delivery table and its legend, when some
// run has probes.
func writeDeliveryText(bw *rptErrWriter, r Report) {
	rows := rptDeliveryRows(r)
	if len(rows) == 0 {
		return
	}
	cells := make([][]string, len(rows))
	for i, row := range rows {
		cells[i] = row.Cells
	}
	widths := rptWidths(rptDeliveryColumns, cells)
	pad := rptPadLeft
	bw.printf("\nsubscribers and consumers\n\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	head := []string{"scenario", "client", "probe"}
	unit := []string{"", "", ""}
	for i, c := range rptDeliveryColumns {
		head = append(head, pad(c.head, widths[i]))
		unit = append(unit, pad(c.unit, widths[i]))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	fmt.Fprintln(tw, strings.Join(unit, "\t"))
	prevScen, prevClient := "", ""
	for _, row := range rows {
		scen, client := row.Scenario, row.Client
		if scen == prevScen {
			scen = ""
			if client == prevClient {
				client = ""
			}
		}
		prevScen, prevClient = row.Scenario, row.Client
		if row.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\terror: %s\n", scen, client, row.Probe, rptOneLine(row.Err))
			continue
		}
		cells := make([]string, len(row.Cells))
		for i, c := range row.Cells {
			cells[i] = pad(c, widths[i])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", scen, client, row.Probe, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
	bw.printf("\n")
	for _, para := range rptDeliveryLegend {
		for _, l := range rptWrap("", para, rptWidth, "  ") {
			bw.printf("%s\n", l)
		}
	}
}
