package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// pollInterval is the pause between readiness checks: short enough
	// that start-up is not noticeably delayed, long enough not to spin.
	pollInterval = 10 * time.Millisecond

	// probeTimeout bounds one readiness probe so that a port held by
	// something that accepts but never answers is retried (and the
	// process's exit noticed) instead of eating the whole start-up budget.
	probeTimeout = 500 * time.Millisecond

	// readyLine is what redis-server logs (at notice level) once it is
	// listening. Only our process writes our log file, so seeing it proves
	// that the server answering on the port is ours and not another
	// process that won the race for it.
	readyLine = "Ready to accept connections"

	// addrInUse is how redis-server reports losing the port race.
	addrInUse = "Address already in use"

	// logTailLines is how much of the log goes into start-up errors.
	logTailLines = 20
)

// waitReady polls until s has logged readyLine and answers a probe, the
// process exits, or ctx expires.
func waitReady(ctx context.Context, s *Server) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	var last error
	for {
		if last = checkReady(ctx, s); last == nil {
			return nil
		}
		select {
		case <-s.exited:
			logs := readLogs(s.dir)
			err := fmt.Errorf("lab: redis-server for %s exited before it was ready (%v)%s", s.addr, s.waitErr, formatTail(logs))
			if bytes.Contains(logs, []byte(addrInUse)) {
				return fmt.Errorf("%w: %w", ErrPortTaken, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("lab: redis-server for %s not ready: %w (last check: %v)%s", s.addr, ctx.Err(), last, formatTail(readLogs(s.dir)))
		case <-ticker.C:
		}
	}
}

// checkReady returns nil when the server has logged readyLine and answers
// PING with +PONG, or with -NOAUTH when it requires a password. For TLS
// servers the probe also proves that a handshake with the generated client
// config succeeds.
func checkReady(ctx context.Context, s *Server) error {
	log, err := os.ReadFile(filepath.Join(s.dir, logFileName))
	if err != nil || !bytes.Contains(log, []byte(s.ready)) {
		return fmt.Errorf("log does not say %q yet", s.ready)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	c, err := dialRaw(ctx, s.addr, s.tlsConf)
	if err != nil {
		return err
	}
	defer c.Close()
	reply, err := c.do("PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" && !strings.HasPrefix(reply, "-NOAUTH") {
		return fmt.Errorf("unexpected reply to PING: %q", reply)
	}
	return nil
}

// readLogs returns stdout/stderr output followed by the log file; either
// may be missing or empty depending on how far redis-server got.
func readLogs(dir string) []byte {
	var all []byte
	for _, name := range []string{stdioFileName, logFileName} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		all = append(all, b...)
	}
	return all
}

// formatTail renders the last logTailLines lines of logs for an error
// message, or "" when there is nothing to show.
func formatTail(logs []byte) string {
	lines := strings.Split(strings.TrimRight(string(logs), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	tail := strings.Join(lines, "\n")
	if strings.TrimSpace(tail) == "" {
		return "; redis-server wrote no log"
	}
	return "; last log lines:\n" + tail
}
