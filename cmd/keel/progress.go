package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// progress shows what the drill is doing: on a terminal, one line rewritten
// in place; otherwise (or with -quiet), one plain line per run.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	live  bool
	shown bool
}

func newProgress(w io.Writer, quiet bool) *progress {
	return &progress{w: w, live: !quiet && isTerminal(w)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(u drill.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Phase == "done" {
		p.clearLocked()
		fmt.Fprintf(p.w, "%-18s %-17s %s\n", u.Scenario, u.Client, runLine(u.Run))
		return
	}
	if !p.live {
		if u.Phase == "starting" {
			fmt.Fprintf(p.w, "%-18s %-17s starting\n", u.Scenario, u.Client)
		}
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%-18s %-17s %-9s %5.1fs/%v  ok %d  err %d",
		u.Scenario, u.Client, u.Phase, u.Elapsed.Seconds(), u.Max.Round(time.Second), u.OK, u.Errors)
	p.shown = true
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// runLine sums a finished run up in one line.
func runLine(r *report.Run) string {
	if r == nil {
		return "done"
	}
	if r.Error != "" {
		return "failed: " + r.Error
	}
	f := r.Figures
	rec := ""
	if !f.Recovered {
		rec = " (not recovered)"
	}
	return fmt.Sprintf("done in %.1fs: downtime %.0f ms%s, %d errors of %d requests",
		r.DurationMS/1000, f.DowntimeMS, rec, f.Errors, f.Requests)
}
