//go:build !plan9 && !windows

package cluster

import (
	"errors"
	"syscall"
)

// connectionRefused reports whether a dial failed because nothing listens
// on the address.
func connectionRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
