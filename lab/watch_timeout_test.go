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
