package keel

import "testing"

// The connections for commands get PingInterval unfilled when it is left
// zero, so that they apply DefaultIdlePingInterval to idle connections: a
// default filled in on the way would bring 1s idle pings back.
func TestZeroPingIntervalReachesTheConnections(t *testing.T) {
	o := Options{}.engineOptions().Conn
	if o.PingInterval != 0 || o.IdlePingInterval != 0 {
		t.Fatalf("PingInterval %v, IdlePingInterval %v: want both left zero", o.PingInterval, o.IdlePingInterval)
	}
}
