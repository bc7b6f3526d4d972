package conn_test

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
)

// A read the server is slow to answer (a large reply being produced, a
// slow read-only script; DEBUG SLEEP sent with DoRead stands for one) holds
// up the whole server, not a write pause: the reads behind it would be
// served no sooner elsewhere, so they are not diverted but answered here.
func TestReadsBehindASlowReadAreNotDiverted(t *testing.T) {
	s := debugServer(t)
	c := dial(t, s, conn.Options{HealthTimeout: 2 * time.Second, BusyTimeout: 10 * time.Second, DivertReadsAfter: 50 * time.Millisecond})
	mustDo(t, c, "SET", "k", "here")
	slow := make(chan error, 1)
	go func() { _, err := c.DoRead(context.Background(), "DEBUG", "SLEEP", "0.4"); slow <- err }()
	testutil.WaitFor(t, time.Second, "the slow read is in flight", func() bool { return c.InFlight() > 0 })

	v, err := c.DoRead(context.Background(), "GET", "k")
	if err != nil || v.Str != "here" {
		t.Fatalf("read behind a slow read: %v %v; want \"here\" from this connection", v, err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the slow read: %v", err)
	}
	if c.Diverting() {
		t.Fatal("diverting after a slow read")
	}
}
