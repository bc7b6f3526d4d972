// Package peers adapts other Go Redis Cluster clients to [drill.Driver], so
// the drill can run the same workload and faults against them as against
// keel and print them side by side.
//
// It lives in the keel command's module, not in the library's, so that
// go-redis, rueidis and their dependencies never enter the library's go.mod.
//
// Every driver dials through [drill.Target.Dialer], so host names — the
// seeds, and any node name a peer re-dials later — are resolved with the
// target's resolver on every connection; TLS, when the target has it, is
// layered on top by this package (see dial.go) the same way for every peer.
//
// The clients return the peers' own errors unchanged: they are what the drill
// measures, and [drill.Classify] matches server errors by their prefix, which
// wrapping would hide. The one exception is rueidis's ErrClosing, marked as
// the connection error it is (see rueidis.go).
package peers
