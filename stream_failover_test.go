package keel_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// TestStreamWorkerFailover runs the example's worker (streamWorker) through
// a forced failover of its stream's primary, then a killed primary, while a producer keeps adding
// entries: every entry the producer knows replicated is handled, and none
// is handled twice.
//
// The producer adds each entry through a Watch and then runs WAIT 1 there:
// an entry counts as produced only once a replica has it, since a forced
// failover may drop the old primary's last writes. Entries whose WAIT did
// not confirm them may be lost; they are still checked for double handling.
func TestStreamWorkerFailover(t *testing.T) {
	testutil.SkipIfShort(t)
	// Three primaries: a majority is left to elect a replica when one dies.
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	cl := newClient(t, c, keel.Options{})
	ctx := testutil.Context(t, 2*time.Minute)
	stream := lab.KeyInSlot(blockSlot, "jobs")
	must(t, cl.XGroupCreateWith(ctx, stream, "g", "$", keel.XGroupCreateOptions{MkStream: true}))

	var mu sync.Mutex
	handled := map[string]int{}
	w := &streamWorker{
		client: cl, stream: stream, group: "g", consumer: "w1",
		claimEvery: 200 * time.Millisecond, staleAfter: 2 * time.Second,
		handle: func(m keel.XMessage) {
			mu.Lock()
			handled[m.ID]++
			mu.Unlock()
		},
	}
	workCtx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		w.run(workCtx)
	}()
	defer func() { stopWorker(); <-workerDone }()

	var produced, uncertain []string
	prodCtx, stopProducer := context.WithCancel(ctx)
	producerDone := make(chan struct{})
	go func() {
		defer close(producerDone)
		for i := 0; prodCtx.Err() == nil; i++ {
			var id string
			var acked int64
			err := cl.Watch(prodCtx, func(wt *keel.Watch) error {
				v, err := wt.Do(prodCtx, "XADD", stream, "*", "n", i)
				if err != nil {
					return err
				}
				id, _ = v.Text()
				acked, err = keel.Run(prodCtx, wt, keel.Wait(1, 50*time.Millisecond))
				return err
			}, stream)
			switch {
			case err == nil && acked == 1:
				produced = append(produced, id)
			case id != "":
				uncertain = append(uncertain, id)
			}
			time.Sleep(2 * time.Millisecond) // pace the producer, not a synchronisation
		}
	}()

	handledCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)
	}
	testutil.WaitFor(t, 20*time.Second, "entries handled before the failover", func() bool { return handledCount() >= 50 })
	// A forced failover (the old primary, alive, unblocks its blocked
	// clients with UNBLOCKED: nothing taken, the read is re-issued), then a
	// killed primary (the blocked read's reply is lost: ErrUnknownOutcome,
	// and the worker re-reads its history).
	for _, fault := range []string{"force", "kill"} {
		primary, err := c.PrimaryFor(ctx, blockSlot)
		must(t, err)
		if fault == "force" {
			replicas, err := c.ReplicasOf(ctx, primary)
			must(t, err)
			_, err = c.Failover(ctx, replicas[0], lab.FailoverForce)
			must(t, err)
		} else {
			_, err = c.Kill(primary)
			must(t, err)
		}
		after := handledCount()
		testutil.WaitFor(t, 30*time.Second, "entries handled after "+fault, func() bool { return handledCount() >= after+20 })
	}
	stopProducer()
	<-producerDone

	testutil.WaitFor(t, 20*time.Second, "every produced entry handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range produced {
			if handled[id] == 0 {
				return false
			}
		}
		return true
	})
	stopWorker()
	<-workerDone
	mu.Lock()
	defer mu.Unlock()
	for id, n := range handled {
		if n > 1 {
			t.Errorf("entry %s handled %d times", id, n)
		}
	}
	st := cl.Stats()
	t.Logf("%d entries produced and replicated, %d uncertain, %d handled; unknown outcomes %d, retries %d", len(produced), len(uncertain), len(handled), st.UnknownOutcomes, st.Retries)
}
