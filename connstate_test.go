package keel_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/keel-go/keel"
)

// TestConnStateRefused shows that commands changing the state of the
// connection every goroutine shares are refused before they are sent, with
// the way out in the message, and that other goroutines' commands still get
// their own replies afterwards (a MULTI that got through would make them
// answer QUEUED).
func TestConnStateRefused(t *testing.T) {
	c, ctx, key := cmdEnv(t)
	for _, tt := range []struct {
		args []any
		hint string
	}{
		{[]any{"MULTI"}, "Client.Tx"},
		{[]any{"CLIENT", "REPLY", "SKIP"}, "Options.ClientName"},
		{[]any{"SELECT", 1}, "only database 0"},
		{[]any{"subscribe", "ch"}, "Pub/Sub"},
	} {
		v, err := c.Do(ctx, tt.args...)
		if !errors.Is(err, keel.ErrConnState) || !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("Do(%q) = %v, %v; want ErrConnState naming %q", tt.args, v, err, tt.hint)
		}
	}

	p := c.Pipeline().
		Do("SET", key("a"), "1").
		Do("MULTI").
		Do("SET", key("b"), "2").
		Do("EXEC")
	results := p.Exec(ctx)
	for i, r := range results {
		if !errors.Is(r.Err, keel.ErrConnState) {
			t.Errorf("pipeline result %d = %v, %v; want ErrConnState", i, r.Value, r.Err)
		}
	}
	if !strings.Contains(results[1].Err.Error(), "MULTI") {
		t.Errorf("pipeline MULTI: %v, want MULTI named", results[1].Err)
	}
	// Nothing of the pipeline was sent: not even the commands around MULTI.
	for _, k := range []string{key("a"), key("b")} {
		if _, err := c.Get(ctx, k); !errors.Is(err, keel.ErrNil) {
			t.Errorf("GET %s after the refused pipeline: %v, want ErrNil", k, err)
		}
	}
	if _, err := c.Do(ctx, "CLIENT", "LIST"); err != nil {
		t.Errorf("CLIENT LIST: %v", err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k, want := key("g"+strconv.Itoa(g)+":"+strconv.Itoa(i)), strconv.Itoa(g*1000+i)
				if err := c.Set(ctx, k, want); err != nil {
					errs <- err
					return
				}
				if got, err := c.Get(ctx, k); err != nil || got != want {
					errs <- errors.New("GET " + k + " = " + got + ", want " + want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
