package drill

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/keel-go/keel/lab"
)

// TestFeederSendsAndReportsWhatIsLeft feeds a list and a stream on a real
// server, consumes part of each with raw commands, and checks what the
// feeder reports left: the list's remaining items, and the stream's entries
// the group never delivered (not those delivered and left pending).
func TestFeederSendsAndReportsWhatIsLeft(t *testing.T) {
	srv := lab.StartServerT(t, lab.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	raw, err := lab.Target{}.Dial(ctx, srv.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	call := func(args ...string) any {
		t.Helper()
		r, err := raw.Do(time.Second, args...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	for _, probe := range []string{ProbeBLPop, ProbeXReadGroup, ProbeSubscribe} {
		// A generous timeout: on a loaded machine a send may take longer
		// than the drill's own bound, and this test checks the accounting.
		f := &feeder{probe: probe, key: "feed:" + probe, conns: map[string]*lab.Conn{},
			owner: func() string { return srv.Addr() }, timeout: 5 * time.Second}
		if err := f.setup(ctx); err != nil {
			t.Fatalf("%s: setup: %v", probe, err)
		}
		f.start = time.Now()
		feedCtx, stop := context.WithTimeout(ctx, 200*time.Millisecond)
		f.run(feedCtx)
		stop()
		sent := f.items()
		if len(sent) < 5 || slices.ContainsFunc(sent, func(s Sent) bool { return !s.Acked }) {
			t.Fatalf("%s: sent %+v, want at least 5, every one acknowledged", probe, sent)
		}
		// Sequence numbers are the schedule's ticks: increasing, with gaps
		// only where the feeder fell behind.
		if !slices.IsSortedFunc(sent, func(a, b Sent) int { return int(a.Seq - b.Seq) }) {
			t.Fatalf("%s: sequence numbers %+v", probe, sent)
		}
		// Consume the first three.
		switch probe {
		case ProbeBLPop:
			for range 3 {
				call("LPOP", f.key)
			}
		case ProbeXReadGroup:
			call("XREADGROUP", "GROUP", consumerGroup, consumerName, "COUNT", "3", "STREAMS", f.key, ">")
		}
		left, err := f.left(ctx)
		f.close()
		if err != nil {
			t.Fatalf("%s: left: %v", probe, err)
		}
		var want []int64
		if probe != ProbeSubscribe {
			for _, s := range sent[3:] {
				want = append(want, s.Seq)
			}
		}
		if !slices.Equal(left, want) {
			t.Errorf("%s: left %v, want %v", probe, left, want)
		}
		if n := call("EXISTS", f.key); n != int64(0) {
			t.Errorf("%s: key still exists after left", probe)
		}
	}
}
