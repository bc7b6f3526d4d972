package conn_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
)

func TestReadBufferGrowsForLargeRepliesOnly(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	big := strings.Repeat("v", 16<<10)
	mustDo(t, c, "SET", "small", "x")
	mustDo(t, c, "SET", "big", big)

	for range 4 * conn.GrowAfter {
		mustDo(t, c, "GET", "small")
	}
	if got := conn.ReadBufferSize(c); got != conn.SmallReadBuffer {
		t.Fatalf("after small replies: read buffer %d bytes, want %d", got, conn.SmallReadBuffer)
	}
	for i := range conn.GrowAfter {
		if got := conn.ReadBufferSize(c); got != conn.SmallReadBuffer {
			t.Fatalf("after %d large replies: read buffer %d bytes, want %d until %d", i, got, conn.SmallReadBuffer, conn.GrowAfter)
		}
		if v := mustDo(t, c, "GET", "big"); v.Str != big {
			t.Fatalf("GET big: %d bytes, want the %d written", len(v.Str), len(big))
		}
	}
	if got := conn.ReadBufferSize(c); got != conn.LargeReadBuffer {
		t.Fatalf("after %d large replies: read buffer %d bytes, want %d", conn.GrowAfter, got, conn.LargeReadBuffer)
	}
	if v := mustDo(t, c, "GET", "small"); v.Str != "x" {
		t.Fatalf("GET small after the growth: %q", v.Str)
	}
}

// Replies too large for either buffer are read straight into their own
// memory: a larger buffer would batch none of them, so it is not taken.
func TestReadBufferStaysSmallForHugeReplies(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	huge := strings.Repeat("h", conn.LargeReadBuffer)
	mustDo(t, c, "SET", "huge", huge)
	for range 2 * conn.GrowAfter {
		if v := mustDo(t, c, "GET", "huge"); v.Str != huge {
			t.Fatalf("GET huge: %d bytes, want the %d written", len(v.Str), len(huge))
		}
	}
	if got := conn.ReadBufferSize(c); got != conn.SmallReadBuffer {
		t.Fatalf("after %d replies of %d bytes: read buffer %d bytes, want %d", 2*conn.GrowAfter, len(huge), got, conn.SmallReadBuffer)
	}
}

// The buffer is replaced while replies stream in from many callers: none is
// lost, cut or given to another caller.
func TestReadBufferGrowsUnderLoad(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	c := dial(t, s, conn.Options{})
	value := func(i int) string {
		if i%3 == 0 {
			return strings.Repeat(fmt.Sprint(i%10), 12<<10+i) // large: counts towards the growth
		}
		return fmt.Sprint("small-", i)
	}
	const keys = 60
	for i := range keys {
		mustDo(t, c, "SET", fmt.Sprint("k", i), value(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				i := (g*7 + n) % keys
				v, err := c.Do(context.Background(), "GET", fmt.Sprint("k", i))
				if err == nil && v.Str != value(i) {
					err = fmt.Errorf("GET k%d: %d bytes %.12q…, want %d bytes %.12q…", i, len(v.Str), v.Str, len(value(i)), value(i))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := conn.ReadBufferSize(c); got != conn.LargeReadBuffer {
		t.Errorf("read buffer %d bytes after 3,200 replies, a third of them large; want %d", got, conn.LargeReadBuffer)
	}
}
