package testutil

import (
	"context"
	"net"
)

// Resolver answers host name lookups from a fixed table, the way a DNS
// server would for names only a test knows; other names are not found.
type Resolver map[string][]string

// LookupHost returns host's addresses, or a not-found *net.DNSError.
func (r Resolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if addrs, ok := r[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
