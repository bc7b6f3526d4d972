package keel_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
)

// nodeDo runs one command on one node, outside the client.
func nodeDo(t *testing.T, n *lab.Node, args ...string) keel.Value {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.Dial(ctx, n.Addr(), conn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Do(ctx, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", n, args, err)
	}
	return v
}

// Transactions and watches follow a slot migration caught half-way: a key
// already moved makes the source answer ASK, and the whole transaction goes
// to the target after ASKING (which, sent before MULTI, holds until EXEC); a
// transaction whose keys are split between the two nodes is refused
// (TRYAGAIN) and retried, never run in part; once the slot is moved, MOVED
// sends it to the new owner. Then, under a forced failover and a migration
// of the slot, transactions running in a loop run exactly once or fail
// with ErrUnknownOutcome.
func TestTxThroughMigrationAndFailover(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	cl := newClient(t, c, keel.Options{})
	slots, primaries := shardSlots(t, c)
	slot, from, to := slots[0], primaries[0], primaries[1]
	tag := "{" + lab.SlotTag(slot) + "}"
	moved, stays := tag+"moved", tag+"stays"
	for _, k := range []string{moved, stays} {
		if err := cl.Set(ctx, k, 10); err != nil {
			t.Fatal(err)
		}
	}

	// Half-way through a migration: one key moved.
	nodeDo(t, to, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "IMPORTING", from.ID())
	nodeDo(t, from, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "MIGRATING", to.ID())
	nodeDo(t, from, "MIGRATE", to.Host(), strconv.Itoa(to.Port()), "", "0", "5000", "KEYS", moved)

	asked := cl.Stats().Asked
	tx := cl.Tx()
	incr := keel.Queue(tx, keel.Incr(moved))
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatalf("transaction on a migrated key: %v", err)
	}
	if n, _ := incr.Result(); n != 11 || cl.Stats().Asked == asked {
		t.Fatalf("INCR = %d, asked %d -> %d; want 11 after an ASK", n, asked, cl.Stats().Asked)
	}
	err := cl.Watch(ctx, func(w *keel.Watch) error {
		v, err := keel.Run(ctx, w, keel.Get(moved))
		if err != nil {
			return err
		}
		_, err = w.Tx().Do("SET", moved, v+"!").Exec(ctx)
		return err
	}, moved)
	if err != nil {
		t.Fatalf("watch of a migrated key: %v", err)
	}
	if v, _ := cl.Get(ctx, moved); v != "11!" {
		t.Fatalf("after the watch, %s = %q, want 11!", moved, v)
	}

	// Keys on both sides: TRYAGAIN, retried until the deadline (which may
	// cut a try off in flight: the outcome is then unknown to the client),
	// and nothing ran.
	retries := cl.Stats().Retries
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = cl.Tx().Do("INCR", stays).Do("SET", moved, "split").Exec(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) || cl.Stats().Retries-retries < 2 {
		t.Fatalf("split transaction: err = %v after %d retries, want retries until the deadline", err, cl.Stats().Retries-retries)
	}
	if v, _ := cl.Get(ctx, stays); v != "10" {
		t.Fatalf("%s = %q: part of a refused transaction ran", stays, v)
	}

	// Finish the move: MOVED sends transactions to the new owner.
	nodeDo(t, from, "MIGRATE", to.Host(), strconv.Itoa(to.Port()), "", "0", "5000", "KEYS", stays)
	for _, n := range primaries {
		nodeDo(t, n, "CLUSTER", "SETSLOT", strconv.Itoa(slot), "NODE", to.ID())
	}
	if _, err := cl.Tx().Do("INCR", stays).Do("INCR", moved).Exec(ctx); err != nil {
		t.Fatalf("transaction after the move: %v", err)
	}
	if v, _ := cl.Get(ctx, stays); v != "11" {
		t.Fatalf("%s = %q, want 11", stays, v)
	}

	// Faults under a loop of transactions.
	a := startTxAudit(cl, tag)
	if err := c.WaitStable(ctx); err != nil {
		t.Fatal(err)
	}
	a.waitProgress(t, 20)
	owner, err := c.PrimaryFor(ctx, slot)
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := c.ReplicasOf(ctx, owner)
	if err != nil || len(replicas) == 0 {
		t.Fatalf("replicas of %s: %v, %v", owner, replicas, err)
	}
	step, err := c.Failover(ctx, replicas[0], lab.FailoverForce)
	if err != nil {
		t.Fatal(err)
	}
	// A forced failover may lose what the old primary acknowledged before
	// it learned of its demotion; nothing acknowledged after may be lost.
	lossBefore := step.Done.Add(time.Second)
	a.waitProgress(t, 20)
	// Fill the slot so that its migration takes a while, key by key.
	for i := range 300 {
		if err := cl.Set(ctx, tag+"fill"+strconv.Itoa(i), i); err != nil {
			t.Fatal(err)
		}
	}
	if owner, err = c.PrimaryFor(ctx, slot); err != nil {
		t.Fatal(err)
	}
	target := primaries[2]
	if _, err := c.MigrateSlots(ctx, []int{slot}, owner, target, lab.MigrateOptions{BatchSize: 1, Pause: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	a.waitProgress(t, 20)
	a.check(t, cl, lossBefore)
}

// txAudit runs transactions in a loop, each incrementing a counter and
// logging its id, and records what the client said of each.
type txAudit struct {
	tag    string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	status map[string]error     // id → Exec's (or Watch's) error
	at     map[string]time.Time // id → when Exec (or Watch) returned
}

func startTxAudit(cl *keel.Client, tag string) *txAudit {
	ctx, cancel := context.WithCancel(context.Background())
	a := &txAudit{tag: tag, cancel: cancel, status: map[string]error{}, at: map[string]time.Time{}}
	run := func(prefix string, once func(ctx context.Context, id string) error) {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id := prefix + strconv.Itoa(i)
				opCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := once(opCtx, id)
				cancel()
				if ctx.Err() != nil {
					return // cut off by the end of the test: not judged
				}
				a.mu.Lock()
				a.status[id], a.at[id] = err, time.Now()
				a.mu.Unlock()
				time.Sleep(2 * time.Millisecond) // pace the load; not synchronisation
			}
		}()
	}
	for g := range 3 {
		run("tx"+strconv.Itoa(g)+"-", func(ctx context.Context, id string) error {
			_, err := cl.Tx().Do("INCR", tag+"count").Do("RPUSH", tag+"log", id).Exec(ctx)
			return err
		})
	}
	for g := range 2 {
		run("w"+strconv.Itoa(g)+"-", func(ctx context.Context, id string) error {
			return cl.Watch(ctx, func(w *keel.Watch) error {
				v, err := keel.Run(ctx, w, keel.Get(tag+"wcount"))
				if err != nil && !errors.Is(err, keel.ErrNil) {
					return err
				}
				n, _ := strconv.Atoi(v)
				_, err = w.Tx().Do("SET", tag+"wcount", n+1).Do("RPUSH", tag+"wlog", id).Exec(ctx)
				return err
			}, tag+"wcount")
		})
	}
	return a
}

