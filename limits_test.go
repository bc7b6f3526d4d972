package keel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
)

func TestReplyLimitOptions(t *testing.T) {
	c := sharedCluster(t)
	small := newClient(t, c, keel.Options{MaxBulkBytes: 1024})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := small.Do(ctx, "SET", "limits:big", strings.Repeat("x", 2048)); err != nil {
		t.Fatal(err) // the limit bounds replies, not commands
	}
	if _, err := small.Do(ctx, "SET", "limits:small", "fits"); err != nil {
		t.Fatal(err)
	}
	_, err := small.Do(ctx, "GET", "limits:big")
	if !errors.Is(err, keel.ErrReplyTooLarge) || !errors.Is(err, keel.ErrConnLost) {
		t.Fatalf("GET of a 2 KiB value with MaxBulkBytes 1024: err = %v, want ErrTooLarge", err)
	}
	if ctx.Err() != nil {
		t.Fatal("a reply over the limits was retried until the deadline")
	}
	if st := small.Stats(); st.SuspectNodes != 0 {
		t.Fatalf("%d nodes suspect after a reply over the limits", st.SuspectNodes)
	}
	if v, err := small.Do(ctx, "GET", "limits:small"); err != nil || v.Str != "fits" {
		t.Fatalf("GET of a small value after: %v, %v", v, err)
	}
}
