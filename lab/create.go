package lab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// nextName returns the next node name: node1, node2… in creation order.
func (c *Cluster) nextName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return "node" + strconv.Itoa(c.seq)
}

// newNode allocates a node with a fresh address and dir; it is not started.
func (c *Cluster) newNode(name string) (*Node, error) {
	if c.net != nil {
		host, ns, err := c.net.addNode()
		if err != nil {
			return nil, err
		}
		return &Node{c: c, name: name, host: host, port: netPort, busPort: netBusPort, dir: filepath.Join(c.dir, name), netns: ns}, nil
	}
	host, port, bus, err := c.hosts.addr()
	if err != nil {
		return nil, err
	}
	return &Node{c: c, name: name, host: host, port: port, busPort: bus, dir: filepath.Join(c.dir, name)}, nil
}

// startNewNode allocates and starts a node, moving it to another address
// when another process took its port first. It returns the node with its id.
func (c *Cluster) startNewNode(ctx context.Context, name string) (*Node, error) {
	for attempt := 1; ; attempt++ {
		n, err := c.newNode(name)
		if err != nil {
			return nil, err
		}
		err = n.start(ctx)
		if errors.Is(err, ErrPortTaken) && attempt < maxPortAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		id, err := n.callString(ctx, "CLUSTER", "MYID")
		if err != nil {
			_ = n.stop()
			return nil, err
		}
		n.mu.Lock()
		n.id = id
		n.mu.Unlock()
		return n, nil
	}
}

// startNodes starts count new nodes in parallel. On error, every node it
// started is stopped again.
func (c *Cluster) startNodes(ctx context.Context, count int) ([]*Node, error) {
	nodes := make([]*Node, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range nodes {
		name := c.nextName()
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = c.startNewNode(ctx, name)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, n := range nodes {
			if n != nil {
				_ = n.stop()
			}
		}
		return nil, err
	}
	return nodes, nil
}

// create starts the configured nodes and forms them into a cluster, the way
// redis-cli --cluster create does: distinct config epochs, slots split evenly
// over the primaries, every node introduced to the first, replicas attached
// to their primaries.
func (c *Cluster) create(ctx context.Context) error {
	o := c.opts
	nodes, err := c.startNodes(ctx, o.Shards*(1+o.Replicas))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes = nodes
	c.mu.Unlock()

	primaries, replicas := nodes[:o.Shards], nodes[o.Shards:]
	err = inParallel(len(nodes), func(i int) error {
		if _, err := nodes[i].call(ctx, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			return err
		}
		if i >= o.Shards {
			return nil
		}
		first, last := i*16384/o.Shards, (i+1)*16384/o.Shards-1
		_, err := nodes[i].call(ctx, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last))
		return err
	})
	if err != nil {
		return err
	}
	// No wait for the handshakes here: replicate retries until the replica
	// knows its primary, and WaitStable below checks that every node knows
	// every other one.
	if err := c.sendMeets(ctx, nodes[0], nodes[1:]); err != nil {
		return err
	}
	err = inParallel(len(replicas), func(i int) error {
		return c.replicate(ctx, replicas[i], primaries[i%o.Shards])
	})
	if err != nil {
		return err
	}
	return c.WaitStable(ctx)
}

// meet introduces nodes to the cluster through via, and waits until every
// node involved knows every other one (the handshake is over).
func (c *Cluster) meet(ctx context.Context, via *Node, nodes ...*Node) error {
	if err := c.sendMeets(ctx, via, nodes); err != nil {
		return err
	}
	all := append([]*Node{via}, nodes...)
	return c.pollAll(ctx, "nodes to learn of each other", func() error {
		return inParallel(len(all), func(i int) error {
			n := all[i]
			view, err := n.clusterNodes(ctx)
			if err != nil {
				return err
			}
			for _, m := range all {
				info, ok := view.byID(m.ID())
				if !ok || info.Has("handshake") || info.Has("noaddr") {
					return fmt.Errorf("%s does not know %s yet", n, m)
				}
			}
			return nil
		})
	})
}

// sendMeets asks via to start the handshake with every node of nodes; it
// does not wait for the handshakes to finish.
func (c *Cluster) sendMeets(ctx context.Context, via *Node, nodes []*Node) error {
	return inParallel(len(nodes), func(i int) error {
		n := nodes[i]
		_, err := via.call(ctx, "CLUSTER", "MEET", n.host, strconv.Itoa(n.port), strconv.Itoa(n.busPort))
		return err
	})
}

// replicate makes r a replica of p, retrying while r has not yet learnt of p
// through gossip, and after a call that got no reply (a busy machine
// starting many nodes at once): REPLICATE to the same primary is safe to
// repeat.
func (c *Cluster) replicate(ctx context.Context, r, p *Node) error {
	return poll(ctx, "replica "+r.name+" to attach", func() error {
		_, err := r.call(ctx, "CLUSTER", "REPLICATE", p.ID())
		var re ReplyError
		if err != nil && errors.As(err, &re) && !strings.Contains(err.Error(), "Unknown node") {
			return permanent{err}
		}
		return err
	})
}

// permanent marks an error that poll must not retry.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// poll runs check every pollInterval until it returns nil, returns a
// permanent error, or ctx ends; then it reports the last failure.
func poll(ctx context.Context, what string, check func() error) error {
	return pollEvery(ctx, what, pollInterval, check)
}

// nodesPerPollInterval is how many nodes a check that asks every node may
// cover per pollInterval. Each check opens a connection per node: on a
// cluster of dozens of nodes a 10 ms cadence would open thousands of
// connections a second and run the machine out of local ports.
const nodesPerPollInterval = 6

// pollAll is poll for checks that ask every member: it waits longer between
// checks the more members the cluster has (10 ms up to 6 nodes, 100 ms at 60).
func (c *Cluster) pollAll(ctx context.Context, what string, check func() error) error {
	n := max(len(c.Nodes()), 1)
	every := pollInterval * time.Duration((n+nodesPerPollInterval-1)/nodesPerPollInterval)
	return pollEvery(ctx, what, every, check)
}

// pollEvery is poll with its own interval.
func pollEvery(ctx context.Context, what string, every time.Duration, check func() error) error {
	t := time.NewTicker(every)
	defer t.Stop()
	var last error
	for {
		err := check()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.error
		}
		// A check that ctx's end cut short failed on the deadline: its calls
		// time out, as if the nodes had hung. The one before it says what
		// was still wrong.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-t.C:
		}
	}
}
