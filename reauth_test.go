package keel_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// namedConns returns the connections named name on every node of c, as
// "node id" → the user they are authenticated as, from CLIENT LIST.
func namedConns(t *testing.T, c *lab.Cluster, name string) map[string]string {
	t.Helper()
	conns := map[string]string{}
	for _, n := range c.Nodes() {
		list, _ := nodeDo(t, n, "CLIENT", "LIST").Text()
		for line := range strings.Lines(list) {
			f := map[string]string{}
			for _, kv := range strings.Fields(line) {
				k, v, _ := strings.Cut(kv, "=")
				f[k] = v
			}
			if f["name"] == name {
				conns[n.Addr()+" "+f["id"]] = f["user"]
			}
		}
	}
	return conns
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReauths waits until every open connection has likely been
// re-authenticated twice more: each round re-authenticates every due one.
func waitReauths(t *testing.T, cl *keel.Client) {
	t.Helper()
	want := cl.Stats().Reauths + 2*int64(cl.Stats().ConnectionsAlive)
	waitFor(t, "re-authentications", func() bool { return cl.Stats().Reauths >= want })
}

func (w *workload) check(t *testing.T) {
	t.Helper()
	w.stop()
	if n := w.errs.Load(); n != 0 {
		t.Fatalf("%d of %d operations failed; first: %v", n, w.ops.Load(), *w.firstErr.Load())
	}
}

// An ACL password is rotated under traffic with ReauthInterval set: the new
// password is added, the provider switched, the old password removed;
// every live connection re-authenticates with the new one (no AUTH is
// refused once the old is gone) and none is redialled. Then the provider
// switches to another user, and CLIENT LIST shows the same connections
// (shared ones, and the one Watch keeps, re-authenticated when lent again;
// spare ones may have been added) authenticated as that user. The traffic
// sees no error.
func TestReauthRotatesPasswordUnderTraffic(t *testing.T) {
	c := sharedCluster(t)
	const user, other, name = "keel-reauth", "keel-reauth-next", "keel-reauth-rotate"
	aclUser(t, c, user, "old-secret")
	aclUser(t, c, other, "other-secret")
	var creds atomic.Pointer[[2]string]
	creds.Store(&[2]string{user, "old-secret"})
	cl := newClient(t, c, keel.Options{
		ClientName:     name,
		ReauthInterval: 50 * time.Millisecond,
		Credentials: func(context.Context) (string, string, error) {
			cr := creds.Load()
			return cr[0], cr[1], nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Watch(ctx, func(w *keel.Watch) error { return nil }, "rotate:watched"); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	w := startWorkload(t, cl)
	w.waitOps(t, 200)
	before := namedConns(t, c, name)

	onEveryNode(t, c, "ACL", "SETUSER", user, ">new-secret")
	creds.Store(&[2]string{user, "new-secret"})
	waitReauths(t, cl)
	onEveryNode(t, c, "ACL", "SETUSER", user, "<old-secret")
	waitReauths(t, cl)
	if s := cl.Stats(); s.ReauthFailures != 0 {
		t.Fatalf("ReauthFailures = %d: some connection re-authenticated with the removed password", s.ReauthFailures)
	}

	creds.Store(&[2]string{other, "other-secret"})
	waitFor(t, "every connection authenticated as "+other, func() bool {
		// The idle Watch connection re-authenticates when next lent.
		if err := cl.Watch(ctx, func(w *keel.Watch) error { return nil }, "rotate:watched"); err != nil {
			t.Fatalf("Watch: %v", err)
		}
		now := namedConns(t, c, name)
		for _, u := range now {
			if u != other {
				return false
			}
		}
		return len(now) > 0
	})
	w.check(t)

	after := namedConns(t, c, name)
	if lost := missing(before, after, false); len(lost) > 0 {
		t.Errorf("connections %v were replaced (before %v, after %v); want the same ones re-authenticated", lost, before, after)
	}
}

// missing returns the connections of before that after lacks or, with
// sameUser, holds authenticated as another user. after may hold more: the
// workload's four goroutines can have spare connections dialled at any
// time.
func missing(before, after map[string]string, sameUser bool) []string {
	var lost []string
	for id, user := range before {
		if u, ok := after[id]; !ok || (sameUser && u != user) {
			lost = append(lost, id)
		}
	}
	return lost
}

// A provider that fails, then credentials the server refuses: each failure
// reaches OnEvent as EventReauthFailed with a clear error, the connections
// stay as they were (same ids, same user) and the traffic sees no error.
func TestReauthFailureKeepsConnections(t *testing.T) {
	c := sharedCluster(t)
	const user, name = "keel-reauth-fails", "keel-reauth-fails"
	aclUser(t, c, user, "secret")
	errVault := errors.New("vault sealed")
	var mode atomic.Int32 // 0 good, 1 provider fails, 2 wrong password
	events := make(chan keel.Event, 1024)
	cl := newClient(t, c, keel.Options{
		ClientName:     name,
		ReauthInterval: 30 * time.Millisecond,
		Credentials: func(context.Context) (string, string, error) {
			switch mode.Load() {
			case 1:
				return "", "", errVault
			case 2:
				return user, "wrong", nil
			}
			return user, "secret", nil
		},
		OnEvent: func(ev keel.Event) {
			if ev.Kind == keel.EventReauthFailed {
				select {
				case events <- ev:
				default:
				}
			}
		},
	})
	w := startWorkload(t, cl)
	w.waitOps(t, 200)
	before := namedConns(t, c, name)

	waitEvent := func(match func(error) bool, what string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Node == "" || ev.Err == nil {
					t.Fatalf("event %+v lacks its node or error", ev)
				}
				if match(ev.Err) {
					return
				}
			case <-timeout:
				t.Fatalf("no EventReauthFailed with %s", what)
			}
		}
	}
	mode.Store(1)
	waitEvent(func(err error) bool {
		return errors.Is(err, keel.ErrCredentials) && errors.Is(err, errVault)
	}, "ErrCredentials and the provider's error")
	mode.Store(2)
	waitEvent(func(err error) bool {
		return errors.Is(err, keel.ErrAuth) && !errors.Is(err, keel.ErrCredentials)
	}, "ErrAuth")
	w.waitOps(t, 200)
	w.check(t)

	after := namedConns(t, c, name)
	if lost := missing(before, after, true); len(lost) > 0 {
		t.Errorf("connections %v changed (before %v, after %v); want them kept as they were", lost, before, after)
	}
	if s := cl.Stats(); s.ReauthFailures == 0 {
		t.Errorf("Stats.ReauthFailures = 0 after failed re-authentications")
	}
}

// With MaxConnAge, shared connections are replaced under traffic: the
// connection ids change, and the traffic sees no error.
func TestMaxConnAgeReplacesUnderTraffic(t *testing.T) {
	c := sharedCluster(t)
	const name = "keel-max-age"
	cl := newClient(t, c, keel.Options{ClientName: name, MaxConnAge: 150 * time.Millisecond})
	w := startWorkload(t, cl)
	w.waitOps(t, 200)
	before := namedConns(t, c, name)
	alive := int64(cl.Stats().ConnectionsAlive)
	waitFor(t, "every connection replaced twice", func() bool { return cl.Stats().Replaced >= 2*alive })
	w.waitOps(t, 200)
	w.check(t)

	after := namedConns(t, c, name)
	for id := range after {
		if _, ok := before[id]; ok {
			t.Errorf("connection %s outlived MaxConnAge (before %v, after %v)", id, before, after)
		}
	}
	if len(after) == 0 {
		t.Error("no connection left after the replacements")
	}
}

func TestReauthOptionsRefused(t *testing.T) {
	provider := func(context.Context) (string, string, error) { return "", "", nil }
	for name, opts := range map[string]keel.Options{
		"ReauthInterval without Credentials": {ReauthInterval: time.Minute, Password: "secret"},
		"negative ReauthInterval":            {ReauthInterval: -time.Second, Credentials: provider},
		"negative MaxConnAge":                {MaxConnAge: -time.Second},
	} {
		opts.Seeds = []string{"127.0.0.1:1"}
		if _, err := keel.New(context.Background(), opts); !errors.Is(err, keel.ErrBadOptions) {
			t.Errorf("%s: err = %v, want ErrBadOptions", name, err)
		}
	}
}

// When the replacement of an old connection cannot be dialled (here the
// credentials provider fails), the old connection serves on: the traffic
// sees no error, no node is suspected, the connections are the same.
func TestMaxConnAgeKeepsConnectionWhenReplacementFails(t *testing.T) {
	c := sharedCluster(t)
	const user, name = "keel-max-age-fails", "keel-max-age-fails"
	aclUser(t, c, user, "secret")
	var failing atomic.Bool
	cl := newClient(t, c, keel.Options{
		ClientName: name,
		MaxConnAge: 200 * time.Millisecond,
		Credentials: func(context.Context) (string, string, error) {
			if failing.Load() {
				return "", "", errors.New("vault sealed")
			}
			return user, "secret", nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range cl.Primaries() {
		if _, err := p.Do(ctx, "PING"); err != nil {
			t.Fatalf("PING %s: %v", p, err)
		}
	}
	failing.Store(true)
	before := namedConns(t, c, name)
	w := startWorkload(t, cl)
	waitFor(t, "a replacement tried", func() bool { return cl.Stats().DialFailures > 0 })
	w.waitOps(t, 200)
	w.check(t)

	if after := namedConns(t, c, name); !maps.Equal(before, after) {
		t.Errorf("connections changed: before %v, after %v; want the old ones kept", before, after)
	}
	if s := cl.Stats(); s.SuspectNodes != 0 || s.Replaced != 0 {
		t.Errorf("SuspectNodes = %d, Replaced = %d; want 0 and 0", s.SuspectNodes, s.Replaced)
	}
}
