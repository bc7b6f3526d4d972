package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// Pipeline runs cmds and returns their results in order. Commands going to
// the same node are sent back to back in one batch; a command that meets a
// redirect or a retryable failure is then run again on its own, by the same
// rules as Do. Commands on different slots may run in any order relative to
// each other; commands on one slot run in the order given, unless one of
// them had to be retried.
func (e *Engine) Pipeline(ctx context.Context, cmds [][]string) []resp.Result {
	return e.pipelineAdmitted(ctx, cmds, nil)
}

// pipelineAdmitted is Pipeline, recording in obs when it is not nil.
func (e *Engine) pipelineAdmitted(ctx context.Context, cmds [][]string, obs *Observation) []resp.Result {
	refuse := ErrClosed
	if ctx == nil {
		refuse = ErrNilContext
	}
	if refuse == ErrNilContext || !e.begin() {
		results := make([]resp.Result, len(cmds))
		for i := range results {
			results[i].Err = refuse
		}
		return results
	}
	defer e.end()
	e.stats.requests.Add(int64(len(cmds)))
	return e.pipeline(ctx, cmds, obs)
}

// pipeline is Pipeline for a caller already admitted (begin). obs, when not
// nil, records where the commands went and how many tries they took.
func (e *Engine) pipeline(ctx context.Context, cmds [][]string, obs *Observation) []resp.Result {
	results := make([]resp.Result, len(cmds))
	type batch struct {
		addr    string
		n       int   // commands for addr
		indexes []int // their indexes in cmds, in order
	}
	var batches []batch // one per node
	var alone []int     // commands that take the ordinary path
	scratch := make([]int, 2*len(cmds))
	where := scratch[:len(cmds)] // each command's batch, or -1
	for i, args := range cmds {
		where[i] = -1
		if len(args) == 0 {
			results[i].Err = errEmptyCommand
			continue
		}
		cmd := e.command(ctx, args)
		if err := ConnStateError(&cmd, args); err != nil {
			return refuseAll(len(cmds), i, err)
		}
		if IsBlocking(cmd, args) {
			results[i].Err = blockingRefusal(cmd.Name)
			continue
		}
		slot, hasKeys, err := e.RouteSlot(cmd, args)
		if err != nil || !hasKeys && ownPath(cmd, args) {
			alone = append(alone, i)
			continue
		}
		addr, err := e.pick(slot, hasKeys, cmd.ReadOnly)
		if err != nil || e.isSuspect(addr) {
			alone = append(alone, i)
			continue
		}
		// A linear search: a pipeline meets few nodes, and even among a
		// hundred it costs less than the command's own encoding.
		j := slices.IndexFunc(batches, func(b batch) bool { return b.addr == addr })
		if j < 0 {
			j = len(batches)
			batches = append(batches, batch{addr: addr})
		}
		batches[j].n++
		where[i] = j
	}
	// Every batch's indexes, in order, cut from one array.
	flat := scratch[len(cmds):]
	for j := range batches {
		batches[j].indexes, flat = flat[:0:batches[j].n], flat[batches[j].n:]
	}
	for i, j := range where {
		if j >= 0 {
			batches[j].indexes = append(batches[j].indexes, i)
		}
	}

	// Every node's batch is sent before any reply is awaited, so their
	// round trips overlap with no goroutine per node. The connections are
	// found (or dialled) first: a batch written directly holds its
	// connection's read until Read, which must not wait for a dial; and
	// every batch is Read (for at most the connection's patience) before
	// any is waited for, which may take as long as the node does.
	sends := make([]batchSend, len(batches))
	for k, b := range batches {
		sends[k] = e.batchConn(ctx, b.addr)
	}
	for k, b := range batches {
		sends[k].send(ctx, cmds, b.indexes)
	}
	for k := range sends {
		sends[k].sent.Read(ctx)
	}
	redirects := 0
	for k, b := range batches {
		redo, redirected := e.finishBatch(ctx, &sends[k], b.addr, cmds, b.indexes, results)
		alone = append(alone, redo...)
		redirects += redirected
	}
	var each []Observation // one per command run alone, when observed
	if obs != nil {
		for _, b := range batches {
			obs.addNode(b.addr)
		}
		obs.Attempts += len(batches)
		obs.Redirects += redirects
		each = make([]Observation, len(alone))
	}
	runAll(len(alone), func(k int) {
		i := alone[k]
		var o *Observation
		if each != nil {
			o = &each[k]
		}
		results[i].Value, results[i].Err = e.runOne(ctx, cmds[i], o)
	})
	for k := range each {
		obs.addNode(each[k].Node)
		for _, n := range each[k].Nodes {
			obs.addNode(n)
		}
		obs.Attempts += each[k].Attempts
		obs.Redirects += each[k].Redirects
	}
	return results
}

