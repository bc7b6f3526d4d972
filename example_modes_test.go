package keel_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// ExampleMode_standalone uses one redis-server without cluster support, as
// in local development: the same Client, found by ModeAuto. Keys of any
// slots go together in one command or transaction.
func ExampleMode_standalone() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	server, err := lab.StartServer(ctx, lab.ServerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer server.Close()

	client, err := keel.New(ctx, keel.Options{Seeds: []string{"redis://" + server.Addr()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	_, err = client.Tx().Do("SET", "user:1", "ada").Do("SET", "user:2", "grace").Exec(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	users, err := client.MGet(ctx, "user:1", "user:2") // two slots, one command
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(users[0].Value, users[1].Value)
	// Output: ada grace
}

// ExampleMode_replication follows a replication group's primary endpoint
// through a failover: the lab group stands in for a managed service (its
// Resolver answers for the endpoint name, which Failover repoints).
func ExampleMode_replication() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	group, err := lab.StartReplicationGroup(ctx, lab.ReplicationOptions{Replicas: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer group.Close()

	client, err := keel.New(ctx, keel.Options{
		Seeds:    []string{group.Seed()}, // "primary.keel.test:PORT"
		Mode:     keel.ModeReplication,
		Resolver: group.Resolver(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	if err := client.Set(ctx, "before", "1"); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := group.Failover(ctx, group.Replicas()[0], 100*time.Millisecond); err != nil {
		fmt.Println(err)
		return
	}
	// The old primary refuses the write (READONLY): keel finds the new
	// primary and sends the write again.
	if err := client.Set(ctx, "after", "2"); err != nil {
		fmt.Println(err)
		return
	}
	values, err := client.MGet(ctx, "before", "after")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(values[0].Value, values[1].Value, client.Primaries()[0].Addr() == group.Primary().Addr())
	// Output: 1 2 true
}

// ExampleMode_sentinel finds the primary through a Sentinel group and
// follows it when the sentinels fail it over.
func ExampleMode_sentinel() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	group, err := lab.StartSentinelGroup(ctx, lab.SentinelOptions{Replicas: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer group.Close()

	client, err := keel.New(ctx, keel.Options{
		Seeds:          group.Sentinels(), // the sentinels, not the data servers
		Mode:           keel.ModeSentinel,
		SentinelMaster: group.Master(), // "mymaster"
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	if err := client.Set(ctx, "before", "1"); err != nil {
		fmt.Println(err)
		return
	}
	step, err := group.Switchover(ctx) // SENTINEL FAILOVER mymaster
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := client.Set(ctx, "after", "2"); err != nil {
		fmt.Println(err)
		return
	}
	values, err := client.MGet(ctx, "before", "after")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(values[0].Value, values[1].Value, client.Primaries()[0].Addr() == step.Detail)
	// Output: 1 2 true
}

// ExampleOptions_readerEndpoint reads from the replicas a reader endpoint
// leads to, besides those the primary lists: here a name the lab's DNS
// server answers with the replica's address.
func ExampleOptions_readerEndpoint() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	group, err := lab.StartReplicationGroup(ctx, lab.ReplicationOptions{Replicas: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer group.Close()
	replica := group.Replicas()[0].Addr()
	host, port, _ := net.SplitHostPort(replica)
	if err := group.DNS().SetName("reader.keel.test", []string{host}); err != nil {
		fmt.Println(err)
		return
	}

	client, err := keel.New(ctx, keel.Options{
		Seeds:          []string{group.Seed()},
		Mode:           keel.ModeReplication,
		ReaderEndpoint: net.JoinHostPort("reader.keel.test", port),
		ReadPolicy:     keel.ReadReplicaPreferred,
		Resolver:       group.Resolver(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	replicas := client.Replicas()
	fmt.Println(len(replicas), replicas[0].Addr() == replica)
	// Output: 1 true
}

// ExampleOptions_sentinelPassword authenticates to sentinels that have a
// password of their own, besides the data servers' password.
func ExampleOptions_sentinelPassword() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	group, err := lab.StartSentinelGroup(ctx, lab.SentinelOptions{Password: "data-secret", SentinelPassword: "sentinel-secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer group.Close()

	client, err := keel.New(ctx, keel.Options{
		Seeds:            group.Sentinels(),
		Mode:             keel.ModeSentinel,
		SentinelMaster:   group.Master(),
		SentinelPassword: "sentinel-secret", // the sentinels' requirepass
		Password:         "data-secret",     // the data servers'
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	if err := client.Set(ctx, "greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := client.Get(ctx, "greeting")
	fmt.Println(v, err)
	// Output: hello <nil>
}
