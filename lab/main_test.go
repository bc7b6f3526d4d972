package lab_test

import (
	"testing"

	"github.com/keel-go/keel/internal/testutil"
)

// TestMain runs the tests (the in-package ones too), then fails the run if
// any goroutine is left behind: every server's wait goroutine must end when
// the server is closed.
func TestMain(m *testing.M) { testutil.Main(m) }
