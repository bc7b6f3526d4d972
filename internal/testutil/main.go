package testutil

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/keel-go/keel/lab"
)

// Main is a TestMain body: it runs the tests and examples, closes the shared
// clusters, then fails the run if any goroutine is left behind. It does not
// return.
//
// Examples cannot skip themselves, so on a machine without redis-server Main
// skips them all (every keel example talks to Redis) and says why, the way
// [lab.RequireRedisServer] skips the tests; under CI=true they run and fail.
func Main(m *testing.M, shared ...*SharedCluster) {
	if _, err := lab.FindRedisServer(); err != nil && !lab.MissingRedisServerFails() {
		skipExamples(err)
	}
	code := m.Run()
	for _, s := range shared {
		s.Close()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// skipExamples adds the examples to -test.skip.
func skipExamples(why error) {
	flag.Parse()
	skip := "^Example"
	if prev := flag.Lookup("test.skip").Value.String(); prev != "" {
		skip = prev + "|" + skip
	}
	if err := flag.Set("test.skip", skip); err != nil {
		panic(err) // the flag is testing's own: it exists once flags are parsed
	}
	fmt.Fprintf(os.Stderr, "%v: skipping the examples\n", why)
}
