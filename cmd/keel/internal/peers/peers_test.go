package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/lab"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"go.uber.org/goleak"
)

// dnsName is the name under which the shared cluster publishes its nodes.
const dnsName = "cluster.keel.test"

// Shared by the tests: one cluster of three shards with a replica each, on
// distinct loopback hosts behind dnsName. Started by TestMain.
var (
	shared    *lab.Cluster
	sharedDNS *lab.DNSServer
)

// TestMain starts the shared cluster, runs the tests, closes the cluster and
// then checks that nothing — ours, the peers' or the lab's — left a
// goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(withCluster{m})
}

// withCluster wraps m so that the cluster is up for m.Run and closed before
// goleak looks for leftover goroutines.
type withCluster struct{ m *testing.M }

func (w withCluster) Run() int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3, Replicas: 1, DistinctHosts: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start cluster:", err)
		return 1
	}
	defer c.Close() // on the early returns; Close is idempotent
	dns, err := c.ServeDNS(dnsName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve DNS:", err)
		return 1
	}
	shared, sharedDNS = c, dns
	code := w.m.Run()
	// Close the cluster now rather than in the deferred call, so that the
	// peers' connections to it are gone before goleak looks.
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close cluster:", err)
		code = 1
	}
	awaitGoroutines()
	return code
}

// goroutineGrace is how long the peers' own background goroutines may
// outlive a client's Close. Three are known, none ours to fix, all bounded:
//
//   - rueidis runs every cluster refresh it schedules (on a closed
//     connection, among others) in a goroutine that first sleeps a random
//     delay of up to 1s, and Close does not cancel it
//     (rueidis.(*call).DelayDo);
//   - rueidis closes the connections a refresh dropped from the topology 5s
//     later, from a goroutine Close does not cancel either
//     (rueidis.(*clusterClient)._refresh);
//   - go-redis, once a node's pool has failed PoolSize dials, probes the node
//     from a goroutine that notices the pool was closed only after its 1s
//     sleep (pool.(*ConnPool).tryDial).
//
// goleak retries for well under a second, so the checks first wait up to
// this long for goroutines to end; any still there after it is a leak.
const goroutineGrace = 7 * time.Second

// awaitGoroutines waits until no goroutine is left beyond those opts ignore,
// or goroutineGrace has passed; the goleak check that follows then reports
// whatever is left.
func awaitGoroutines(opts ...goleak.Option) {
	for deadline := time.Now().Add(goroutineGrace); time.Now().Before(deadline); {
		if goleak.Find(opts...) == nil {
			return
		}
	}
}

func TestDriversOrderAndDescribe(t *testing.T) {
	want := []struct{ name, module string }{
		{"go-redis", goRedisModule},
		{"go-redis (tuned)", goRedisModule},
		{"rueidis", rueidisModule},
	}
	ds := Drivers()
	if len(ds) != len(want) {
		t.Fatalf("Drivers() returned %d drivers, want %d", len(ds), len(want))
	}
	for i, d := range ds {
		if d.Name() != want[i].name {
			t.Errorf("driver %d is %q, want %q", i, d.Name(), want[i].name)
		}
		desc := d.Describe()
		t.Logf("%s: %s", d.Name(), desc)
		if !strings.HasPrefix(desc, want[i].module+" v") {
			t.Errorf("%s: Describe() = %q, want the module and its version first", d.Name(), desc)
		}
	}
}

// TestDriversAgainstCluster runs every driver through the drill's four
// operations on keys spread over every shard, reached through the DNS name,
// and checks that a dead context is a timeout and that Close leaves no
// goroutine behind.
func TestDriversAgainstCluster(t *testing.T) {
	for _, d := range Drivers() {
		t.Run(d.Name(), func(t *testing.T) {
			// The cluster and its DNS server run goroutines of their own
			// throughout; only what the driver starts must be gone after Close.
			before := goleak.IgnoreCurrent()
			exerciseDriver(t, d)
			awaitGoroutines(before)
			goleak.VerifyNone(t, before)
		})
	}
}

