package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// A node's score turns its reads into large reads after spreadAt large
// replies, stays so through a run of small ones no longer than the large
// run above spreadAt, and ends with the next.
func TestLargeReadsFollowTheRecentReplies(t *testing.T) {
	var n nodeCounters
	large := resp.Value{Kind: resp.KindBulkString, Str: strings.Repeat("v", bulkReplyBytes)}
	small := resp.Value{Kind: resp.KindBulkString, Str: "v"}
	for range spreadAt - 1 {
		n.noteReply(large)
	}
	if n.largeReads() {
		t.Fatalf("large reads after %d large replies, want %d", spreadAt-1, spreadAt)
	}
	for range 2 * maxLargeScore {
		n.noteReply(large)
	}
	for range maxLargeScore - spreadAt {
		n.noteReply(small)
	}
	if !n.largeReads() {
		t.Fatal("a short run of small replies ended large reads")
	}
	n.noteReply(small)
	if n.largeReads() {
		t.Fatal("large reads go on after the score fell below spreadAt")
	}
}

// While a node answers reads with large values, its reads go on bulk
// connections, dialled for them and closed with the engine, at most
// maxLargeReads of them in flight at once: the others wait in the client,
// and one whose context ends while it waits fails with the context's error.
func TestLargeReadsGoOnBulkConnectionsAFewAtATime(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	e := newFakeEngine(t, fc, Options{Conn: conn.Options{HealthTimeout: -1}})
	big := strings.Repeat("v", bulkReplyBytes)
	release := holdSlow(t, fc.nodes[0], "GET", resptest.Bulk(big))
	ctx := testCtx(t)
	for range spreadAt + 1 {
		if v, err := e.Do(ctx, "GET", "k"); err != nil || v.Str != big {
			t.Fatalf("GET: %d bytes, %v", len(v.Str), err)
		}
	}
	addr := fc.addr(0)
	testutil.WaitFor(t, 2*time.Second, "a bulk connection opens", func() bool { return e.Stats().ConnectionsAlive >= 2 })

	p := e.pool
	inFlight := func() int64 { return nodeInFlight(e, addr) }
	const readers = 2 * maxLargeReads
	done := make(chan error, readers)
	for range readers {
		go func() {
			v, err := e.Do(ctx, "GET", "slow")
			if err == nil && v.Str != big {
				err = errors.New("wrong reply")
			}
			done <- err
		}()
	}
	testutil.WaitFor(t, 2*time.Second, "maxLargeReads reads are sent", func() bool { return inFlight() >= maxLargeReads })
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := e.Do(short, "GET", "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read waiting for its turn: %v; want its context's error", err)
	}
	if n := inFlight(); n != maxLargeReads {
		t.Fatalf("%d large reads in flight, want at most %d", n, maxLargeReads)
	}
	release()
	for range readers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	open := e.Stats().ConnectionsAlive
	if open < 2 || open > 1+maxBulkConns {
		t.Fatalf("%d connections, want the shared one and 1 to %d bulk ones", open, maxBulkConns)
	}

	p.mu.Lock()
	var bulk []*conn.Conn
	for _, b := range p.nodes[addr].bulk {
		bulk = append(bulk, b.c)
	}
	p.mu.Unlock()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range bulk {
		if alive(c) {
			t.Fatal("a bulk connection outlived the engine")
		}
	}
}

// holdSlow makes srv answer the commands of key with reply, at once except
// those on the key "slow", which wait for the returned release (called at
// the test's end if not before).
func holdSlow(t *testing.T, srv *resptest.Server, key string, reply resptest.Reply) (release func()) {
	held := make(chan struct{})
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	srv.Handle(key, func(cmd []string) resptest.Reply {
		if cmd[1] == "slow" {
			<-held
		}
		return reply
	})
	return release
}

// nodeInFlight sums the requests written to addr and awaiting replies, on
// all its connections.
func nodeInFlight(e *Engine, addr string) int64 {
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	nc := e.pool.nodes[addr]
	n := nc.conn.InFlight()
	for _, b := range nc.bulk {
		n += b.c.InFlight()
	}
	return n
}

