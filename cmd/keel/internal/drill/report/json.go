package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes r as indented JSON, the form docs/drill-report.md
// documents (schema "keel-drill/1"). Lists and maps that are empty are
// written as [] and {}, never null.
func WriteJSON(w io.Writer, r Report) error {
	if r.Schema == "" {
		r.Schema = reportSchema
	}
	if r.Machine == nil {
		r.Machine = map[string]string{}
	}
	if r.Clients == nil {
		r.Clients = []ClientInfo{}
	}
	if r.Scenarios == nil {
		r.Scenarios = []ScenarioInfo{}
	}
	runs := make([]Run, len(r.Runs)) // a copy: the caller's report is left as it is
	copy(runs, r.Runs)
	for i := range runs {
		run := &runs[i]
		if run.Figures.ErrorsByClass == nil {
			run.Figures.ErrorsByClass = map[string]int{}
		}
		if run.Figures.FailedReadsByClass == nil {
			run.Figures.FailedReadsByClass = map[string]int{}
		}
		if run.Shards == nil {
			run.Shards = []ShardFigures{}
		}
		tl := make([][]Bucket, len(run.Timeline))
		for j, b := range run.Timeline {
			if b == nil {
				b = []Bucket{}
			}
			tl[j] = b
		}
		run.Timeline = tl
		if run.Markers == nil {
			run.Markers = []MarkerJSON{}
		}
	}
	r.Runs = runs
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // the file is JSON, not HTML: keep "<" readable
	return enc.Encode(r)
}
