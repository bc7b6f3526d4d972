package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/lab"
)

// The raw load generator measures the limit of the workloads redis-benchmark
// cannot run (a mix of commands, or several commands per operation): per
// primary, rawConns connections each keep rawPipeline commands in flight,
// written and read as raw RESP, the commands drawn per the workload's
// limitParts from keys that node owns. It counts commands of each part and
// turns them into the workload's operations.

const (
	rawConns    = 16 // per primary
	rawPipeline = 64 // commands in flight per connection
)

// rawNodes returns the primaries of the cluster at seed and the keys of
// each, from CLUSTER NODES and lab.KeySlot.
func rawNodes(ctx context.Context, seed string, keys []string) (map[string][]string, error) {
	text, err := bulkCommand(ctx, seed, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	var owner [16384]string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.Contains(f[2], "master") {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		for _, r := range f[8:] {
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if !isRange {
				b, err2 = a, nil
			}
			if err1 != nil || err2 != nil || a < 0 || b >= len(owner) {
				continue // a migrating slot's [..] entry
			}
			for s := a; s <= b; s++ {
				owner[s] = addr
			}
		}
	}
	out := map[string][]string{}
	for _, k := range keys {
		if a := owner[lab.KeySlot(k)]; a != "" {
			out[a] = append(out[a], k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("raw load: CLUSTER NODES names no primary that owns a key")
	}
	return out, nil
}

// rawCommand is one kind of command of a workload: GET or SET of keys of
// one value size.
type rawCommand struct {
	part  limitPart
	keys  map[string][]string // node → keys
	value string              // SET only
}

// rawLimit runs the raw load for d and returns w's operations per second.
func rawLimit(ctx context.Context, seed string, w Workload, k *Keys, d time.Duration) (float64, error) {
	parts, counted := limitParts(w)
	var cmds []rawCommand
	var perOp float64
	for _, p := range parts {
		read, write, value := k.read, k.write, k.val16
		if p.size == size1M {
			read, write, value = k.read1M, k.write1M, k.val1M
		} else if p.size != 16 {
			return 0, fmt.Errorf("raw load: no keys of %d bytes", p.size)
		}
		ks := read
		if p.test == "set" {
			ks = write
		}
		byNode, err := rawNodes(ctx, seed, ks)
		if err != nil {
			return 0, err
		}
		cmds = append(cmds, rawCommand{part: p, keys: byNode, value: value})
		perOp += p.perOp
	}
	nodes := map[string]bool{}
	for _, c := range cmds {
		for n := range c.keys {
			nodes[n] = true
		}
	}

	var stop atomic.Bool
	counts := make([]atomic.Int64, len(cmds))
	errs := make(chan error, len(nodes)*rawConns)
	var wg sync.WaitGroup
	seed64 := uint64(1)
	for n := range nodes {
		for range rawConns {
			seed64++
			wg.Add(1)
			go func(rng uint64) {
				defer wg.Done()
				if err := rawConn(ctx, n, cmds, perOp, rng, &stop, counts); err != nil {
					errs <- err
				}
			}(seed64)
		}
	}
	sleep(ctx, d)
	stop.Store(true)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	// Each operation is perOp commands, drawn at random in proportion.
	var total float64
	for i := range cmds {
		total += float64(counts[i].Load())
	}
	return total / perOp * counted / d.Seconds(), nil
}

// rawConn keeps rawPipeline commands in flight on one connection to node
// until stop, drawing each from cmds with probability perOp/total.
func rawConn(ctx context.Context, node string, cmds []rawCommand, total float64, rng uint64, stop *atomic.Bool, counts []atomic.Int64) error {
	var dialer net.Dialer
	nc, err := dialer.DialContext(ctx, "tcp", node)
	if err != nil {
		return err
	}
	defer nc.Close()
	bw := bufio.NewWriterSize(nc, 64<<10)
	br := bufio.NewReaderSize(nc, 64<<10)
	wk := worker{rng: rng*0x9e3779b97f4a7c15 + 1}
	kinds := make([]int, rawPipeline)
	for !stop.Load() && ctx.Err() == nil {
		for i := range kinds {
			x := float64(wk.next()>>11) / (1 << 53) * total
			j := 0
			for ; j < len(cmds)-1 && x >= cmds[j].part.perOp; j++ {
				x -= cmds[j].part.perOp
			}
			kinds[i] = j
			c := cmds[j]
			keys := c.keys[node]
			if len(keys) == 0 {
				return fmt.Errorf("raw load: no key of %s on %s", rbName(c.part.test, c.part.size), node)
			}
			key := pick(keys, wk.next())
			if c.part.test == "set" {
				writeRESP(bw, "SET", key, c.value)
			} else {
				writeRESP(bw, "GET", key)
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		for _, j := range kinds {
			if err := skipReply(br); err != nil {
				return err
			}
			counts[j].Add(1)
		}
	}
	return nil
}

func writeRESP(w *bufio.Writer, args ...string) {
	w.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		w.WriteString("$" + strconv.Itoa(len(a)) + "\r\n")
		w.WriteString(a)
		w.WriteString("\r\n")
	}
}

// skipReply reads one reply of GET or SET: a status, a bulk string or a
// null; an error reply is returned as an error.
func skipReply(r *bufio.Reader) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"), line == "$-1", line == "_":
		return nil
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return fmt.Errorf("raw load: bad reply %q", line)
		}
		_, err = r.Discard(n + 2)
		return err
	}
	return fmt.Errorf("raw load: reply %q", line)
}
