package keel_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// aclUser creates user with password on every node of c (ACL users are not
// shared between cluster nodes) and deletes it when the test ends.
func aclUser(t *testing.T, c *lab.Cluster, user, password string) {
	t.Helper()
	for _, n := range c.Nodes() {
		nodeDo(t, n, "ACL", "SETUSER", user, "on", ">"+password, "~*", "&*", "+@all")
	}
	t.Cleanup(func() {
		for _, n := range c.Nodes() {
			nodeDo(t, n, "ACL", "DELUSER", user)
		}
	})
}

// onEveryNode runs one command on every node of c, outside the client.
func onEveryNode(t *testing.T, c *lab.Cluster, args ...string) {
	t.Helper()
	for _, n := range c.Nodes() {
		nodeDo(t, n, args...)
	}
}

// authFailures counts the failed authentications of user in the ACL LOG
// of every node of c.
func authFailures(t *testing.T, c *lab.Cluster, user string) int {
	t.Helper()
	n := 0
	for _, node := range c.Nodes() {
		entries, err := nodeDo(t, node, "ACL", "LOG").Slice()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			fields, err := e.StringMap()
			if err != nil {
				t.Fatal(err)
			}
			if fields["reason"] == "auth" && fields["username"] == user {
				n++
			}
		}
	}
	return n
}

// workload runs SET and GET from a few goroutines until stop is called,
// counting operations and errors.
type workload struct {
	ops, errs atomic.Int64
	firstErr  atomic.Pointer[error]
	stop      func()
}

func startWorkload(t *testing.T, cl *keel.Client) *workload {
	w := &workload{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				key, val := fmt.Sprintf("rotate:%d:%d", g, i%100), strconv.Itoa(i)
				if err := w.op(cl, key, val); err != nil {
					w.errs.Add(1)
					w.firstErr.CompareAndSwap(nil, &err)
				}
				w.ops.Add(1)
			}
		}()
	}
	w.stop = sync.OnceFunc(func() { close(done); wg.Wait() })
	t.Cleanup(w.stop)
	return w
}

func (w *workload) op(cl *keel.Client, key, val string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.Set(ctx, key, val); err != nil {
		return err
	}
	got, err := cl.Get(ctx, key)
	if err != nil {
		return err
	}
	if got != val {
		return fmt.Errorf("GET %s = %q, want %q", key, got, val)
	}
	return nil
}

// waitOps waits until the workload has done n more operations.
func (w *workload) waitOps(t *testing.T, n int64) {
	t.Helper()
	want := w.ops.Load() + n
	deadline := time.Now().Add(20 * time.Second)
	for w.ops.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("workload stalled: %d operations, waiting for %d", w.ops.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An ACL user's password is rotated while traffic flows: the new password
// is added, the provider switched to it, every connection of the user
// killed (keel redials, asking the provider again), the old password
// removed and the connections killed once more, which only the new
// password survives. The workload sees no error.
func TestCredentialsRotationUnderTraffic(t *testing.T) {
	c := sharedCluster(t)
	const user = "keel-rotate"
	aclUser(t, c, user, "old-secret")
	var password atomic.Value
	password.Store("old-secret")
	var calls atomic.Int64
	cl := newClient(t, c, keel.Options{
		Credentials: func(context.Context) (string, string, error) {
			calls.Add(1)
			return user, password.Load().(string), nil
		},
	})
	onEveryNode(t, c, "ACL", "LOG", "RESET")
	w := startWorkload(t, cl)
	w.waitOps(t, 200)

	onEveryNode(t, c, "ACL", "SETUSER", user, ">new-secret")
	password.Store("new-secret")
	dials := cl.Stats().Dials
	onEveryNode(t, c, "CLIENT", "KILL", "USER", user)
	w.waitOps(t, 200)
	if got := cl.Stats().Dials; got <= dials {
		t.Fatalf("dials = %d after the connections were killed, want more than %d", got, dials)
	}

	onEveryNode(t, c, "ACL", "SETUSER", user, "<old-secret")
	called := calls.Load()
	onEveryNode(t, c, "CLIENT", "KILL", "USER", user)
	w.waitOps(t, 200)
	w.stop()

	if n := w.errs.Load(); n != 0 {
		t.Fatalf("%d of %d operations failed; first: %v", n, w.ops.Load(), *w.firstErr.Load())
	}
	if calls.Load() <= called {
		t.Errorf("provider not called again after the last kill (%d calls)", called)
	}
	// A dial may fail for other reasons on a loaded machine (its timeout),
	// but the servers refused none for its credentials: every redial had
	// the current password.
	if n := authFailures(t, c, user); n != 0 {
		t.Errorf("the servers logged %d failed authentications of %s, want 0", n, user)
	}
}

// A provider that fails while connections are alive fails only new
// connections, with its own error: the connections keel has keep serving.
func TestCredentialsProviderFailureKeepsConnections(t *testing.T) {
	c := sharedCluster(t)
	const user = "keel-provider-fails"
	aclUser(t, c, user, "secret")
	errVault := errors.New("vault sealed")
	var failing atomic.Bool
	cl := newClient(t, c, keel.Options{
		Credentials: func(context.Context) (string, string, error) {
			if failing.Load() {
				return "", "", errVault
			}
			return user, "secret", nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	primaries := cl.Primaries()
	for _, p := range primaries {
		if _, err := p.Do(ctx, "PING"); err != nil {
			t.Fatalf("PING %s: %v", p, err)
		}
	}
	alive := cl.Stats().ConnectionsAlive

	failing.Store(true)
	w := startWorkload(t, cl)
	w.waitOps(t, 200)
	w.stop()
	if n := w.errs.Load(); n != 0 {
		t.Fatalf("%d of %d operations failed on live connections; first: %v", n, w.ops.Load(), *w.firstErr.Load())
	}
	if got := cl.Stats().ConnectionsAlive; got != alive {
		t.Fatalf("ConnectionsAlive = %d after the provider began failing, want %d", got, alive)
	}

	// One node drops keel's connection: the redial fails with the
	// provider's error, the other nodes' connections still serve.
	victim := c.NodeByAddr(primaries[0].Addr())
	nodeDo(t, victim, "CLIENT", "KILL", "USER", user)
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err := primaries[0].Do(short, "PING")
	cancelShort()
	if !errors.Is(err, keel.ErrCredentials) || !errors.Is(err, errVault) {
		t.Fatalf("PING after the kill: err = %v, want ErrCredentials and the provider's error", err)
	}
	for _, p := range primaries[1:] {
		if _, err := p.Do(ctx, "PING"); err != nil {
			t.Fatalf("PING %s on its live connection: %v", p, err)
		}
	}

	failing.Store(false)
	if _, err := primaries[0].Do(ctx, "PING"); err != nil {
		t.Fatalf("PING once the provider recovered: %v", err)
	}
}

func TestCredentialsWithPasswordRefused(t *testing.T) {
	_, err := keel.New(context.Background(), keel.Options{
		Seeds:       []string{"127.0.0.1:1"},
		Password:    "secret",
		Credentials: func(context.Context) (string, string, error) { return "", "", nil },
	})
	if !errors.Is(err, keel.ErrBadOptions) {
		t.Fatalf("err = %v, want ErrBadOptions", err)
	}
}
