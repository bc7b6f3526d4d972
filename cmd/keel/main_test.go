package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	err := runDemo(context.Background(), &out, []string{
		"-duration", "300ms", "-goroutines", "8", "-health-timeout", "200ms", "-node-timeout", "1s"})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	t.Log("\n" + text)
	// 8 goroutines over 3 shards: shard 0, which the demo breaks, has 3.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`load +8 goroutines for 300ms: [1-9]\d* requests, \d+ req/s, 0 errors\n`),
		regexp.MustCompile(`pause +SIGSTOP primary \S+: keel suspected it \S+ later \(health timeout 200ms\)`),
		regexp.MustCompile(`its 3 callers waited at most \S+, \d+ errors; other shards: [1-9]\d* requests, 0 errors\n`),
		regexp.MustCompile(`kill +SIGKILL primary \S+ under load: the cluster served its slots again from \S+ \S+ later`),
		regexp.MustCompile(`other shards: [1-9]\d* requests, 0 errors\n$`),
	} {
		if !want.MatchString(text) {
			t.Errorf("output lacks %q", want)
		}
	}
	// keel's promise: no client-added downtime. A generous bound, as in the
	// library's failover tests, so that it fails only when keel misroutes.
	m := regexp.MustCompile(`keel served the last of them (\S+) after the cluster did`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("no keel-added downtime in the output")
	}
	if lag, err := time.ParseDuration(m[1]); err != nil || lag > time.Second {
		t.Errorf("keel served the killed primary's callers %s after the cluster did (%v); want under 1s", m[1], err)
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-goroutines", "2"}, // fewer than the shards
		{"-duration", "0s"},
		{"-health-timeout", "2s", "-node-timeout", "2s"}, // the pause would become a failover
	} {
		if err := runDemo(context.Background(), &bytes.Buffer{}, args); err == nil {
			t.Errorf("demo accepted %q", args)
		}
	}
}

// syncBuffer lets the test read output while runLab is still writing.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLabUpPrintsHowToConnectAndStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runLab(ctx, &out, []string{"up", "-shards", "2", "-replicas", "0"}) }()

	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C") {
		select {
		case err := <-done:
			t.Fatalf("lab up ended early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab up printed no connection help within 30s:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // poll the output
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	if !regexp.MustCompile(`connect: redis-cli -c -h 127\.0\.0\.1 -p \d+`).MatchString(text) {
		t.Errorf("no redis-cli command in:\n%s", text)
	}
	if n := strings.Count(text, " primary "); n != 2 {
		t.Errorf("%d primaries listed, want 2", n)
	}
}

// Every subcommand's -h prints its flags and returns flag.ErrHelp, which
// main takes for success: help asked for is not a failure.
func TestHelpIsNotAFailure(t *testing.T) {
	ctx := context.Background()
	for name, run := range map[string]func() error{
		"drill":       func() error { return runDrill(ctx, io.Discard, io.Discard, []string{"-h"}) },
		"drill watch": func() error { return runDrill(ctx, io.Discard, io.Discard, []string{"watch", "-h"}) },
		"demo":        func() error { return runDemo(ctx, io.Discard, []string{"-h"}) },
		"bench":       func() error { return runBench(ctx, io.Discard, io.Discard, []string{"-h"}) },
		"lab up":      func() error { return runLab(ctx, io.Discard, []string{"up", "-h"}) },
		"version":     func() error { return runVersion(io.Discard, []string{"-h"}) },
	} {
		if err := run(); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("keel %s -h: %v, want flag.ErrHelp", name, err)
		}
	}
}
