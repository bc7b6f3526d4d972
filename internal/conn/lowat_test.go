package conn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
)

const largeValueLen = 1 << 20

// largeValue is the value the scripted servers below send, in order.
var largeValue = strings.Repeat("0123456789abcdef", largeValueLen/16)

// While a large value is read, the socket's low-water mark holds the reader
// until the rest has come; once it has, the mark is back to 1, and small
// replies are read as before.
func TestLowWaterMarkHeldOnlyForLargeValue(t *testing.T) {
	if !conn.LowWaterSupported {
		t.Skip("no receive low-water mark on this platform")
	}
	release := make(chan struct{})
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		if cmd[1] != "big" {
			_, _ = io.WriteString(w, "$5\r\nsmall\r\n")
			return
		}
		half := largeValueLen / 2
		if _, err := fmt.Fprintf(w, "$%d\r\n%s", largeValueLen, largeValue[:half]); err != nil {
			return
		}
		select {
		case <-release:
		case <-t.Context().Done():
			return
		}
		_, _ = io.WriteString(w, largeValue[half:]+"\r\n")
	})
	// No health timeout: nothing but the test lowers the mark meanwhile.
	c := dialFake(t, addr, conn.Options{HealthTimeout: -1, PingInterval: -1})
	ctx := testutil.Context(t, 10*time.Second)
	got := make(chan error, 1)
	go func() {
		v, err := c.Do(ctx, "GET", "big")
		if err == nil && v.Str != largeValue {
			err = fmt.Errorf("GET big: %d bytes, not the %d sent", len(v.Str), largeValueLen)
		}
		got <- err
	}()
	testutil.WaitFor(t, 5*time.Second, "the mark is raised while half the value has come", func() bool {
		return conn.LowWaterMark(c) > 1
	})
	// The reader took the first bytes through its buffer: the mark asks for
	// the rest only, which the server owes.
	if mark := conn.LowWaterMark(c); mark >= largeValueLen {
		t.Fatalf("mark %d for a %d-byte value whose first bytes were read: it must ask for the rest only", mark, largeValueLen)
	}
	close(release)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if mark := conn.LowWaterMark(c); mark != 1 {
		t.Fatalf("mark %d after the value was read, want 1", mark)
	}
	if v := mustDo(t, c, "GET", "small"); v.Str != "small" {
		t.Fatalf("GET small after the large value: %q", v.Str)
	}
}

// The mark keeps the reader from taking a large value's bytes as they come,
// but the health check still tells a server sending slowly, which is kept,
// from one that stopped halfway, which is declared dead: also when more
// bytes came after the reader's last read, too few to reach the mark.
func TestHealthCheckWhileMarkHoldsReader(t *testing.T) {
	const healthTimeout = 300 * time.Millisecond
	opts := conn.Options{HealthTimeout: healthTimeout, PingInterval: -1} // the scripted servers answer only GET
	ctx := testutil.Context(t, 20*time.Second)

	slow := scriptedServer(t, func(w io.Writer, cmd []string) {
		if _, err := fmt.Fprintf(w, "$%d\r\n", largeValueLen); err != nil {
			return
		}
		const piece = 64 << 10 // 16 pieces, 100 ms apart: 1.6 s, over 5 health timeouts
		for i := 0; i < largeValueLen; i += piece {
			if _, err := io.WriteString(w, largeValue[i:i+piece]); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // pacing the fake server, not synchronisation
		}
		_, _ = io.WriteString(w, "\r\n")
	})
	c := dialFake(t, slow, opts)
	var raised atomic.Bool
	watchCtx, cancelWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for watchCtx.Err() == nil && !raised.Load() {
			raised.Store(conn.LowWaterMark(c) > 1)
			time.Sleep(time.Millisecond) // sampling the mark, which no event announces
		}
	}()
	v, err := c.Do(ctx, "GET", "big")
	if err != nil || v.Str != largeValue {
		t.Fatalf("a value arriving over 1.6 s, health timeout %v: %d bytes, err %v; want it whole", healthTimeout, len(v.Str), err)
	}
	cancelWatch()
	<-watchDone
	if conn.LowWaterSupported && !raised.Load() {
		t.Error("the mark was never raised during the slow value: the case tests nothing")
	}

	for _, tc := range []struct {
		name string
		send func(w io.Writer)
	}{
		{"half the value, then nothing", func(w io.Writer) {
			_, _ = fmt.Fprintf(w, "$%d\r\n%s", largeValueLen, largeValue[:largeValueLen/2])
		}},
		{"half, then 100 KiB more, then nothing", func(w io.Writer) {
			if _, err := fmt.Fprintf(w, "$%d\r\n%s", largeValueLen, largeValue[:largeValueLen/2]); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // pacing the fake server, not synchronisation
			_, _ = io.WriteString(w, largeValue[largeValueLen/2:largeValueLen/2+100<<10])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stopped := scriptedServer(t, func(w io.Writer, cmd []string) { tc.send(w) })
			c := dialFake(t, stopped, opts)
			start := time.Now()
			if _, err := c.Do(ctx, "GET", "big"); !errors.Is(err, conn.ErrHealthTimeout) {
				t.Fatalf("err = %v after %v, want ErrHealthTimeout", err, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}
