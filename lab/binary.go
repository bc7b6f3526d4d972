package lab

import (
	"fmt"
	"os"
	"os/exec"
)

// installHint is part of every "binary not found" error so that a failing
// test tells the reader how to fix their machine, not just what is missing.
const installHint = "run scripts/setup.sh (make setup) to install it, or `apt-get install -y redis-server redis-tools` (Debian/Ubuntu) or `brew install redis`"

// notFoundError keeps the exec.LookPath error reachable with errors.Is (for
// example errors.Is(err, exec.ErrNotFound)) while presenting a message that
// names the install command.
type notFoundError struct{ err error }

func (e *notFoundError) Error() string {
	return "redis-server not found on PATH: " + installHint
}

func (e *notFoundError) Unwrap() error { return e.err }

// FindRedisServer returns the path of the redis-server binary on PATH.
// If there is none, the error message says how to install it.
func FindRedisServer() (string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", &notFoundError{err: err}
	}
	return path, nil
}

// RequireRedisServer skips the test when there is no redis-server on PATH,
// with a message saying how to install it, so that a machine without Redis
// runs the tests that need none instead of failing the rest. When the
// environment variable CI is "true" (as GitHub Actions, GitLab CI and keel's
// .ci/run set it), a missing binary fails the test instead: a CI run that
// skipped every Redis test would pass while testing nothing.
//
// [StartServerT] and [StartClusterT] call it when their options name no
// binary; call it before [StartServer] or [StartCluster] in a test that
// starts them directly.
func RequireRedisServer(t TB) {
	t.Helper()
	haveRedisServer(t)
}

// MissingRedisServerFails reports whether [RequireRedisServer] fails rather
// than skips a test when redis-server is missing: when the environment
// variable CI is "true".
func MissingRedisServerFails() bool { return os.Getenv("CI") == "true" }

// haveRedisServer is [RequireRedisServer] reporting whether the test may go
// on, for callers whose TB's Skipf or Fatalf returns.
func haveRedisServer(t TB) bool {
	t.Helper()
	_, err := FindRedisServer()
	switch {
	case err == nil:
		return true
	case MissingRedisServerFails():
		t.Fatalf("%v (CI=true: a missing redis-server fails the test instead of skipping it)", err)
	default:
		t.Skipf("%v", err)
	}
	return false
}

// resolveBinary returns the binary to run: the explicit one when given
// (checked up front, so a typo fails with a clear message instead of an
// exec error from deep inside the start loop), else the one on PATH.
func resolveBinary(explicit string) (string, error) {
	if explicit == "" {
		return FindRedisServer()
	}
	path, err := exec.LookPath(explicit)
	if err != nil {
		return "", fmt.Errorf("lab: redis-server binary %q is not usable: %w", explicit, err)
	}
	return path, nil
}
