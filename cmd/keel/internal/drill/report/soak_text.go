package report

import (
	"fmt"
	"slices"
	"strings"
)

// writeSoakText writes soakLines after the summary.
func writeSoakText(bw *rptErrWriter, r Report) {
	for _, l := range soakLines(r) {
		if strings.HasPrefix(l, "soak ") {
			bw.printf("\n")
		}
		bw.printf("%s\n", l)
	}
}

// soakLines describes, per soak run, the faults injected, the audit's
// losses split by forced faults, and the resources sampled.
func soakLines(r Report) []string {
	var out []string
	for _, run := range r.Runs {
		s := run.Soak
		if s == nil {
			continue
		}
		f := run.Figures
		covered := 0.0
		if n := len(run.Shards); n > 0 && run.DurationMS > 0 {
			covered = 100 * s.ForcedWindowMS / (run.DurationMS * float64(n))
		}
		out = append(out,
			fmt.Sprintf("soak %s (seed %d, faults for %.0f s): %s", run.Client, s.Seed, s.DurationMS/1000, soakFaultsText(s.Faults)),
			fmt.Sprintf("  lost acknowledged writes: %d outside forced faults, %d within them (%d SETs, %d INCRs; %d windows covering %.0f%% of the shards' time); duplicated INCRs: %d",
				f.LostWrites+f.LostIncrs, f.ServerLostWrites+f.ServerLostIncrs, f.ServerLostWrites, f.ServerLostIncrs,
				s.ForcedWindows, covered, f.DuplicateIncrs),
			fmt.Sprintf("  goroutines %s; client heap %s; process heap %s",
				seriesText(s.Goroutines, 1, ""), seriesText(s.ClientHeap, 1<<20, " MiB"), seriesText(s.Heap, 1<<20, " MiB")))
		if n := len(s.FailedSteps); n > 0 {
			out = append(out, fmt.Sprintf("  %d steps failed, the soak went on once the cluster settled; the first: %s", n, s.FailedSteps[0]))
		}
	}
	return out
}

func soakFaultsText(faults map[string]int) string {
	var parts []string
	for k, n := range faults {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// seriesText writes a series as "first → last (max M)", in unit, with
// "GREW" when it grew beyond its allowance.
func seriesText(s Series, unit float64, suffix string) string {
	if s.Samples == 0 {
		return "not sampled"
	}
	v := func(x int64) string {
		if unit == 1 {
			return fmt.Sprint(x)
		}
		return fmt.Sprintf("%.1f", float64(x)/unit)
	}
	out := fmt.Sprintf("%s → %s%s (max %s)", v(s.First), v(s.Last), suffix, v(s.Max))
	if s.Grew {
		out += " GREW"
	}
	return out
}
