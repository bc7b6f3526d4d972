//go:build !race

package keel_test

const raceEnabled = false