func exerciseDriver(t *testing.T, d drill.Driver) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	queries := sharedDNS.Queries()
	cl, err := d.Open(ctx, drill.Target{Seeds: []string{shared.Seed()}, Resolver: sharedDNS.Resolver()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() {
		if err := cl.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if sharedDNS.Queries() == queries {
		t.Errorf("Open resolved %s without the target's resolver", shared.Seed())
	}

	// Keys in 100 slots spread evenly over the 16384, so every shard, whose
	// slot ranges are contiguous, serves some of them; unique per run.
	run := fmt.Sprintf("%s-%d", strings.NewReplacer(" ", "", "(", "", ")", "").Replace(d.Name()), time.Now().UnixNano())
	const n = 100
	for i := range n {
		key := lab.KeyInSlot(i*16384/n, run)
		value := fmt.Sprintf("v%d", i)
		if err := cl.Set(ctx, key, value); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
		got, found, err := cl.Get(ctx, key)
		if err != nil || !found || got != value {
			t.Fatalf("GET %s = %q, %v, %v; want %q, true, nil", key, got, found, err, value)
		}
		counter := key + ":n"
		for want := int64(1); want <= 2; want++ {
			if got, err := cl.Incr(ctx, counter); err != nil || got != want {
				t.Fatalf("INCR %s = %d, %v; want %d, nil", counter, got, err, want)
			}
		}
	}

	if v, found, err := cl.Get(ctx, run+":missing"); err != nil || found {
		t.Errorf("GET of a missing key = %q, %v, %v; want not found, no error", v, found, err)
	}

	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	expired, cancelExpired := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancelExpired()
	for name, dead := range map[string]context.Context{"cancelled": cancelled, "expired": expired} {
		key := lab.KeyInSlot(0, run)
		ops := map[string]error{
			"GET":  func() error { _, _, err := cl.Get(dead, key); return err }(),
			"SET":  cl.Set(dead, key, "x"),
			"INCR": func() error { _, err := cl.Incr(dead, key+":n"); return err }(),
		}
		for op, err := range ops {
			if c := drill.Classify(err); c != drill.ClassTimeout {
				t.Errorf("%s with a %s context: error %v is class %v, want %v", op, name, err, c, drill.ClassTimeout)
			}
		}
	}
}

// TestKilledNodeErrorsClassify kills the only node of a one-shard cluster
// under a client of every driver and checks that what each then returns is a
// connection error or a timeout for drill.Classify, never "other".
func TestKilledNodeErrorsClassify(t *testing.T) {
	// Parallel tests run after the others, so they cannot disturb the
	// goroutine snapshots of TestDriversAgainstCluster.
	t.Parallel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const key = "killed-node-test"
	drivers := Drivers()
	clients := make([]drill.Client, len(drivers))
	for i, d := range drivers {
		cl, err := d.Open(ctx, drill.Target{Seeds: c.Addrs()})
		if err != nil {
			t.Fatalf("%s: Open: %v", d.Name(), err)
		}
		defer cl.Close()
		if err := cl.Set(ctx, key, "v"); err != nil {
			t.Fatalf("%s: SET before the kill: %v", d.Name(), err)
		}
		clients[i] = cl
	}
	if _, err := c.Kill(c.Nodes()[0]); err != nil {
		t.Fatal(err)
	}

	// The drivers take their time to give up (go-redis redials five times
	// per attempt), so they run side by side; each one's operations in turn.
	type outcome struct {
		op   string
		err  error
		took time.Duration
	}
	outcomes := make([][]outcome, len(clients))
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			for _, op := range []struct {
				name string
				do   func(context.Context) error
			}{
				{"GET", func(ctx context.Context) error { _, _, err := cl.Get(ctx, key); return err }},
				{"SET", func(ctx context.Context) error { return cl.Set(ctx, key, "w") }},
				{"INCR", func(ctx context.Context) error { _, err := cl.Incr(ctx, key+":n"); return err }},
			} {
				opCtx, opCancel := context.WithTimeout(ctx, 2*time.Second)
				start := time.Now()
				err := op.do(opCtx)
				opCancel()
				outcomes[i] = append(outcomes[i], outcome{op.name, err, time.Since(start)})
			}
		})
	}
	wg.Wait()

	for i, d := range drivers {
		for _, o := range outcomes[i] {
			class := drill.Classify(o.err)
			t.Logf("%s: %s after the kill: %v in %v: %v", d.Name(), o.op, class, o.took.Round(time.Millisecond), o.err)
			if class != drill.ClassConn && class != drill.ClassTimeout {
				t.Errorf("%s: %s after the kill: error %v is class %v, want conn or timeout", d.Name(), o.op, o.err, class)
			}
		}
	}
}

// TestPeerErrorValuesClassify checks the error values the peers build for a
// refused connection and a passed deadline, without a server.
func TestPeerErrorValuesClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		err  error
		want drill.Class
	}{
		{"refused dial", refused, drill.ClassConn},
		{"go-redis pool closed", redis.ErrClosed, drill.ClassConn},
		{"deadline", context.DeadlineExceeded, drill.ClassTimeout},
		{"wrapped deadline", fmt.Errorf("redis: %w", context.DeadlineExceeded), drill.ClassTimeout},
		{"rueidis closing, as the driver returns it", rueidisErr(rueidis.ErrClosing), drill.ClassConn},
	} {
		if got := drill.Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if !errors.Is(refused, syscall.ECONNREFUSED) {
		t.Fatal("test error is not ECONNREFUSED")
	}
	if !errors.Is(rueidisErr(rueidis.ErrClosing), rueidis.ErrClosing) {
		t.Error("the driver's ErrClosing no longer matches rueidis.ErrClosing")
	}
}

// TestDriversTLSAndPassword opens every driver on a cluster that speaks TLS
// only and wants a password, with the dial and handshake done by dialTarget.
func TestDriversTLSAndPassword(t *testing.T) {
	t.Parallel()
	// One shard: lab does not form TLS clusters of more nodes yet (they never
	// learn of each other), so the peers' reading of the nodes' TLS ports
	// from the slot map is not covered.
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 1, TLS: true, Password: "s3cret"})
	for _, d := range Drivers() {
		t.Run(d.Name(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			target := drill.Target{Seeds: c.Addrs(), Password: "s3cret", TLS: c.TLSConfig()}
			cl, err := d.Open(ctx, target)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer cl.Close()
			for _, slot := range []int{0, 16383} {
				key := lab.KeyInSlot(slot, "tls")
				if err := cl.Set(ctx, key, "v"); err != nil {
					t.Fatalf("SET %s: %v", key, err)
				}
				if v, found, err := cl.Get(ctx, key); err != nil || !found || v != "v" {
					t.Fatalf("GET %s = %q, %v, %v; want \"v\", true, nil", key, v, found, err)
				}
			}

			target.Password = "wrong"
			if cl, err := d.Open(ctx, target); err == nil {
				cl.Close()
				t.Error("Open with a wrong password succeeded")
			}
		})
	}
}
