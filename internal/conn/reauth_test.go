package conn_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// Reauthenticate asks the provider again and sends AUTH on the same
// connection, between the commands sent before and after it.
func TestReauthenticateSendsAuthInOrder(t *testing.T) {
	s := newRecordingServer(t, false)
	s.Handle("ECHO", func(cmd []string) resptest.Reply {
		s.mu.Lock()
		s.cmds = append(s.cmds, slices.Clone(cmd))
		s.mu.Unlock()
		return resptest.Bulk(cmd[1])
	})
	var calls atomic.Int64
	c := dialFake(t, s.Addr(), conn.Options{Credentials: func(context.Context) (string, string, error) {
		return "user", []string{"token-1", "token-2"}[min(calls.Add(1)-1, 1)], nil
	}})
	ctx := context.Background()
	if _, err := c.Do(ctx, "ECHO", "before"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reauthenticate(ctx); err != nil {
		t.Fatalf("Reauthenticate: %v", err)
	}
	if _, err := c.Do(ctx, "ECHO", "after"); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"HELLO", "3", "AUTH", "user", "token-1"},
		{"ECHO", "before"},
		{"AUTH", "user", "token-2"},
		{"ECHO", "after"},
	}
	if got := s.commands(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("commands = %q, want %q", got, want)
	}
	age := c.Age()
	if since := c.SinceAuth(); since >= age {
		t.Errorf("SinceAuth %v, Age %v: the re-authentication was not recorded", since, age)
	}
}

// Against a real server: new credentials (a rotated password, another
// user) take effect on the live connection; refused credentials and a
// failing provider leave it authenticated as before, serving.
func TestReauthenticateOnRealServer(t *testing.T) {
	srv := lab.StartServerT(t, lab.ServerOptions{Password: "first", User: "app"})
	var user, password atomic.Value
	user.Store("app")
	password.Store("first")
	errVault := errors.New("vault sealed")
	var failing atomic.Bool
	c := dial(t, srv, conn.Options{Credentials: func(context.Context) (string, string, error) {
		if failing.Load() {
			return "", "", errVault
		}
		return user.Load().(string), password.Load().(string), nil
	}})
	ctx := context.Background()
	whoami := func() string {
		t.Helper()
		got, _ := mustDo(t, c, "ACL", "WHOAMI").Text()
		return got
	}

	mustDo(t, c, "ACL", "SETUSER", "app", ">second", "<first")
	password.Store("second")
	if err := c.Reauthenticate(ctx); err != nil {
		t.Fatalf("rotated password: %v", err)
	}

	mustDo(t, c, "ACL", "SETUSER", "other", "on", ">other-secret", "~*", "+@all")
	user.Store("other")
	password.Store("other-secret")
	if err := c.Reauthenticate(ctx); err != nil {
		t.Fatalf("other user: %v", err)
	}
	if got := whoami(); got != "other" {
		t.Fatalf("ACL WHOAMI = %q after re-authenticating as other", got)
	}

	password.Store("wrong")
	err := c.Reauthenticate(ctx)
	var re *resp.Error
	if !errors.Is(err, conn.ErrAuth) || !errors.As(err, &re) || re.Code != "WRONGPASS" {
		t.Fatalf("wrong password: err = %v, want ErrAuth with the server's WRONGPASS", err)
	}
	failing.Store(true)
	if err := c.Reauthenticate(ctx); !errors.Is(err, conn.ErrCredentials) || !errors.Is(err, errVault) {
		t.Fatalf("failing provider: err = %v, want ErrCredentials and the provider's error", err)
	}
	if got := whoami(); got != "other" {
		t.Fatalf("ACL WHOAMI = %q after failed re-authentications, want other (unchanged)", got)
	}
}
