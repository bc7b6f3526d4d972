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

func TestDeriveLimit(t *testing.T) {
	rate := func(test string, size int) float64 {
		switch {
		case test == "get" && size == 16:
			return 1000
		case test == "set" && size == 16:
			return 500
		case size == size1M:
			return 10
		}
		return 0
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9*b }
	for _, tc := range []struct {
		w    Workload
		want float64
	}{
		{Get, 1000}, {Set16, 500},
		{Mix, 1 / (0.9/1000 + 0.1/500)},
		{MGet10, 100}, {Pipe100, 10},
		{Get1M, 10}, {Set1M, 10},
		// Per counted (small) request: 0.99 of them, and 0.01 of 1 MiB.
		{LargeMix, 0.99 / (0.99/1000 + 0.01/10)},
		{Set1K, 0}, // no rate for 1 KiB: no limit rather than a wrong one
	} {
		parts, counted := limitParts(tc.w)
		if got := deriveLimit(parts, counted, rate); !near(got, tc.want) && got != tc.want {
			t.Errorf("%s: limit %v, want %v", tc.w, got, tc.want)
		}
	}
}

func TestLimitPartsCoverEveryWorkload(t *testing.T) {
	for _, w := range Workloads {
		parts, counted := limitParts(w)
		if len(parts) == 0 || counted <= 0 || counted > 1 {
			t.Errorf("%s: parts %v, counted %v", w, parts, counted)
		}
		m := limitMethod(parts, counted)
		direct := len(parts) == 1 && parts[0].perOp == 1
		if direct != strings.HasPrefix(m, "redis-benchmark --cluster") || direct == strings.HasPrefix(m, "derived") {
			t.Errorf("%s: method %q", w, m)
		}
	}
	if got := limitSizes(LargeMix); len(got) != 2 || got[0] != 16 || got[1] != size1M {
		t.Errorf("LARGEMIX sizes %v, want 16 and 1 MiB", got)
	}
}
