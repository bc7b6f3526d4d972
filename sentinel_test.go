package keel_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// sentinelGroup starts a Sentinel group of a primary and n replicas, and a
// client through its sentinels.
func sentinelGroup(t *testing.T, n int) (*lab.SentinelGroup, *keel.Client) {
	t.Helper()
	g := lab.StartSentinelGroupT(t, lab.SentinelOptions{Replicas: n})
	c := newClient(t, nil, keel.Options{Seeds: g.Sentinels(), Mode: keel.ModeSentinel, SentinelMaster: g.Master()})
	return g, c
}

// watchSwitch subscribes to +switch-master on the sentinel at addr and
// returns a channel that receives the time of the first announcement.
func watchSwitch(t *testing.T, addr string) <-chan time.Time {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write(resp.AppendCommand(nil, []string{"SUBSCRIBE", "+switch-master"})); err != nil {
		t.Fatal(err)
	}
	rd := resp.NewReader(nc, resp.Limits{})
	if _, err := rd.Read(); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	at := make(chan time.Time, 1)
	go func() {
		for {
			v, err := rd.Read()
			if err != nil {
				return
			}
			if items, _ := v.Slice(); len(items) == 3 {
				at <- time.Now()
				return
			}
		}
	}()
	return at
}

func TestSentinelCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, c := sentinelGroup(t, 1)
	primary, err := g.Primary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Primaries(); len(got) != 1 || got[0].Addr() != primary.Addr() {
		t.Fatalf("Primaries = %v, want %s", got, primary.Addr())
	}
	if got := len(c.Replicas()); got != 1 {
		t.Fatalf("%d replicas known, want 1", got)
	}
	// Keys of different slots go together: one primary serves them all.
	if err := c.MSet(ctx, "sentinel:a", "1", "sentinel:b", "2"); err != nil {
		t.Fatal(err)
	}
	got, err := c.MGet(ctx, "sentinel:a", "sentinel:b")
	if err != nil || len(got) != 2 || got[0].Value != "1" || got[1].Value != "2" {
		t.Fatalf("MGET = %v, %v", got, err)
	}
}

func TestSentinelPrimaryKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, c := sentinelGroup(t, 1)
	switched := watchSwitch(t, g.Sentinels()[0])

	stop := make(chan struct{})
	w := runWriters(ctx, c, 4, stop)
	waitFor(t, "writes before the kill", func() bool { return w.wrote.Load() > 100 })
	step, err := g.KillPrimary(ctx)
	if err != nil {
		close(stop)
		<-w.done
		t.Fatal(err)
	}
	after := w.wrote.Load()
	waitFor(t, "writes after the failover", func() bool { return w.wrote.Load() > after+100 })
	close(stop)
	<-w.done

	if got := c.Primaries(); len(got) != 1 || got[0].Addr() != step.Detail {
		t.Fatalf("Primaries after the failover = %v, want %s", got, step.Detail)
	}
	var switchAt time.Time
	select {
	case switchAt = <-switched:
	case <-time.After(5 * time.Second):
		t.Fatal("no +switch-master announced")
	}
	// Writes in flight when the primary died may have run: they fail with
	// ErrUnknownOutcome (RPUSH is not idempotent). None surfaces READONLY.
	for _, err := range w.errs {
		if errors.Is(err, resp.ErrReadOnly) || !errors.Is(err, keel.ErrUnknownOutcome) {
			t.Errorf("a write failed with %v, want ErrUnknownOutcome", err)
		}
	}
	// Every write acknowledged after the kill is on the new primary, once
	// and in order. Replication is asynchronous: the last writes the dead
	// primary acknowledged may not have reached the replica, a loss of
	// Redis's, not keel's; they are counted.
	redisLost := 0
	for i, acked := range w.acked {
		v, err := c.Do(ctx, "LRANGE", fmt.Sprintf("log:%d", i), 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := v.Strings()
		if !increasing(stored) {
			t.Fatalf("log:%d holds a value twice, or out of order: %v", i, stored)
		}
		for j, val := range acked {
			at := w.ackAt[i][j]
			if slices.Contains(stored, val) {
				continue
			}
			if at.After(step.Began) {
				t.Fatalf("log:%d lost %s, acknowledged %v after the kill", i, val, at.Sub(step.Began))
			}
			redisLost++
		}
	}
	// Writes stall while the primary is dead: they resume after the
	// longest gap between acknowledgements. A sentinel names the promoted
	// replica while it reconfigures the others, before it announces the
	// switch, so keel may resume first (a negative delay).
	var all []time.Time
	for _, times := range w.ackAt {
		all = append(all, times...)
	}
	slices.SortFunc(all, time.Time.Compare)
	var resumed time.Time
	var gap time.Duration
	for j := 1; j < len(all); j++ {
		if d := all[j].Sub(all[j-1]); d > gap {
			gap, resumed = d, all[j]
		}
	}
	if d := resumed.Sub(switchAt); d > 3*time.Second {
		t.Fatalf("writes resumed %v after +switch-master: the switch was not followed", d)
	}
	t.Logf("%d writes, %d unknown outcomes, %d lost by asynchronous replication; failover %v; writes stalled %v and resumed %v after +switch-master",
		w.wrote.Load(), len(w.errs), redisLost, step.Took(), gap, resumed.Sub(switchAt))
}

