package main

import (
	"bytes"
	"context"
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
	err := runDemo(context.Background(), &out, []string{"-duration", "300ms", "-goroutines", "8", "-health-timeout", "200ms"})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`load +8 goroutines for 300ms: [1-9]\d* requests, .* 0 errors`),
		regexp.MustCompile(`pause +SIGSTOP: connection declared dead \S+ after the pause \(health timeout 200ms\)`),
		regexp.MustCompile(`kill +SIGKILL under load: all 8 callers failed within \S+ of the signal`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	if err := runDemo(context.Background(), &bytes.Buffer{}, []string{"-goroutines", "0"}); err == nil {
		t.Fatal("demo accepted -goroutines 0")
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
