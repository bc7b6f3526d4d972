package lab_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// A slot move cut short (here its context ends once the slot is open; in a
// test, a node failed over or too slow to answer) leaves the slot importing
// on the target, which Redis never closes by itself: FinishMigrations moves
// it, keys and all, to where it was going, and the cluster can settle.
func ExampleCluster_FinishMigrations() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 2})
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

	const slot = 0
	from, err1 := c.PrimaryFor(ctx, slot)
	to, err2 := c.PrimaryFor(ctx, 16383)
	if err1 != nil || err2 != nil {
		fmt.Println(err1, err2)
		return
	}
	var keys []string
	for i := range 50 {
		key := lab.KeyInSlot(slot, "k"+strconv.Itoa(i))
		if err := client.Set(ctx, key, "v"); err != nil {
			fmt.Println(err)
			return
		}
		keys = append(keys, key)
	}

	moving, interrupt := context.WithCancel(ctx)
	go func() {
		defer interrupt()
		for moving.Err() == nil {
			if v, err := to.View(moving); err == nil {
				if self, ok := v.Self(); ok && slices.Contains(self.Importing, slot) {
					return // the slot is open: cut the move short
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err = c.MigrateSlots(moving, []int{slot}, from, to, lab.MigrateOptions{BatchSize: 1, Pause: 20 * time.Millisecond})
	interrupt()
	fmt.Println("move cut short:", err != nil)

	if err := c.FinishMigrations(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := c.WaitStable(ctx); err != nil {
		fmt.Println(err)
		return
	}
	owner, err := c.PrimaryFor(ctx, slot)
	if err != nil {
		fmt.Println(err)
		return
	}
	found := 0
	for _, key := range keys {
		if v, err := client.Get(ctx, key); err == nil && v == "v" {
			found++
		}
	}
	fmt.Println("slot served by the target:", owner.Addr() == to.Addr())
	fmt.Println("keys found:", found)
	// Output:
	// move cut short: true
	// slot served by the target: true
	// keys found: 50
}