// increasing reports whether each value is a number above the one before:
// every write wrote a new number, so a repeat is a write that ran twice.
func increasing(vals []string) bool {
	prev := -1
	for _, v := range vals {
		n, err := strconv.Atoi(v)
		if err != nil || n <= prev {
			return false
		}
		prev = n
	}
	return true
}

func TestSentinelKilledSentinelSurvived(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g := lab.StartSentinelGroupT(t, lab.SentinelOptions{Replicas: 1})
	// The client knows only the first sentinel; it learns the others.
	c := newClient(t, nil, keel.Options{Seeds: g.Sentinels()[:1], Mode: keel.ModeSentinel,
		SentinelMaster: g.Master(), RefreshInterval: 100 * time.Millisecond})
	if _, err := g.KillSentinel(0); err != nil {
		t.Fatal(err)
	}
	step, err := g.Switchover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the switch found through the other sentinels", func() bool {
		got := c.Primaries()
		return len(got) == 1 && got[0].Addr() == step.Detail
	})
	if err := c.Set(ctx, "sentinel:after", "1"); err != nil {
		t.Fatal(err)
	}
}

func TestSentinelBadOptions(t *testing.T) {
	g := lab.StartSentinelGroupT(t, lab.SentinelOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		opts keel.Options
		is   error
		says string
	}{
		{"no master name", keel.Options{Seeds: g.Sentinels(), Mode: keel.ModeSentinel}, keel.ErrBadOptions, "SentinelMaster"},
		{"master name without sentinel mode", keel.Options{Seeds: g.Sentinels(), SentinelMaster: "mymaster"}, keel.ErrBadOptions, "Mode sentinel"},
		{"unknown master name", keel.Options{Seeds: g.Sentinels(), Mode: keel.ModeSentinel, SentinelMaster: "nosuch"}, keel.ErrNoNode, `no master named "nosuch"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := keel.New(ctx, tc.opts)
			if err == nil {
				c.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("New: %v, want %v saying %q", err, tc.is, tc.says)
			}
		})
	}
}

// TestSentinelFollowsSwitchMaster: with no request failing and no periodic
// refresh due, the +switch-master announcement alone moves the client to
// the new primary.
func TestSentinelFollowsSwitchMaster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g := lab.StartSentinelGroupT(t, lab.SentinelOptions{Replicas: 1})
	var mu sync.Mutex
	var causes []string
	c := newClient(t, nil, keel.Options{Seeds: g.Sentinels(), Mode: keel.ModeSentinel,
		SentinelMaster: g.Master(), RefreshInterval: time.Hour,
		OnEvent: func(ev keel.Event) {
			if ev.Kind == keel.EventTopologyChanged {
				mu.Lock()
				causes = append(causes, ev.Cause)
				mu.Unlock()
			}
		}})
	switched := watchSwitch(t, g.Sentinels()[0])
	step, err := g.Switchover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var switchAt time.Time
	select {
	case switchAt = <-switched:
	case <-ctx.Done():
		t.Fatal("no +switch-master announced")
	}
	waitFor(t, "the client to follow +switch-master", func() bool {
		got := c.Primaries()
		return len(got) == 1 && got[0].Addr() == step.Detail
	})
	t.Logf("followed %v after +switch-master", time.Since(switchAt))
	// Events are delivered on keel's goroutine, after the change.
	waitFor(t, "a topology change caused by +switch-master", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(causes, "+switch-master")
	})
	if err := c.Set(ctx, "sentinel:switched", "1"); err != nil {
		t.Fatal(err)
	}
}
