package cluster

import "strings"

// connectionRefused reports whether a dial failed because nothing listens
// on the address. Plan 9's errors are strings.
func connectionRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection refused")
}
