package lab

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"
)

// RestartAll stops every member node and brings the cluster back; its data
// is lost (persistence is off).
//
// With newAddresses false, each node starts again on its own address and in
// its own dir, so it keeps its identity (nodes.conf) and the cluster re-forms
// by itself. With newAddresses true, the old nodes are retired and a fresh
// cluster of the same shape is created on new addresses (new ports, or new
// 127.x hosts on the same port with DistinctHosts): what a full replacement
// behind a configuration endpoint looks like. No new address equals an old
// one.
//
// The Step has Action "restart-all" and Detail "same addresses" or "new
// addresses"; it is Done when [Cluster.WaitStable] succeeds. ctx bounds the
// restart (default 60 s when it has no deadline). On error the Step has no
// Done time.
func (c *Cluster) RestartAll(ctx context.Context, newAddresses bool) (Step, error) {
	step := Step{Action: "restart-all", Detail: "same addresses", Began: time.Now()}
	if newAddresses {
		step.Detail = "new addresses"
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, replaceTimeout)
		defer cancel()
	}
	old := c.Nodes()
	if err := eachNode(old, func(n *Node) error { return n.stop() }); err != nil {
		return step, err
	}

	var err error
	if newAddresses {
		err = c.recreate(ctx, old)
	} else {
		err = eachNode(old, func(n *Node) error { return n.start(ctx) })
	}
	if err == nil {
		err = c.WaitStable(ctx)
	}
	if err != nil {
		return step, err
	}
	step.Done = time.Now()
	return step, nil
}

// recreate retires the old nodes, which are stopped, and creates a cluster
// of the configured shape on new addresses.
func (c *Cluster) recreate(ctx context.Context, old []*Node) error {
	// Hold the old addresses while the new nodes pick theirs, so that the
	// kernel cannot hand an old port out again.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for _, n := range old {
		for _, port := range []int{n.port, n.busPort} {
			if l, err := net.Listen("tcp", net.JoinHostPort(n.host, strconv.Itoa(port))); err == nil {
				held = append(held, l)
			}
		}
		c.retire(n)
	}
	if err := c.create(ctx); err != nil {
		return err
	}
	c.membershipChanged()
	return nil
}

// eachNode runs f on every node in parallel and joins the errors.
func eachNode(nodes []*Node, f func(*Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
