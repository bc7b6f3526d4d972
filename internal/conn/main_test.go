package conn_test

import (
	"testing"

	"github.com/keel-go/keel/internal/testutil"
)

// TestMain runs the tests, then fails the run if any goroutine is left
// behind.
func TestMain(m *testing.M) { testutil.Main(m) }
