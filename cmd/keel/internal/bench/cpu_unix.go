//go:build unix

package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runQueueWait is how long this process's threads have waited for a CPU
// while ready to run (the second field of Linux's /proc/<pid>/task/<tid>/schedstat),
// summed over the threads that exist now; 0 where it is not reported.
func runQueueWait() time.Duration {
	files, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var total time.Duration
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) < 2 {
			continue
		}
		if ns, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
			total += time.Duration(ns)
		}
	}
	return total
}
