package keel_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

func TestSentinelPassword(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartSentinelGroupT(t, lab.SentinelOptions{Replicas: 1, Password: "data-secret", SentinelPassword: "sentinel-secret"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := keel.Options{Seeds: g.Sentinels(), Mode: keel.ModeSentinel, SentinelMaster: g.Master(), Password: "data-secret"}

	// Without the sentinels' password no sentinel answers.
	if c, err := keel.New(ctx, opts); err == nil {
		c.Close()
		t.Fatal("New succeeded without the sentinels' password")
	} else if !errors.Is(err, keel.ErrAuth) && !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("New without the sentinels' password: %v, want an authentication error", err)
	}

	opts.SentinelPassword = "sentinel-secret"
	c := newClient(t, nil, opts)
	if err := c.Set(ctx, "sentinel:auth", "1"); err != nil {
		t.Fatal(err)
	}
	// The +switch-master subscriber authenticates too.
	waitFor(t, "the subscriber on a sentinel", func() bool { return subscribedSentinel(t, g, "sentinel-secret", "") != "" })
}

func TestModeOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		opts keel.Options
		says string
	}{
		{keel.Options{SentinelPassword: "x"}, "Mode sentinel"},
		{keel.Options{SentinelUsername: "x", Mode: keel.ModeReplication}, "Mode sentinel"},
		{keel.Options{ReaderEndpoint: "reader:6379"}, "Mode replication"},
		{keel.Options{ReaderEndpoint: "reader:6379", Mode: keel.ModeSentinel, SentinelMaster: "m"}, "Mode replication"},
		{keel.Options{ReaderEndpoint: "reader", Mode: keel.ModeReplication}, "not host:port"},
	} {
		tc.opts.Seeds = []string{"127.0.0.1:1"}
		_, err := keel.New(context.Background(), tc.opts)
		if !errors.Is(err, keel.ErrBadOptions) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("New(%+v): %v, want ErrBadOptions saying %q", tc.opts, err, tc.says)
		}
	}
}

// TestSentinelPausedSubscriberReplaced: a sentinel that stops answering
// (SIGSTOP) while keel is subscribed on it is left for another within
// PingInterval+HealthTimeout and a dial.
func TestSentinelPausedSubscriberReplaced(t *testing.T) {
	testutil.SkipIfShort(t)
	g := lab.StartSentinelGroupT(t, lab.SentinelOptions{Replicas: 1})
	const name = "keel-paused-sentinel"
	c := newClient(t, nil, keel.Options{Seeds: g.Sentinels(), Mode: keel.ModeSentinel, SentinelMaster: g.Master(),
		ClientName: name, PingInterval: 100 * time.Millisecond, HealthTimeout: 200 * time.Millisecond,
		RefreshTimeout: 200 * time.Millisecond})
	var first string
	waitFor(t, "the subscriber on a sentinel", func() bool { first = subscribedSentinel(t, g, "", name); return first != "" })
	var paused *lab.Server
	for _, s := range g.SentinelServers() {
		if s.Addr() == first {
			paused = s
		}
	}
	if err := paused.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = paused.Resume() })
	began := time.Now()
	var next string
	waitFor(t, "the subscriber on another sentinel", func() bool {
		next = subscribedSentinel(t, g, "", name, first)
		return next != ""
	})
	took := time.Since(began)
	// 100ms between pings, 200ms of patience, a dial bounded by 200ms: the
	// bound leaves room for a loaded machine.
	if took > 3*time.Second {
		t.Fatalf("subscribed again after %v", took)
	}
	if err := c.Set(context.Background(), "sentinel:paused", "1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("subscriber moved from %s to %s %v after the pause", first, next, took)
}

// subscribedSentinel returns the address of a sentinel of g, other than
// those in skip, on which a client (named name, unless empty) is
// subscribed, or "".
func subscribedSentinel(t *testing.T, g *lab.SentinelGroup, password, name string, skip ...string) string {
	t.Helper()
	for _, addr := range g.Sentinels() {
		if slices.Contains(skip, addr) {
			continue
		}
		list, err := sentinelCommand(addr, password, "CLIENT", "LIST")
		if err != nil {
			t.Fatalf("CLIENT LIST on %s: %v", addr, err)
		}
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, " sub=1 ") && (name == "" || strings.Contains(line, " name="+name+" ")) {
				return addr
			}
		}
	}
	return ""
}

// sentinelCommand sends one command to the sentinel at addr and returns its
// reply's text.
func sentinelCommand(addr, password string, args ...string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(2 * time.Second))
	rd := resp.NewReader(nc, resp.Limits{})
	if password != "" {
		if _, err := nc.Write(resp.AppendCommand(nil, []string{"AUTH", password})); err != nil {
			return "", err
		}
		if v, err := rd.Read(); err != nil || v.Err() != nil {
			return "", errors.Join(err, v.Err())
		}
	}
	if _, err := nc.Write(resp.AppendCommand(nil, args)); err != nil {
		return "", err
	}
	v, err := rd.Read()
	if err != nil {
		return "", err
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	return v.Text()
}
