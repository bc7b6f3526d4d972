package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync"
)

// ServerOptions configures one standalone redis-server. The zero value is a
// plain-TCP server without authentication on 127.0.0.1.
type ServerOptions struct {
	// Password is set with requirepass for the default user.
	// Default "": no authentication.
	Password string

	// User, if not empty, is an extra ACL user created after start-up with
	// "ACL SETUSER <User> on ><Password> ~* &* +@all", i.e. with full access
	// and the same password as the default user. If Password is empty the
	// user is created with nopass instead.
	// Default "": no extra user.
	User string

	// TLS makes the server accept TLS connections only (the plain port is
	// disabled), using a CA and server certificate generated for this server.
	// Connect with [Server.TLSConfig].
	// Default false: plain TCP only.
	TLS bool

	// Host is the loopback address to bind. It must be an IPv4 address in
	// 127.0.0.0/8; anything else, including "localhost" and "::1", is
	// rejected so a lab server can never listen on a real interface.
	// Default "127.0.0.1".
	Host string

	// Args are extra redis-server arguments, e.g. {"--maxmemory", "10mb"}.
	// They come after lab's overridable defaults (--save "", --appendonly no,
	// --protected-mode no, --loglevel notice), so they can change those, and
	// before the settings lab relies on (--port, --tls-port, --bind, --dir,
	// --logfile, --daemonize, --requirepass and the TLS files), which
	// therefore always win. --loglevel warning or nothing is rejected
	// because lab waits for redis-server's "Ready to accept connections" log
	// line.
	// Default nil: none.
	Args []string

	// Binary is the redis-server executable: a path, or a name looked up on
	// PATH.
	// Default "": "redis-server" on PATH (see [FindRedisServer]).
	Binary string

	// Port is the port to listen on. When it is taken, StartServer fails
	// with an error matching [ErrPortTaken] instead of picking another.
	// Default 0: a free port chosen by lab.
	Port int

	// Dir is the server's working directory (logs, nodes.conf, TLS files).
	// It is created if missing and kept by Close, so a server restarted in
	// the same Dir keeps its identity; its owner removes it.
	// Default "": a fresh temp dir, removed by Close.
	Dir string

	// sharedTLS, set by Cluster, is TLS material shared by every node of a
	// cluster, so nodes trust each other; nil means generate per server.
	sharedTLS *tlsMaterial
	// netns, set by Cluster, is the lab-made network namespace to run
	// in; Host is then that namespace's address, not loopback.
	netns string
}

// Server is a running redis-server child process started by [StartServer].
// Its methods are safe for concurrent use.
type Server struct {
	addr    string
	dir     string // working dir: logs, TLS files
	ownDir  bool   // dir is lab's temp dir, removed by Close
	proc    *os.Process
	tlsConf *tls.Config // nil for plain-TCP servers
	ready   string      // the log line that says the process is ready

	// exited is closed by the goroutine that waits for the process, after
	// it has set waitErr. It is the single source of truth for "the
	// process is gone", which is why Kill and Close wait on it rather than
	// calling Wait themselves.
	exited  chan struct{}
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

// Addr returns the address clients connect to, "HOST:PORT" (for example
// "127.0.0.1:41234"). For a TLS server it is the TLS port.
func (s *Server) Addr() string { return s.addr }

// TLSConfig returns a client TLS configuration that trusts the server's
// generated CA and verifies its certificate against Host, or nil if the
// server does not use TLS. Each call returns a fresh copy that the caller
// may modify.
func (s *Server) TLSConfig() *tls.Config {
	if s.tlsConf == nil {
		return nil
	}
	return s.tlsConf.Clone()
}

// Pid returns the process id of the redis-server process.
func (s *Server) Pid() int { return s.proc.Pid }

// Exited returns a channel that is closed once the redis-server process has
// exited, whatever the reason (Kill, Close, a crash, a SHUTDOWN command).
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Kill sends SIGKILL to the server and waits until the process has exited,
// simulating a crash. It is not an error if the process has already exited.
// The temp dir is kept until [Server.Close], so the log can still be read.
func (s *Server) Kill() error {
	// SIGKILL also ends a process stopped by Pause, so no Resume is needed.
	if err := s.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("lab: kill redis-server (pid %d): %w", s.proc.Pid, err)
	}
	<-s.exited
	return nil
}

// Pause stops the server with SIGSTOP: its connections stay open but it does
// not answer until [Server.Resume], simulating a hung node.
func (s *Server) Pause() error {
	if err := stopProcess(s.proc); err != nil {
		return fmt.Errorf("lab: pause redis-server (pid %d): %w", s.proc.Pid, err)
	}
	return nil
}

// Resume continues a server stopped by [Server.Pause] with SIGCONT.
func (s *Server) Resume() error {
	if err := continueProcess(s.proc); err != nil {
		return fmt.Errorf("lab: resume redis-server (pid %d): %w", s.proc.Pid, err)
	}
	return nil
}

// Close kills the server (if it is still running), waits for it to exit and
// removes its temp dir (but not a Dir given in its options). Close is idempotent and may be called after
// [Server.Kill]; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		killErr := s.Kill()
		var rmErr error
		if s.ownDir {
			if err := os.RemoveAll(s.dir); err != nil {
				rmErr = fmt.Errorf("lab: remove temp dir: %w", err)
			}
		}
		s.closeErr = errors.Join(killErr, rmErr)
	})
	return s.closeErr
}

// TB is the subset of testing.TB that [StartServerT], [StartClusterT] and
// [RequireRedisServer] need. It exists so that lab does not import package
// testing, which would register test flags in every binary that uses lab
// for demos.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// StartServerT starts a server for a test and registers [Server.Close] with
// t.Cleanup. Start-up is bounded by the default 10 second timeout. On failure
// it calls t.Fatalf, so the returned server is never nil. Without
// opts.Binary and with no redis-server on PATH, it skips the test (see
// [RequireRedisServer]).
func StartServerT(t TB, opts ServerOptions) *Server {
	t.Helper()
	return startT(t, opts.Binary, func() (*Server, error) { return StartServer(context.Background(), opts) })
}

// startT is [StartServerT] and [StartClusterT]: it skips the test without
// redis-server (unless binary names one), runs start, fails the test if
// start does, and closes what it started when the test ends. It returns the
// zero value only to a TB whose Skipf or Fatalf returns.
func startT[R interface{ Close() error }](t TB, binary string, start func() (R, error)) R {
	t.Helper()
	var none R
	if binary == "" && !haveRedisServer(t) {
		return none
	}
	r, err := start()
	if err != nil {
		t.Fatalf("%v", err)
		return none
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Fatalf("%v", err)
		}
	})
	return r
}

// Dir returns the server's working directory (logs, nodes.conf, TLS files).
func (s *Server) Dir() string { return s.dir }
