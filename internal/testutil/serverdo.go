package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/keel-go/keel/lab"
)

// ServerDo sends one command to the server at addr on a connection of its
// own, outside any client under test, and fails t if it fails.
func ServerDo(t testing.TB, addr string, args ...string) any {
	t.Helper()
	c, err := lab.Target{}.Dial(context.Background(), addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Do(5*time.Second, args...)
	if err != nil {
		t.Fatalf("%s: %q: %v", addr, args, err)
	}
	return v
}
