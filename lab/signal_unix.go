//go:build unix

package lab

import (
	"os"
	"syscall"
)

// stopProcess and continueProcess live behind a build tag because SIGSTOP
// and SIGCONT do not exist in package syscall on every GOOS (Windows).

func stopProcess(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

func continueProcess(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