// waitProgress polls until n more transactions have succeeded.
func (a *txAudit) waitProgress(t *testing.T, n int) {
	t.Helper()
	count := func() int {
		a.mu.Lock()
		defer a.mu.Unlock()
		ok := 0
		for _, err := range a.status {
			if err == nil {
				ok++
			}
		}
		return ok
	}
	want := count() + n
	testutil.WaitFor(t, 30*time.Second, strconv.Itoa(n)+" more transactions succeed", func() bool { return count() >= want })
}

// check stops the loop and compares the logs with what the client said: no
// transaction ran twice or in part, none that failed with a known outcome
// ran, and every one acknowledged after lossBefore ran (earlier ones may be
// lost to a forced failover's asynchronous replication: they are counted).
func (a *txAudit) check(t *testing.T, cl *keel.Client, lossBefore time.Time) {
	t.Helper()
	a.cancel()
	a.wg.Wait()
	ctx := context.Background()
	for _, pair := range [][2]string{{"count", "log"}, {"wcount", "wlog"}} {
		counter, _ := cl.Get(ctx, a.tag+pair[0])
		logged, err := cl.LRange(ctx, a.tag+pair[1], 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if counter != strconv.Itoa(len(logged)) {
			t.Errorf("%s = %s but %d ids logged: a transaction ran in part", pair[0], counter, len(logged))
		}
		sorted := slices.Clone(logged)
		slices.Sort(sorted)
		if d := slices.Compact(slices.Clone(sorted)); len(d) != len(sorted) {
			t.Errorf("%s: an id is logged twice: a transaction ran twice", pair[1])
		}
		inLog := map[string]bool{}
		for _, id := range logged {
			inLog[id] = true
		}
		a.mu.Lock()
		var acked, unknown, failed, lost int
		for id, err := range a.status {
			if (id[0] == 'w') != (pair[0] == "wcount") {
				continue
			}
			switch {
			case err == nil:
				acked++
				if !inLog[id] {
					lost++
					if a.at[id].After(lossBefore) {
						t.Errorf("%s was acknowledged after the failover, yet it did not run", id)
					}
				}
			case errors.Is(err, keel.ErrUnknownOutcome):
				unknown++
			default:
				failed++
				if inLog[id] {
					t.Errorf("%s failed with %v, yet it ran", id, err)
				}
			}
		}
		a.mu.Unlock()
		t.Logf("%s: %d logged; acknowledged %d, unknown outcome %d, failed %d, acknowledged but lost %d", pair[1], len(logged), acked, unknown, failed, lost)
	}
}