// Writes with large arguments go on bulk connections, one per connection at
// a time (maxLargeWrites per node); small requests meanwhile are answered on
// the shared connection.
func TestLargeWritesGoOnBulkConnectionsOneEach(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	e := newFakeEngine(t, fc, Options{Conn: conn.Options{HealthTimeout: -1}})
	release := holdSlow(t, fc.nodes[0], "SET", resptest.OK())
	fc.nodes[0].Handle("GET", func([]string) resptest.Reply { return resptest.Bulk("small") })
	ctx := testCtx(t)
	value := strings.Repeat("v", bulkArgBytes)
	addr := fc.addr(0)
	// Bursts of large writes open the bulk connections, each dialled when
	// all the open ones are in use.
	testutil.WaitFor(t, 2*time.Second, "every bulk connection opens", func() bool {
		var wg sync.WaitGroup
		for range maxLargeWrites {
			wg.Go(func() {
				if _, err := e.Do(ctx, "SET", "k", value); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return e.Stats().ConnectionsAlive == 1+maxBulkConns
	})

	const writers = 2 * maxLargeWrites
	done := make(chan error, writers)
	for range writers {
		go func() {
			_, err := e.Do(ctx, "SET", "slow", value)
			done <- err
		}()
	}
	testutil.WaitFor(t, 2*time.Second, "maxLargeWrites writes are sent", func() bool { return nodeInFlight(e, addr) >= maxLargeWrites })
	if v, err := e.Do(ctx, "GET", "k"); err != nil || v.Str != "small" {
		t.Fatalf("small read while large writes wait: %v %v", v, err)
	}
	if n := nodeInFlight(e, addr); n != maxLargeWrites {
		t.Fatalf("%d large writes in flight, want %d", n, maxLargeWrites)
	}
	e.pool.mu.Lock()
	for _, b := range e.pool.nodes[addr].bulk {
		if n := b.c.InFlight(); n > 1 {
			t.Errorf("a bulk connection has %d writes in flight, want at most 1", n)
		}
	}
	e.pool.mu.Unlock()
	release()
	for range writers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// A bulk connection older than MaxConnAge is drained and closed, and the
// next large reads open another.
func TestBulkConnectionReplacedForAge(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	const age = 150 * time.Millisecond
	e := newFakeEngine(t, fc, Options{MaxConnAge: age})
	big := strings.Repeat("v", bulkReplyBytes)
	fc.nodes[0].Handle("GET", func([]string) resptest.Reply { return resptest.Bulk(big) })
	addr := fc.addr(0)
	firstBulk := func() *conn.Conn {
		e.pool.mu.Lock()
		defer e.pool.mu.Unlock()
		if nc := e.pool.nodes[addr]; nc != nil {
			for _, b := range nc.bulk {
				if alive(b.c) {
					return b.c
				}
			}
		}
		return nil
	}
	read := func() {
		if v, err := e.Do(testCtx(t), "GET", "k"); err != nil || v.Str != big {
			t.Fatalf("GET: %d bytes, %v", len(v.Str), err)
		}
	}
	var old *conn.Conn
	testutil.WaitFor(t, 2*time.Second, "a bulk connection opens", func() bool {
		read()
		old = firstBulk()
		return old != nil
	})
	testutil.WaitFor(t, 5*time.Second, "the old bulk connection closes", func() bool { return !alive(old) })
	testutil.WaitFor(t, 2*time.Second, "another bulk connection opens", func() bool {
		read()
		c := firstBulk()
		return c != nil && c != old
	})
}

// A side connection older than MaxConnAge is drained and closed, and the
// next diverted read opens another.
func TestSideConnectionReplacedForAge(t *testing.T) {
	fc := newFakeCluster(t, 1)
	fc.setView(oneShard(1, fc.addr(0)))
	const age = 150 * time.Millisecond
	e := newFakeEngine(t, fc, Options{MaxConnAge: age})
	addr := fc.addr(0)
	fc.nodes[0].Handle("GET", func([]string) resptest.Reply { return resptest.Bulk("v") })
	if _, err := e.Do(testCtx(t), "GET", "k"); err != nil { // the node joins the pool
		t.Fatal(err)
	}
	old, err := e.pool.side(testCtx(t), addr)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the old side connection closes", func() bool { return !alive(old) })
	c, err := e.pool.side(testCtx(t), addr)
	if err != nil || c == old || !alive(c) {
		t.Fatalf("side connection after the old one's age: %p (old %p), %v", c, old, err)
	}
}
