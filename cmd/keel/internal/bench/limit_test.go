package bench

import (
	"math"
	"strings"
	"testing"
)

func TestParseRedisBenchmarkCSV(t *testing.T) {
	// What redis-benchmark 7.0 --cluster --csv prints: a blank line from
	// cluster mode, then the header and a line per test.
	out := "\n\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n" +
		"\"SET\",\"986193.25\",\"2.743\",\"0.200\",\"1.975\",\"5.647\",\"17.999\",\"60.127\"\n" +
		"\"GET\",\"761614.62\",\"3.012\",\"0.160\",\"1.927\",\"8.327\",\"18.191\",\"90.303\"\n"
	rates, err := parseRedisBenchmarkCSV([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if rates["SET"] != 986193.25 || rates["GET"] != 761614.62 || len(rates) != 2 {
		t.Errorf("rates %v", rates)
	}
	if _, err := parseRedisBenchmarkCSV([]byte("\"a\",\"b\n")); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestLimitPartsCoverEveryWorkload(t *testing.T) {
	for _, w := range Workloads {
		parts, counted := limitParts(w)
		if len(parts) == 0 || counted <= 0 || counted > 1 {
			t.Errorf("%s: parts %v, counted %v", w, parts, counted)
		}
		m := limitMethod(parts, counted)
		direct := isDirect(parts)
		if direct != strings.HasPrefix(m, "redis-benchmark --cluster") || direct == strings.HasPrefix(m, "raw pipelined load") {
			t.Errorf("%s: method %q", w, m)
		}
		var sum float64
		for _, p := range parts {
			sum += p.perOp
		}
		if want := float64(w.batchSize()); math.Abs(sum-want) > 1e-9 {
			t.Errorf("%s: %v commands per operation, want %v", w, sum, want)
		}
	}
}
