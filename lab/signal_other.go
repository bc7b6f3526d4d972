//go:build !unix

package lab

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// Without job-control signals a process cannot be frozen from outside, so
// Pause and Resume report that instead of silently doing nothing.

func stopProcess(*os.Process) error {
	return fmt.Errorf("lab: pausing a process is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func continueProcess(*os.Process) error {
	return fmt.Errorf("lab: resuming a process is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
