package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

const (
	// defaultStartTimeout bounds start-up when ctx has no deadline, so a
	// broken binary fails a test instead of hanging it.
	defaultStartTimeout = 10 * time.Second

	// maxPortAttempts is how often StartServer picks a new port after
	// redis-server lost the race for the previous one to another process.
	maxPortAttempts = 5

	logFileName   = "redis.log" // redis-server's own log (--logfile)
	stdioFileName = "stdio.log" // stdout+stderr: errors before the log file is opened
)

// ErrPortTaken marks a start that failed only because another process bound
// the port first (between lab choosing it and redis-server binding it). With
// a free port chosen by lab, StartServer retries; with ServerOptions.Port set,
// its error matches ErrPortTaken so the caller can choose another.
var ErrPortTaken = errors.New("port already in use")

// StartServer starts a redis-server as configured by opts and returns once it
// answers on its port. ctx bounds start-up only (default 10 seconds when ctx
// has no deadline); cancelling it later does not affect the running server.
// The caller must call [Server.Close].
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	return startServer(ctx, opts, freePort)
}

// startServer is StartServer with the port picker injected, so tests can
// force the port race that the retry loop exists for.
func startServer(ctx context.Context, opts ServerOptions, pickPort func(host string) (int, error)) (*Server, error) {
	host, ip, err := loopbackHost(opts.Host)
	if opts.netns != "" {
		// The address of a namespace lab made itself, reachable only
		// through lab's own bridge.
		ip = net.ParseIP(opts.Host).To4()
		host, err = opts.Host, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkArgs(opts.Args); err != nil {
		return nil, err
	}
	bin, err := resolveBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}

	if opts.Port != 0 {
		fixed := opts.Port
		pickPort = func(string) (int, error) { return fixed, nil }
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("lab: create dir: %w", err)
		}
		return startInDir(ctx, opts, bin, host, ip, opts.Dir, pickPort)
	}
	dir, err := os.MkdirTemp("", "keel-lab-redis-")
	if err != nil {
		return nil, fmt.Errorf("lab: create temp dir: %w", err)
	}
	s, err := startInDir(ctx, opts, bin, host, ip, dir, pickPort)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.ownDir = true
	return s, nil
}

// startInDir does the work of startServer once the temp dir exists; on
// error the caller removes the dir and no process is left running.
func startInDir(ctx context.Context, opts ServerOptions, bin, host string, ip net.IP, dir string, pickPort func(string) (int, error)) (*Server, error) {
	tm := opts.sharedTLS
	if opts.TLS && tm == nil {
		var err error
		if tm, err = writeTLSMaterial(dir, tlsSpec{ip: ip}); err != nil {
			return nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		port, err := pickPort(host)
		if err != nil {
			return nil, fmt.Errorf("lab: pick a free port on %s: %w", host, err)
		}
		cmdBin, cmdArgs := inNamespace(opts.netns, bin, redisArgs(opts, host, port, dir, tm))
		s, err := launch(ctx, cmdBin, cmdArgs, net.JoinHostPort(host, strconv.Itoa(port)), dir, tm, readyLine)
		if errors.Is(err, ErrPortTaken) {
			if opts.Port != 0 {
				return nil, err
			}
			if attempt < maxPortAttempts {
				continue
			}
			return nil, fmt.Errorf("lab: gave up after %d ports were taken: %w", attempt, err)
		}
		if err != nil {
			return nil, err
		}
		if opts.User != "" {
			if err := createUser(ctx, s, opts.User, opts.Password); err != nil {
				_ = s.Kill() // the ACL error is the one worth reporting
				return nil, err
			}
		}
		return s, nil
	}
}

// launch runs one redis-server process and waits until it is ready. On
// error the process has been killed and reaped. ready is the log line that says the process is ready: readyLine, or a
// sentinel's, which does not log it.
func launch(ctx context.Context, bin string, args []string, addr, dir string, tm *tlsMaterial, ready string) (*Server, error) {
	// A previous attempt's logs would confuse readiness and error reports.
	for _, name := range []string{logFileName, stdioFileName} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lab: reset log: %w", err)
		}
	}
	// redis-server reports bad arguments on stderr before it opens its log
	// file. Handing it an *os.File (not a pipe) keeps that output without
	// a copying goroutine that would have to be managed.
	stdio, err := os.Create(filepath.Join(dir, stdioFileName))
	if err != nil {
		return nil, fmt.Errorf("lab: create %s: %w", stdioFileName, err)
	}
	defer stdio.Close() // the child has its own copy after Start

	// Deliberately not exec.CommandContext: ctx bounds start-up only, the
	// server lives until Close.
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = stdio
	cmd.Stderr = stdio
	configureProcess(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start %s: %w", bin, err)
	}

	s := &Server{addr: addr, dir: dir, proc: cmd.Process, exited: make(chan struct{}), ready: ready}
	if tm != nil {
		s.tlsConf = tm.client
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	if err := waitReady(ctx, s); err != nil {
		_ = s.Kill() // the readiness error is the one worth reporting
		return nil, err
	}
	return s, nil
}

// redisArgs builds the redis-server command line. Everything is passed as
// arguments so there is no config file to write or clean up.
func redisArgs(opts ServerOptions, host string, port int, dir string, tm *tlsMaterial) []string {
	// Defaults that opts.Args may override: a lab server is disposable, so
	// no persistence; it only binds loopback, so protected mode only gets
	// in the way; notice is the level that logs the readiness line.
	args := []string{
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "no",
		"--loglevel", "notice",
	}
	args = append(args, opts.Args...)

	// Settings lab depends on. redis-server applies the last occurrence of
	// an option, so putting them after opts.Args makes them non-negotiable.
	args = append(args,
		"--daemonize", "no",
		"--bind", host,
		"--dir", dir,
		"--logfile", filepath.Join(dir, logFileName),
	)
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password)
	}
	p := strconv.Itoa(port)
	if tm == nil {
		return append(args, "--port", p)
	}
	return append(args,
		"--port", "0", // TLS only: no plaintext side door
		"--tls-port", p,
		"--tls-cert-file", tm.certFile,
		"--tls-key-file", tm.keyFile,
		"--tls-ca-cert-file", tm.caFile,
		"--tls-auth-clients", yesNo(tm.authClients),
	)
}

// loopbackHost applies the Host default and enforces the loopback-only rule.
func loopbackHost(host string) (string, net.IP, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host).To4()
	if ip == nil || ip[0] != 127 {
		return "", nil, fmt.Errorf("lab: host %q is not a 127.x loopback address; lab never binds anything else", host)
	}
	return ip.String(), ip, nil
}

// checkArgs rejects extra arguments that would make start-up impossible to
// detect, so they fail fast instead of timing out.
func checkArgs(args []string) error {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--loglevel" && (args[i+1] == "warning" || args[i+1] == "nothing") {
			return fmt.Errorf("lab: Args: --loglevel %s hides the %q log line lab waits for; use notice, verbose or debug", args[i+1], readyLine)
		}
	}
	return nil
}

// freePort asks the kernel for a free port on host. The port is released
// before redis-server binds it, so another process can take it in between;
// startInDir retries when that happens.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
