package keel_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/lab"
)

// startStandalone starts a primary and, when replicas > 0, replicas of it,
// and waits until the primary lists them all as connected.
func startStandalone(t *testing.T, replicas int) (*lab.Server, []*lab.Server) {
	t.Helper()
	primary := lab.StartServerT(t, lab.ServerOptions{Args: []string{"--repl-diskless-sync-delay", "0"}})
	host, port, _ := strings.Cut(primary.Addr(), ":")
	var reps []*lab.Server
	for range replicas {
		reps = append(reps, lab.StartServerT(t, lab.ServerOptions{Args: []string{"--replicaof", host, port}}))
	}
	waitFor(t, "replicas online", func() bool {
		return strings.Count(infoReplication(t, primary.Addr()), ",state=online,") == replicas
	})
	return primary, reps
}

// infoReplication returns a server's INFO replication, through a client of
// its own in standalone mode.
func infoReplication(t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := keel.New(ctx, keel.Options{Seeds: []string{addr}, Mode: keel.ModeStandalone})
	if err != nil {
		return ""
	}
	defer c.Close()
	for _, n := range c.Nodes() {
		if n.Addr() == addr {
			v, err := n.Do(ctx, "INFO", "replication")
			if err != nil {
				return ""
			}
			s, _ := v.Text()
			return s
		}
	}
	return ""
}

