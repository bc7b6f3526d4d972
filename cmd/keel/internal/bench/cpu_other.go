//go:build !unix

package bench

import "time"

// processCPU is not measured here: 0.
func processCPU() time.Duration { return 0 }

// runQueueWait is not measured here: 0.
func runQueueWait() time.Duration { return 0 }
