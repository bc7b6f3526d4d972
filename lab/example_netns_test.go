package lab_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keel-go/keel/lab"
)

// ExampleCluster_Partition cuts a primary off the network (Linux, as root):
// its packets vanish, so clients' dials to it hang instead of being
// refused, and its replica takes over after the node timeout. Heal brings
// it back as a replica. AddLatency slows a node down the same way.
func ExampleCluster_Partition() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, Replicas: 1, NetNamespaces: true})
	if errors.Is(err, lab.ErrNetNamespacesUnavailable) {
		fmt.Println("needs Linux, root and iproute2:", err)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	primary, err := c.PrimaryFor(ctx, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := c.Watch(ctx, lab.WatchOptions{Slots: []int{0}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	step, err := c.Partition(primary)
	if err != nil {
		fmt.Println(err)
		return
	}
	at, by, err := w.WaitServed(ctx, 0, step.Began)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("slot 0 served by %s %v after the partition\n", by, at.Sub(step.Began))
	if _, err := c.Heal(primary); err != nil {
		fmt.Println(err)
	}

	replica := c.Nodes()[len(c.Nodes())-1]
	if _, err := c.AddLatency(replica, 50*time.Millisecond); err != nil {
		fmt.Println(err)
	}
}
