package cluster

import (
	"errors"
	"syscall"
)

// wsaeConnRefused is Winsock's WSAECONNREFUSED, what a refused dial fails
// with on Windows (package syscall's ECONNREFUSED there is a number of Go's
// own, which no dial returns).
const wsaeConnRefused = syscall.Errno(10061)

// connectionRefused reports whether a dial failed because nothing listens
// on the address.
func connectionRefused(err error) bool { return errors.Is(err, wsaeConnRefused) }