// keysInSlots returns n keys of n different slots.
func keysInSlots(prefix string, n int) []string {
	var keys []string
	seen := map[int]bool{}
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if s := cluster.Slot(k); !seen[s] {
			seen[s] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func TestStandaloneCommands(t *testing.T) {
	primary, replicas := startStandalone(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Auto mode, a URL seed, and reads from the replica.
	c, err := keel.New(ctx, keel.Options{
		Seeds:      []string{"redis://" + primary.Addr()},
		ReadPolicy: keel.ReadReplicaPreferred,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if got := c.Primaries(); len(got) != 1 || got[0].Addr() != primary.Addr() {
		t.Fatalf("Primaries = %v, want %s", got, primary.Addr())
	}
	if got := c.Replicas(); len(got) != 1 || got[0].Addr() != replicas[0].Addr() {
		t.Fatalf("Replicas = %v, want %s", got, replicas[0].Addr())
	}
	if s := c.Stats(); s.CoveredSlots != cluster.SlotCount || s.KnownNodes != 2 {
		t.Fatalf("Stats: %d slots, %d nodes; want every slot, 2 nodes", s.CoveredSlots, s.KnownNodes)
	}

	keys := keysInSlots("sa", 5)
	for i, k := range keys {
		if err := c.Set(ctx, k, i); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	// One MGET, keys of five slots: no ErrCrossSlot, every value (read
	// from the replica once it has them).
	waitFor(t, "the replica's values", func() bool {
		vals, err := c.MGet(ctx, keys...)
		if err != nil {
			t.Fatalf("MGET: %v", err)
		}
		for i, v := range vals {
			if !v.Valid || v.Value != fmt.Sprint(i) {
				return false
			}
		}
		return true
	})
	if n, err := c.Do(ctx, "DEL", keys[0], keys[1]); err != nil || n.Int != 2 {
		t.Fatalf("DEL of two slots = %v, %v; want 2", n, err)
	}

	// A transaction of keys in several slots.
	res, err := c.Tx().Do("SET", keys[0], "a").Do("SET", keys[1], "b").Do("MGET", keys[0], keys[1]).Exec(ctx)
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
	if got, err := res[2].Value.Strings(); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Tx MGET = %v, %v; want [a b]", got, err)
	}

	// A watch of keys in several slots, with its transaction.
	err = c.Watch(ctx, func(w *keel.Watch) error {
		v, err := w.Do(ctx, "GET", keys[2])
		if err != nil {
			return err
		}
		_, err = w.Tx().Do("SET", keys[3], v.Str).Do("SET", keys[4], "w").Exec(ctx)
		return err
	}, keys[2], keys[3])
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if got, err := c.Get(ctx, keys[3]); err != nil || got != "2" {
		t.Fatalf("GET after Watch = %q, %v; want 2", got, err)
	}

	// A pipeline with a cross-slot command.
	p := c.Pipeline()
	p.Do("MSET", keys[0], "x", keys[1], "y")
	p.Do("MGET", keys[0], keys[1])
	out := p.Exec(ctx)
	if got, err := out[1].Value.Strings(); err != nil || len(got) != 2 {
		t.Fatalf("pipelined MGET = %v, %v", got, err) // read from the replica: old or new values
	}
	waitFor(t, "the pipeline's writes", func() bool {
		vals, err := c.MGet(ctx, keys[0], keys[1])
		return err == nil && vals[0].Value == "x" && vals[1].Value == "y"
	})

	// BLPOP over two slots, served by a push made while it blocks.
	list := keysInSlots("salist", 2)
	popped := make(chan error, 1)
	go func() {
		kv, err := c.BLPop(ctx, 10*time.Second, list...)
		if err == nil && (kv.Key != list[1] || kv.Value != "v") {
			err = fmt.Errorf("BLPOP = %+v, want %s v", kv, list[1])
		}
		popped <- err
	}()
	waitFor(t, "BLPOP blocked", func() bool {
		v, err := c.Primaries()[0].Do(ctx, "CLIENT", "LIST", "TYPE", "normal")
		return err == nil && strings.Contains(v.Str, "cmd=blpop")
	})
	if _, err := c.LPush(ctx, list[1], "v"); err != nil {
		t.Fatal(err)
	}
	if err := <-popped; err != nil {
		t.Fatal(err)
	}

	// Cluster commands are the server's to refuse.
	if _, err := c.Do(ctx, "CLUSTER", "INFO"); err == nil || !strings.Contains(err.Error(), "cluster support disabled") {
		t.Fatalf("CLUSTER INFO: err = %v, want the server's refusal", err)
	}

	// Scan sees every key.
	var scanned []string
	for k, err := range c.Scan(ctx, keel.ScanOptions{Match: "sa:*"}) {
		if err != nil {
			t.Fatal(err)
		}
		scanned = append(scanned, k)
	}
	slices.Sort(scanned)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(scanned, want) {
		t.Fatalf("Scan = %v, want %v", scanned, want)
	}
}

func TestStandaloneSeedIsReplica(t *testing.T) {
	primary, replicas := startStandalone(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := keel.New(ctx, keel.Options{Seeds: []string{replicas[0].Addr()}, Mode: keel.ModeStandalone})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Primaries(); len(got) != 1 || got[0].Addr() != primary.Addr() {
		t.Fatalf("Primaries = %v, want the replica's master %s", got, primary.Addr())
	}
	if err := c.Set(ctx, "seed-replica", "ok"); err != nil {
		t.Fatalf("SET through a replica seed: %v", err)
	}
}

func TestStandaloneDatabase(t *testing.T) {
	primary, _ := startStandalone(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db3, err := keel.New(ctx, keel.Options{Seeds: []string{"redis://" + primary.Addr() + "/3"}, Mode: keel.ModeStandalone})
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	db0, err := keel.New(ctx, keel.Options{Seeds: []string{"redis://" + primary.Addr() + "/0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db0.Close()
	if err := db3.Set(ctx, "in-db3", "3"); err != nil {
		t.Fatal(err)
	}
	if got, err := db3.Get(ctx, "in-db3"); err != nil || got != "3" {
		t.Fatalf("GET in db 3 = %q, %v", got, err)
	}
	if _, err := db0.Get(ctx, "in-db3"); !errors.Is(err, keel.ErrNil) {
		t.Fatalf("GET in db 0 of a db 3 key: err = %v, want ErrNil", err)
	}
}

func TestModeErrors(t *testing.T) {
	primary, _ := startStandalone(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		opts keel.Options
		want error
	}{
		{"cluster mode on a standalone server", keel.Options{Seeds: []string{primary.Addr()}, Mode: keel.ModeCluster}, keel.ErrNotCluster},
		{"database without standalone mode", keel.Options{Seeds: []string{"redis://" + primary.Addr() + "/2"}}, keel.ErrBadOptions},
		{"database in cluster mode", keel.Options{Seeds: []string{"redis://" + primary.Addr() + "/2"}, Mode: keel.ModeCluster}, keel.ErrBadOptions},
		{"unknown mode", keel.Options{Seeds: []string{primary.Addr()}, Mode: keel.Mode(9)}, keel.ErrBadOptions},
		{"unknown scheme", keel.Options{Seeds: []string{"http://" + primary.Addr()}}, keel.ErrBadOptions},
		{"database not a number", keel.Options{Seeds: []string{"redis://" + primary.Addr() + "/x"}}, keel.ErrBadOptions},
		{"URL and Password", keel.Options{Seeds: []string{"redis://u:p@" + primary.Addr()}, Password: "p"}, keel.ErrBadOptions},
		{"URLs disagree", keel.Options{Seeds: []string{"redis://" + primary.Addr(), "rediss://" + primary.Addr()}}, keel.ErrBadOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := keel.New(ctx, tc.opts)
			if err == nil {
				c.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("New: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSeedURLCredentials(t *testing.T) {
	srv := lab.StartServerT(t, lab.ServerOptions{Password: "s3cret", User: "app"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, seed := range []string{
		"redis://app:s3cret@" + srv.Addr(),
		"redis://:s3cret@" + srv.Addr(),
		"redis://s3cret@" + srv.Addr(),
	} {
		c, err := keel.New(ctx, keel.Options{Seeds: []string{seed}})
		if err != nil {
			t.Fatalf("New(%s): %v", strings.Replace(seed, "s3cret", "xxx", 1), err)
		}
		if _, err := c.Do(ctx, "PING"); err != nil {
			t.Errorf("PING: %v", err)
		}
		c.Close()
	}
	_, err := keel.New(ctx, keel.Options{Seeds: []string{"redis://app:wrong@" + srv.Addr()}})
	if !errors.Is(err, keel.ErrAuth) {
		t.Fatalf("wrong password: err = %v, want ErrAuth", err)
	}
	if strings.Contains(fmt.Sprint(err), "wrong") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

func TestStandaloneNamesMissingRolePermission(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := keel.New(ctx, keel.Options{Seeds: []string{s.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Primaries()[0].Do(ctx, "ACL", "SETUSER", "app", "on", ">secret", "~*", "+@all", "-role"); err != nil {
		t.Fatal(err)
	}
	_, err = keel.New(ctx, keel.Options{Seeds: []string{s.Addr()}, Mode: keel.ModeStandalone, Username: "app", Password: "secret"})
	if !errors.Is(err, keel.ErrNoPermission) || !strings.Contains(err.Error(), "ROLE") {
		t.Fatalf("err = %v, want ErrNoPermission naming ROLE", err)
	}
}

func TestStandalonePubSub(t *testing.T) {
	primary, _ := startStandalone(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := newClient(t, nil, keel.Options{Seeds: []string{primary.Addr()}})
	for _, sharded := range []bool{false, true} {
		subscribe, publish := c.Subscribe, c.Publish
		if sharded {
			subscribe, publish = c.SSubscribe, c.SPublish
		}
		channels := keysInSlots(fmt.Sprint("chan-", sharded), 2) // two slots, one subscription
		sub, err := subscribe(ctx, channels...)
		if err != nil {
			t.Fatalf("sharded %v: subscribe: %v", sharded, err)
		}
		for _, ch := range channels {
			waitFor(t, "a subscriber", func() bool {
				n, err := publish(ctx, ch, "hi")
				return err == nil && n == 1
			})
			select {
			case m := <-sub.Messages():
				if m.Channel != ch || m.Payload != "hi" {
					t.Fatalf("sharded %v: got %+v, want hi on %s", sharded, m, ch)
				}
			case <-ctx.Done():
				t.Fatalf("sharded %v: no message on %s", sharded, ch)
			}
		}
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
