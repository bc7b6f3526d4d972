package conn

import (
	"testing"
	"time"
)

// Idle pings default to DefaultIdlePingInterval only when PingInterval is
// left zero: an interval the caller chose applies to idle connections too.
func TestIdlePingIntervalDefaults(t *testing.T) {
	cases := []struct {
		ping, idle         time.Duration
		wantPing, wantIdle time.Duration
	}{
		{0, 0, DefaultPingInterval, DefaultIdlePingInterval},
		{100 * time.Millisecond, 0, 100 * time.Millisecond, 100 * time.Millisecond},
		{-1, 0, -1, -1},
		{0, -1, DefaultPingInterval, -1},
		{-1, 20 * time.Millisecond, -1, 20 * time.Millisecond},
	}
	for _, tc := range cases {
		o := Options{PingInterval: tc.ping, IdlePingInterval: tc.idle}.withDefaults()
		if o.PingInterval != tc.wantPing || o.IdlePingInterval != tc.wantIdle {
			t.Errorf("PingInterval %v, IdlePingInterval %v: got %v and %v, want %v and %v",
				tc.ping, tc.idle, o.PingInterval, o.IdlePingInterval, tc.wantPing, tc.wantIdle)
		}
	}
	if DefaultIdlePingInterval <= 2*time.Second {
		t.Errorf("DefaultIdlePingInterval %v: want longer than the 2s after which Redis frees an idle client's query buffer", DefaultIdlePingInterval)
	}
}

// Without a health timeout the monitor looks at half the shorter ping
// interval, idle or busy, so that neither kind of PING is late.
func TestCheckPeriodFollowsTheShorterPing(t *testing.T) {
	cases := []struct {
		o    Options
		want time.Duration
	}{
		{Options{HealthTimeout: -1, PingInterval: -1, IdlePingInterval: 20 * time.Millisecond}, 10 * time.Millisecond},
		{Options{HealthTimeout: -1, PingInterval: 40 * time.Millisecond, IdlePingInterval: 5 * time.Second}, 20 * time.Millisecond},
		{Options{HealthTimeout: -1, PingInterval: -1, IdlePingInterval: -1}, time.Second},
		{Options{HealthTimeout: 500 * time.Millisecond, PingInterval: 10 * time.Millisecond}, 50 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := checkPeriod(tc.o); got != tc.want {
			t.Errorf("checkPeriod(%+v) = %v, want %v", tc.o, got, tc.want)
		}
	}
}
