package drill

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/keel-go/keel/lab"
)

// Target says how to reach the cluster under test. Every driver gets the
// same Target.
type Target struct {
	// Seeds are "host:port" addresses to start from. A host may be a name.
	Seeds []string
	// Username and Password authenticate (ACL user, or the default user's
	// password when Username is empty).
	Username, Password string
	// TLS, when set, is used for every connection.
	TLS *tls.Config
	// Resolver resolves seed host names; nil means net.DefaultResolver. The
	// lab sets it to its own DNS server so a restart on new addresses is
	// followed through the name.
	Resolver *net.Resolver
	// Replication says the seeds are a replication group's primary endpoint
	// (a name the service repoints after a failover), not a cluster: drivers
	// open their library's standalone client to it, as its documentation
	// recommends for such a deployment.
	Replication bool
	// SentinelMaster, when set, says the seeds are sentinels monitoring the
	// primary under this name: drivers open their library's Sentinel
	// client. Default "": not a Sentinel group.
	SentinelMaster string
}

// Dialer returns a dialer that resolves names with t.Resolver, for drivers
// whose client takes a dial function.
func (t Target) Dialer() *net.Dialer {
	return &net.Dialer{Resolver: t.Resolver}
}

// lab returns t as lab knows it, for watching and discovering the cluster.
func (t Target) lab() lab.Target {
	return lab.Target{Seeds: t.Seeds, Username: t.Username, Password: t.Password, TLS: t.TLS, Resolver: t.Resolver}
}

// Driver opens clients of one kind, configured one way: one row of a report.
type Driver interface {
	// Name is the row's label, e.g. "keel" or "go-redis (recommended)".
	Name() string
	// Describe says which library, version and options the driver uses; the
	// report prints it.
	Describe() string
	// Open connects a new client to the cluster.
	Open(ctx context.Context, t Target) (Client, error)
}

// Client is the little a workload needs from a Redis Cluster client. Every
// method must honour ctx's deadline.
type Client interface {
	// Get returns the key's value; found is false for a missing key.
	Get(ctx context.Context, key string) (value string, found bool, err error)
	// Set stores value under key.
	Set(ctx context.Context, key, value string) error
	// Incr increments the counter at key and returns its new value.
	Incr(ctx context.Context, key string) (int64, error)
	// Close releases everything the client holds.
	Close() error
}
