package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
)

type demoConfig struct {
	goroutines int
	duration   time.Duration
	health     time.Duration
}

func runDemo(ctx context.Context, out io.Writer, args []string) error {
	var cfg demoConfig
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.IntVar(&cfg.goroutines, "goroutines", 64, "concurrent callers sharing the connection")
	fs.DurationVar(&cfg.duration, "duration", 2*time.Second, "how long to run the load")
	fs.DurationVar(&cfg.health, "health-timeout", conn.DefaultHealthTimeout, "connection health timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.goroutines < 1 || cfg.duration <= 0 || cfg.health <= 0 {
		return errors.New("demo: -goroutines, -duration and -health-timeout must be positive")
	}

	srv, err := lab.StartServer(ctx, lab.ServerOptions{})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(out, "keel demo: one auto-pipelined connection to a real redis-server\n")

	c, err := conn.Dial(ctx, srv.Addr(), conn.Options{ClientName: "keel-demo", HealthTimeout: cfg.health})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(out, "  server  %s, RESP%d\n", srv.Addr(), c.Protocol())

	n, errs, took := load(ctx, c, cfg.goroutines, cfg.duration)
	fmt.Fprintf(out, "  load    %d goroutines for %v: %d requests, %.0f req/s, %d errors\n",
		cfg.goroutines, cfg.duration, n, float64(n)/took.Seconds(), errs)

	detected, err := pauseAndDetect(ctx, srv, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  pause   SIGSTOP: connection declared dead %v after the pause (health timeout %v)\n",
		detected.Round(time.Millisecond), cfg.health)

	lag, failed, err := killUnderLoad(ctx, srv, cfg.goroutines)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  kill    SIGKILL under load: all %d callers failed within %v of the signal\n",
		failed, lag.Round(10*time.Microsecond))
	return nil
}

// load runs SET/GET pairs from many goroutines for d and counts them.
func load(ctx context.Context, c *conn.Conn, goroutines int, d time.Duration) (ok, failed int64, took time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var okN, errN atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "demo:" + strconv.Itoa(g)
			for i := 0; ctx.Err() == nil; i++ {
				args := []string{"GET", key}
				if i%2 == 0 {
					args = []string{"SET", key, strconv.Itoa(i)}
				}
				if _, err := c.Do(ctx, args...); err != nil {
					if ctx.Err() == nil {
						errN.Add(1)
					}
					continue
				}
				okN.Add(1)
			}
		}()
	}
	wg.Wait()
	return okN.Load(), errN.Load(), time.Since(start)
}

// pauseAndDetect stops the server and measures how long one waiting request
// takes to learn that the connection is dead.
func pauseAndDetect(ctx context.Context, srv *lab.Server, c *conn.Conn) (time.Duration, error) {
	if err := srv.Pause(); err != nil {
		return 0, err
	}
	defer srv.Resume()
	start := time.Now()
	_, err := c.Do(ctx, "PING")
	if !errors.Is(err, conn.ErrHealthTimeout) {
		return 0, fmt.Errorf("demo: a paused server should fail the connection by health timeout, got %v", err)
	}
	return time.Since(start), nil
}

// killUnderLoad opens a fresh connection, loads it, kills the server and
// measures how long after SIGKILL was sent the last caller got its error.
func killUnderLoad(ctx context.Context, srv *lab.Server, goroutines int) (time.Duration, int, error) {
	c, err := conn.Dial(ctx, srv.Addr(), conn.Options{})
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	var wg sync.WaitGroup
	var started, lastFail atomic.Int64
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			for {
				if _, err := c.Do(ctx, "INCR", "demo:counter"); err != nil {
					lastFail.Store(time.Now().UnixNano())
					return
				}
			}
		}()
	}
	for started.Load() < int64(goroutines) {
		time.Sleep(time.Millisecond)
	}
	signalled := time.Now()
	if err := srv.Kill(); err != nil {
		return 0, 0, err
	}
	wg.Wait()
	return time.Duration(lastFail.Load() - signalled.UnixNano()), goroutines, nil
}
