package lab

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestConn dials a password-protected server through a Target, runs
// commands of every reply type, and checks an error reply leaves the
// connection usable while a wrong password fails the dial.
func TestConn(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{Password: "s3cret"})
	ctx := context.Background()
	if _, err := (Target{Password: "wrong"}).Dial(ctx, s.Addr(), time.Second); err == nil {
		t.Fatal("Dial with a wrong password succeeded")
	}
	c, err := (Target{Password: "s3cret"}).Dial(ctx, s.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"RPUSH", "l", "a", "b"}, int64(2)},
		{[]string{"SET", "k", "v"}, "OK"},
		{[]string{"GET", "k"}, "v"},
		{[]string{"GET", "missing"}, nil},
	} {
		got, err := c.Do(time.Second, tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("%v = %#v, %v; want %#v", tc.args, got, err, tc.want)
		}
	}
	got, err := c.Do(time.Second, "LRANGE", "l", "0", "-1")
	if a, ok := got.([]any); err != nil || !ok || len(a) != 2 || a[0] != "a" || a[1] != "b" {
		t.Errorf("LRANGE = %#v, %v", got, err)
	}
	var re ReplyError
	if _, err := c.Do(time.Second, "INCR", "k"); !errors.As(err, &re) {
		t.Errorf("INCR of a string: %v, want a ReplyError", err)
	}
	if got, err := c.Do(time.Second, "PING"); err != nil || got != "PONG" {
		t.Errorf("PING after an error reply = %#v, %v", got, err)
	}
}

// TestConnReceive subscribes on one connection, publishes on another and
// reads the message with Receive.
func TestConnReceive(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{})
	ctx := context.Background()
	sub, err := (Target{}).Dial(ctx, s.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if got, err := sub.Do(time.Second, "SUBSCRIBE", "ch"); err != nil || len(got.([]any)) != 3 {
		t.Fatalf("SUBSCRIBE = %#v, %v", got, err)
	}
	pub, err := (Target{}).Dial(ctx, s.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if _, err := pub.Do(time.Second, "PUBLISH", "ch", "hello"); err != nil {
		t.Fatal(err)
	}
	got, err := sub.Receive(time.Second)
	if m, ok := got.([]any); err != nil || !ok || len(m) != 3 || m[0] != "message" || m[1] != "ch" || m[2] != "hello" {
		t.Errorf("Receive = %#v, %v", got, err)
	}
}