// refuseAll fails every command of a pipeline, sending none, because
// command bad would change the state of the connection it shares with the
// others (a MULTI … EXEC written as a pipeline must not run its middle
// without the transaction around it).
func refuseAll(n, bad int, err error) []resp.Result {
	results := make([]resp.Result, n)
	for i := range results {
		if i == bad {
			results[i].Err = err
		} else {
			results[i].Err = fmt.Errorf("keel: not sent, as command %d of the pipeline was refused: %w", bad, err)
		}
	}
	return results
}

// runAll runs f(0) … f(n-1) concurrently and waits for them all; the last
// runs on the calling goroutine, so a single call starts none.
func runAll(n int, f func(k int)) {
	if n == 0 {
		return
	}
	var wg sync.WaitGroup
	for k := range n - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(k)
		}()
	}
	f(n - 1)
	wg.Wait()
}

// batchSend is one node's batch of a pipeline, from its connection to its
// replies.
type batchSend struct {
	c     *conn.Conn
	stats *nodeCounters
	err   error // the connection could not be had, or the batch not sent
	sent  conn.Sent
}

// batchConn finds addr's connection for a batch.
func (e *Engine) batchConn(ctx context.Context, addr string) batchSend {
	c, stats, err := e.pool.node(ctx, addr, true)
	return batchSend{c: c, stats: stats, err: err}
}

// send sends the commands at indexes, unless the connection could not be
// had.
func (s *batchSend) send(ctx context.Context, cmds [][]string, indexes []int) {
	if s.err != nil {
		return
	}
	s.stats.requests.Add(int64(len(indexes)))
	s.sent, s.err = s.c.SendEach(ctx, cmds, indexes)
}

// finishBatch waits for the replies of a batch sent to addr and fills in
// their results. It returns the indexes to run again on their own: those
// never sent, those redirected or refused for a retryable reason, and
// those whose connection failed when retrying them is safe; and how many
// were redirected.
func (e *Engine) finishBatch(ctx context.Context, s *batchSend, addr string, cmds [][]string, indexes []int, results []resp.Result) (redo []int, redirected int) {
	if s.c == nil || s.err != nil && !conn.MayHaveRun(s.err) {
		// Nothing was sent: refused, or the caller's time was up first.
		if ctx.Err() != nil {
			for _, i := range indexes {
				results[i].Err = ctx.Err()
			}
			return nil, 0
		}
		return indexes, 0 // nothing was sent
	}
	got, err := s.sent.Wait(ctx, func(j int, v resp.Value) { results[indexes[j]].Value = v })
	if got < len(indexes) {
		s.stats.errors.Add(int64(len(indexes) - got))
	}
	for j, i := range indexes {
		if j < got {
			v := results[i].Value
			if v.Kind != resp.KindError {
				continue // the common case: nothing to classify
			}
			err := v.Err()
			re, action := replyAction(err)
			switch action {
			case final:
				results[i].Err = err
				continue
			case redirect:
				s.stats.redirects.Add(1)
				redirected++
				// An ASK is followed when the command runs again on its own.
				if slot, to, ok := re.Redirect(); ok && re.Code == "MOVED" {
					e.moved(slot, redirectAddr(to, addr))
				}
			case refreshFirst:
				e.trigger(re.Code)
			}
			results[i].Value = resp.Value{}
			redo = append(redo, i)
			continue
		}
		cmd, _ := Lookup(cmds[i][0])
		retryUnknown := e.opts.RetryUnknownOutcome || IsIdempotent(cmd, cmds[i])
		if ferr, again := e.connFailure(ctx, err, retryUnknown); again {
			redo = append(redo, i)
		} else {
			results[i].Err = ferr
		}
	}
	return redo, redirected
}
