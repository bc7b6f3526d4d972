package conn_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
)

// An idle connection pings after IdlePingInterval, even with the busy
// connection's sentinel pings turned off.
func TestIdleConnectionPingsEveryIdlePingInterval(t *testing.T) {
	pinged := make(chan struct{}, 1)
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		if strings.EqualFold(cmd[0], "PING") {
			_, _ = io.WriteString(w, "+PONG\r\n")
			select {
			case pinged <- struct{}{}:
			default:
			}
		}
	})
	dialFake(t, addr, conn.Options{PingInterval: -1, IdlePingInterval: 20 * time.Millisecond})
	select {
	case <-pinged:
	case <-time.After(5 * time.Second):
		t.Fatal("an idle connection sent no PING in 5s with IdlePingInterval 20ms")
	}
}

// A busy connection still sends its sentinel PING every PingInterval when
// idle pings are off: the server here answers a GET only once the PING
// behind it has arrived.
func TestBusyConnectionPingsWithIdlePingsOff(t *testing.T) {
	addr := scriptedServer(t, func(w io.Writer, cmd []string) {
		if strings.EqualFold(cmd[0], "PING") {
			_, _ = io.WriteString(w, "$1\r\nv\r\n+PONG\r\n") // the held GET's reply, then PING's
		}
	})
	c := dialFake(t, addr, conn.Options{PingInterval: 20 * time.Millisecond, IdlePingInterval: -1, HealthTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.Do(ctx, "GET", "k")
	if err != nil {
		t.Fatalf("GET held until a sentinel PING: %v", err)
	}
	if v.Str != "v" {
		t.Fatalf("GET = %q, want v", v.Str)
	}
}
