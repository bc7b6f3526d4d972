package lab

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A check that the deadline cuts short fails on the deadline itself (its
// calls time out as if the nodes had hung); the error reports the check
// before it, which says what was still wrong.
func TestPollReportsTheLastCheckNotCutShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	checks := 0
	err := poll(ctx, "the cluster to be stable", func() error {
		if checks++; checks == 1 {
			return errors.New("node2: slot migration in progress")
		}
		<-ctx.Done() // a call still waiting for its reply when the deadline comes
		return errors.New("node2: CLUSTER: read tcp: i/o timeout")
	})
	if err == nil || !strings.Contains(err.Error(), "slot migration in progress") {
		t.Errorf("poll = %v, want the error of the check before the deadline", err)
	}
}
