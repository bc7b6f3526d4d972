package lab

import (
	"fmt"
	"os/exec"
)

// installHint is part of every "binary not found" error so that a failing
// test tells the reader how to fix their machine, not just what is missing.
const installHint = "install it with `apt-get install -y redis-server redis-tools` (Debian/Ubuntu) or `brew install redis`"

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
