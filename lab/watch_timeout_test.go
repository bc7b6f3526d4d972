package lab

import (
	"testing"
	"time"
)

// A node's single timed-out round is held back; a second one in a row is
// recorded from the first, and any answer clears the doubt.
func TestTimeoutFilter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ok, timedOut := probeResult{ok: true}, probeResult{timedOut: true}
	refused := probeResult{} // failed at once: a refusal is news at once
	var f timeoutFilter
	steps := []struct {
		r      probeResult
		now    int
		wantAt int
		wantOK bool
	}{
		{ok, 0, 0, true},
		{timedOut, 110, 0, false},  // held back
		{ok, 130, 130, true},       // the node answered: the doubt is gone
		{timedOut, 240, 0, false},  // held back again
		{timedOut, 350, 240, true}, // confirmed, dated from the first
		{timedOut, 460, 240, true}, // still the same outage
		{refused, 470, 470, true},
		{timedOut, 580, 0, false},
	}
	for i, s := range steps {
		got, gotOK := f.date(s.r, at(s.now))
		if gotOK != s.wantOK || (gotOK && !got.Equal(at(s.wantAt))) {
			t.Fatalf("step %d: date = %v, %v; want %v, %v", i, got.Sub(t0), gotOK, time.Duration(s.wantAt)*time.Millisecond, s.wantOK)
		}
	}
}

// A primary's timeout confirmed late is dated from its first timeout, but
// the replica that took over in between is dated from when it was seen
// serving, not earlier.
func TestConfirmedTimeoutDatesTheNewServer(t *testing.T) {
	w := newWatcher(WatchOptions{Slots: []int{0}})
	defer w.cancel()
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	serving := probeResult{ok: true, serving: []bool{true}}
	replica := probeResult{ok: true, serving: []bool{false}}
	timedOut := probeResult{timedOut: true, serving: []bool{false}}

	var primary timeoutFilter
	observe := func(addr string, f *timeoutFilter, r probeResult, ms int) {
		if d, ok := f.date(r, at(ms)); ok {
			w.observe(addr, d, r)
		}
	}
	var other timeoutFilter
	observe("p", &primary, serving, 0)
	observe("r", &other, replica, 0)
	observe("p", &primary, timedOut, 110) // held back
	observe("r", &other, serving, 150)    // the replica serves; p still counts
	observe("p", &primary, timedOut, 220) // confirmed: p stopped at 110
	var served []WatchEvent
	for _, e := range w.Events() {
		if e.Kind == "served" {
			served = append(served, e)
		}
	}
	if len(served) != 2 || served[1].Node != "r" || !served[1].At.Equal(at(150)) {
		t.Fatalf("served events %+v; want p at 0, then r at 150ms", served)
	}
}
