//go:build !race

package testutil

// RaceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts mean nothing under it.
const RaceEnabled = false
