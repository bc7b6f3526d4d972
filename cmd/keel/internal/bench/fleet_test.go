package bench

import (
	"context"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/lab"
)

// A short fleet run of keel: in steady state each client asks for the full
// topology at most once per RefreshInterval; while a primary is down it
// asks at most about once a second, probing with ROLE in between; and
// every client writes to the failed range again after the failover.
func TestFleetKeelTopologyRates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and 50 clients")
	}
	lab.RequireRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const refresh = time.Second
	cfg := FleetConfig{Kinds: []string{Keel}, Clients: 50, Steady: 3 * time.Second,
		Incident: 2 * time.Second, KeelRefreshInterval: refresh}
	results, err := RunFleet(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	t.Logf("steady %v; incident %v; after %v; recovery p50 %v, max %v", r.Steady, r.Incident, r.After, r.RecoveryP50, r.RecoveryMax)
	// A window of W seconds holds at most W/refresh+1 refreshes per client.
	if limit := 1/refresh.Seconds() + 1/cfg.Steady.Seconds(); r.Steady.Full() > limit {
		t.Errorf("steady state: %.2f full queries per client per second, want at most %.2f", r.Steady.Full(), limit)
	}
	if r.Steady["role"] > 0 {
		t.Errorf("steady state: %.2f ROLE per client per second, want none", r.Steady["role"])
	}
	if limit := 1 + 1/cfg.Incident.Seconds(); r.Incident.Full() > limit {
		t.Errorf("incident: %.2f full queries per client per second, want at most %.2f", r.Incident.Full(), limit)
	}
	if r.Incident["role"] == 0 {
		t.Error("incident: no ROLE probes")
	}
	if r.Unrecovered > 0 {
		t.Errorf("%d of %d clients did not write to the failed range within %v of the failover", r.Unrecovered, r.Clients, recoveryLimit)
	}
}

func TestParseCommandStats(t *testing.T) {
	text := strings.Join([]string{"# Commandstats",
		"cmdstat_cluster|shards:calls=12,usec=300,usec_per_call=25.00,rejected_calls=0,failed_calls=0",
		"cmdstat_role:calls=7,usec=7,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
		"cmdstat_set:calls=99,usec=99,usec_per_call=1.00,rejected_calls=0,failed_calls=0", ""}, "\r\n")
	got := parseCommandStats(text)
	if len(got) != 2 || got["cluster|shards"] != 12 || got["role"] != 7 {
		t.Errorf("parseCommandStats = %v, want cluster|shards 12 and role 7 only", got)
	}
}

// Up to 100 clients write every 10 ms; a larger fleet writes less often
// each, so that the fleet's writes stay at 10,000 a second.
func TestDefaultWriteEvery(t *testing.T) {
	for clients, want := range map[int]time.Duration{1: 10 * time.Millisecond, 100: 10 * time.Millisecond,
		200: 20 * time.Millisecond, 500: 50 * time.Millisecond} {
		if got := DefaultWriteEvery(clients); got != want {
			t.Errorf("DefaultWriteEvery(%d) = %v, want %v", clients, got, want)
		}
	}
}

func TestParseServerCPU(t *testing.T) {
	text := "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:0.250000\r\nused_cpu_sys_children:9.000000\r\n"
	if got := parseServerCPU(text); got != 1750*time.Millisecond {
		t.Errorf("parseServerCPU = %v, want 1.75s (children not counted)", got)
	}
}

func TestQuantiles(t *testing.T) {
	before := &metrics.Float64Histogram{Counts: []uint64{5, 0, 0}, Buckets: []float64{0, 0.001, 0.01, 0.1}}
	after := &metrics.Float64Histogram{Counts: []uint64{5 + 97, 2, 1}, Buckets: before.Buckets}
	p50, p99 := quantiles(before, after)
	// The window's 100 samples: 97 up to 1 ms, 2 up to 10 ms, 1 up to 100 ms.
	if p50 != time.Millisecond || p99 != 100*time.Millisecond {
		t.Errorf("quantiles = %v, %v, want 1ms, 100ms (the window's counts only)", p50, p99)
	}
}
