package lab_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

func ExampleStartServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	srv, err := lab.StartServer(ctx, lab.ServerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	conn, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))

	fmt.Fprint(conn, "PING\r\n")
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.TrimSpace(reply))
	// Output: +PONG
}

// Example_failoverTest is an application's own test run through a forced
// failover: a lab cluster, the application's client writing to it, the
// replica of the shard holding the application's keys taking over with
// CLUSTER FAILOVER FORCE, and the checks that every acknowledged write is
// still there and that the replica now serves the shard. In a test, start
// the cluster with StartClusterT and fail with t.Fatal instead of printing.
func Example_failoverTest() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, Replicas: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	client, err := keel.New(ctx, keel.Options{Seeds: c.Addrs()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	// The application's keys all live in slot 0, on the shard failed over.
	const slot = 0
	topo, err := c.Topology(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	shard, _ := topo.ShardFor(slot)
	replica := shard.Replicas[0]
	w, err := c.Watch(ctx, lab.WatchOptions{Slots: []int{slot}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	written := map[string]string{}
	write := func(n int) error {
		for i := range n {
			key, value := lab.KeyInSlot(slot, "order:"+strconv.Itoa(len(written))), strconv.Itoa(i)
			if err := client.Set(ctx, key, value); err != nil {
				return err
			}
			written[key] = value
		}
		return nil
	}
	if err := write(100); err != nil {
		fmt.Println("before the failover:", err)
		return
	}

	step, err := c.Failover(ctx, replica, lab.FailoverForce)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, servedBy, err := w.WaitServed(ctx, slot, step.Began)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := write(100); err != nil {
		fmt.Println("after the failover:", err)
		return
	}

	lost := 0
	for key, want := range written {
		if got, err := client.Get(ctx, key); err != nil || got != want {
			lost++
		}
	}
	fmt.Println("acknowledged writes:", len(written), "lost:", lost)
	fmt.Println("served by the former replica:", servedBy == replica.Addr())
	// Output:
	// acknowledged writes: 200 lost: 0
	// served by the former replica: true
}
