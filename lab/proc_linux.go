//go:build linux

package lab

import (
	"os/exec"
	"syscall"
)

// configureProcess makes the kernel SIGKILL redis-server when the test
// process dies, so a crashed or killed `go test` never leaves a stray server
// holding a port.
//
// Pdeathsig fires when the OS thread that started the child exits, not the
// whole process. The Go runtime keeps its threads alive unless a goroutine
// exits while locked with runtime.LockOSThread, so do not call StartServer
// from such a goroutine.
func configureProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
