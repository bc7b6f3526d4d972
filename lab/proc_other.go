//go:build !linux

package lab

import "os/exec"

// configureProcess is a no-op outside Linux: there is no portable
// parent-death signal, so a server outlives a test process that crashes
// before its Close runs.
func configureProcess(*exec.Cmd) {}
