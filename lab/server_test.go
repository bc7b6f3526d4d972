package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ioTimeout bounds every network operation in these tests, so a broken
// server fails a test instead of hanging it.
const ioTimeout = 5 * time.Second

// testCtx returns a context that ends after d or with the test.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// skipIfShort skips a test that starts its own cluster and breaks it under
// go test -short. (internal/testutil has the same for the other packages;
// these in-package tests cannot import it, as it imports lab.)
func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow (starts its own cluster and breaks it): skipped under -short")
	}
}

// client is a deliberately separate, minimal Redis client for the tests, so
// they do not trust lab's own wire code to check lab.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialPlain(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) *client {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes an inline command and returns the first reply line.
func (c *client) send(line string) string {
	c.t.Helper()
	c.write(line)
	return c.readLine(time.Now().Add(ioTimeout))
}

func (c *client) write(line string) {
	c.t.Helper()
	if err := c.conn.SetWriteDeadline(time.Now().Add(ioTimeout)); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
}

func (c *client) readLine(deadline time.Time) string {
	c.t.Helper()
	line, err := c.tryReadLine(deadline)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return line
}

func (c *client) tryReadLine(deadline time.Time) (string, error) {
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func waitExited(t *testing.T, s *Server) {
	t.Helper()
	select {
	case <-s.Exited():
	case <-time.After(ioTimeout):
		t.Fatalf("server pid %d did not exit within %v", s.Pid(), ioTimeout)
	}
}

func assertExited(t *testing.T, s *Server) {
	t.Helper()
	select {
	case <-s.Exited():
	default:
		t.Fatalf("Exited() not closed for pid %d", s.Pid())
	}
	// Signal 0 only checks that the process exists.
	p, err := os.FindProcess(s.Pid())
	if err == nil && p.Signal(syscall.Signal(0)) == nil {
		t.Fatalf("process %d still exists", s.Pid())
	}
}

func TestPlainServer(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{Args: []string{"--maxmemory", "10mb"}})

	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatalf("Addr() = %q: %v", s.Addr(), err)
	}
	if host != "127.0.0.1" {
		t.Errorf("Addr() host = %q, want 127.0.0.1", host)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 {
		t.Errorf("Addr() port = %q, want a positive number", port)
	}
	if s.Pid() <= 0 {
		t.Errorf("Pid() = %d, want > 0", s.Pid())
	}
	if s.TLSConfig() != nil {
		t.Error("TLSConfig() != nil for a plain server")
	}

	c := dialPlain(t, s.Addr())
	if got := c.send("PING"); got != "+PONG" {
		t.Fatalf("PING = %q, want +PONG", got)
	}
	// Args reach redis-server: CONFIG GET replies *2, $9, maxmemory, $N, value.
	if got := c.send("CONFIG GET maxmemory"); got != "*2" {
		t.Fatalf("CONFIG GET maxmemory = %q, want *2", got)
	}
	var lines []string
	for range 4 {
		lines = append(lines, c.readLine(time.Now().Add(ioTimeout)))
	}
	if got, want := lines[3], strconv.Itoa(10*1024*1024); got != want {
		t.Errorf("maxmemory = %q (reply %q), want %s", got, lines, want)
	}
}

func TestPasswordServer(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{Password: "s3cret"})
	c := dialPlain(t, s.Addr())

	if got := c.send("PING"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("PING without AUTH = %q, want -NOAUTH...", got)
	}
	if got := c.send("AUTH wrong"); !strings.HasPrefix(got, "-WRONGPASS") {
		t.Fatalf("AUTH wrong = %q, want -WRONGPASS...", got)
	}
	if got := c.send("AUTH s3cret"); got != "+OK" {
		t.Fatalf("AUTH s3cret = %q, want +OK", got)
	}
	if got := c.send("PING"); got != "+PONG" {
		t.Fatalf("PING after AUTH = %q, want +PONG", got)
	}
}

func TestACLUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     ServerOptions
		goodAuth string
		badAuth  string // "" when any password is accepted
	}{
		{"password", ServerOptions{Password: "pw", User: "alice"}, "AUTH alice pw", "AUTH alice nope"},
		{"nopass", ServerOptions{User: "bob"}, "AUTH bob anything", ""},
		{"tls", ServerOptions{Password: "pw", User: "carol", TLS: true}, "AUTH carol pw", "AUTH carol nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := StartServerT(t, tt.opts)
			dial := func() *client {
				if tt.opts.TLS {
					return dialTLS(t, s.Addr(), s.TLSConfig())
				}
				return dialPlain(t, s.Addr())
			}
			c := dial()
			if tt.badAuth != "" {
				if got := c.send(tt.badAuth); !strings.HasPrefix(got, "-WRONGPASS") {
					t.Fatalf("%s = %q, want -WRONGPASS...", tt.badAuth, got)
				}
			}
			if got := c.send(tt.goodAuth); got != "+OK" {
				t.Fatalf("%s = %q, want +OK", tt.goodAuth, got)
			}
			if got := c.send("ACL WHOAMI"); !strings.HasPrefix(got, "$") {
				t.Fatalf("ACL WHOAMI = %q, want a bulk string", got)
			}
			if got, want := c.readLine(time.Now().Add(ioTimeout)), tt.opts.User; got != want {
				t.Fatalf("ACL WHOAMI = %q, want %q", got, want)
			}
			// +@all ~* &*: the user may write keys.
			if got := c.send("SET k v"); got != "+OK" {
				t.Fatalf("SET as %s = %q, want +OK", tt.opts.User, got)
			}
		})
	}
}

func TestTLSServer(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{TLS: true})

	cfg := s.TLSConfig()
	if cfg == nil {
		t.Fatal("TLSConfig() = nil for a TLS server")
	}
	if cfg == s.TLSConfig() {
		t.Fatal("TLSConfig() returned the same pointer twice, want a fresh clone")
	}
	cfg.ServerName = "mutated"
	if got := s.TLSConfig().ServerName; got != "127.0.0.1" {
		t.Fatalf("TLSConfig().ServerName = %q after mutating a copy, want 127.0.0.1", got)
	}

	c := dialTLS(t, s.Addr(), s.TLSConfig())
	if got := c.send("PING"); got != "+PONG" {
		t.Fatalf("PING over TLS = %q, want +PONG", got)
	}

	// The certificate also carries the DNS SAN "localhost".
	byName := s.TLSConfig()
	byName.ServerName = "localhost"
	if got := dialTLS(t, s.Addr(), byName).send("PING"); got != "+PONG" {
		t.Fatalf("PING over TLS (ServerName localhost) = %q, want +PONG", got)
	}

	// A client without the generated CA must not verify the server.
	if conn, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", s.Addr(), &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		conn.Close()
		t.Fatal("TLS dial without the lab CA succeeded, want a verification error")
	}

	// Plain TCP on the TLS port must not get a Redis reply.
	plain := dialPlain(t, s.Addr())
	plain.write("PING")
	if got, err := plain.tryReadLine(time.Now().Add(ioTimeout)); got == "+PONG" {
		t.Fatalf("plain-text PING on the TLS port = %q (err %v), want no PONG", got, err)
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{})
	if err := s.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	assertExited(t, s)
	if conn, err := net.DialTimeout("tcp", s.Addr(), ioTimeout); err == nil {
		conn.Close()
		t.Fatalf("dial %s after Kill succeeded, want connection refused", s.Addr())
	}
	if err := s.Kill(); err != nil {
		t.Fatalf("second Kill: %v, want nil", err)
	}
	if err := s.Pause(); err == nil {
		t.Fatal("Pause after Kill succeeded, want an error")
	}
	if _, err := os.Stat(s.dir); err != nil {
		t.Fatalf("temp dir gone after Kill (%v), want it kept until Close", err)
	}
}

func TestPauseResume(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGSTOP on windows")
	}
	t.Parallel()
	s := StartServerT(t, ServerOptions{})
	c := dialPlain(t, s.Addr())
	if got := c.send("PING"); got != "+PONG" {
		t.Fatalf("PING before Pause = %q, want +PONG", got)
	}

	if err := s.Pause(); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	c.write("PING")
	got, err := c.tryReadLine(time.Now().Add(200 * time.Millisecond))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("PING while paused = %q, %v; want a read timeout", got, err)
	}

	if err := s.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if got := c.readLine(time.Now().Add(ioTimeout)); got != "+PONG" {
		t.Fatalf("PING reply after Resume = %q, want +PONG", got)
	}
}

func TestCloseWhilePaused(t *testing.T) {
	RequireRedisServer(t)
	if runtime.GOOS == "windows" {
		t.Skip("no SIGSTOP on windows")
	}
	t.Parallel()
	s, err := StartServer(context.Background(), ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close of a paused server: %v", err)
	}
	assertExited(t, s)
}

func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	RequireRedisServer(t)
	for _, killFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("killFirst=%v", killFirst), func(t *testing.T) {
			t.Parallel()
			s, err := StartServer(context.Background(), ServerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if killFirst {
				if err := s.Kill(); err != nil {
					t.Fatalf("Kill: %v", err)
				}
			}
			for i := range 2 {
				if err := s.Close(); err != nil {
					t.Fatalf("Close #%d: %v", i+1, err)
				}
			}
			assertExited(t, s)
			if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("temp dir %s after Close: stat error %v, want not-exist", s.dir, err)
			}
		})
	}
}

func TestExitedOnShutdown(t *testing.T) {
	t.Parallel()
	s := StartServerT(t, ServerOptions{})
	c := dialPlain(t, s.Addr())
	c.write("SHUTDOWN NOSAVE")
	waitExited(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close after the server shut itself down: %v", err)
	}
}

func TestOtherLoopbackHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux routes all of 127.0.0.0/8 to loopback by default")
	}
	t.Parallel()
	s := StartServerT(t, ServerOptions{Host: "127.0.0.2"})
	if host, _, _ := net.SplitHostPort(s.Addr()); host != "127.0.0.2" {
		t.Fatalf("Addr() = %q, want host 127.0.0.2", s.Addr())
	}
	if got := dialPlain(t, s.Addr()).send("PING"); got != "+PONG" {
		t.Fatalf("PING = %q, want +PONG", got)
	}
}

func TestNonLoopbackHostRejected(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"0.0.0.0", "10.0.0.1", "192.168.1.1", "::1", "::", "localhost", "example.com", "127.0.0.1:6379"} {
		_, err := StartServer(context.Background(), ServerOptions{Host: host})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Host %q: err = %v, want a loopback error", host, err)
		}
	}
}

func TestMissingBinary(t *testing.T) {
	t.Parallel()
	_, err := StartServer(context.Background(), ServerOptions{Binary: "/nonexistent"})
	if err == nil {
		t.Fatal("StartServer with Binary /nonexistent succeeded")
	}
	if !strings.Contains(err.Error(), `"/nonexistent"`) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want it to name the binary and wrap os.ErrNotExist", err)
	}
}

// Not parallel: it changes PATH for the whole process.
func TestFindRedisServerNotOnPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	const want = "redis-server not found on PATH: run scripts/setup.sh (make setup) to install it, or `apt-get install -y redis-server redis-tools` (Debian/Ubuntu) or `brew install redis`"

	_, err := FindRedisServer()
	if err == nil || err.Error() != want {
		t.Fatalf("FindRedisServer() error = %v, want %q", err, want)
	}
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("FindRedisServer() error does not wrap exec.ErrNotFound")
	}
	if _, err := StartServer(context.Background(), ServerOptions{}); err == nil || err.Error() != want {
		t.Fatalf("StartServer() error = %v, want %q", err, want)
	}
}

func TestFindRedisServer(t *testing.T) {
	t.Parallel()
	RequireRedisServer(t)
	path, err := FindRedisServer()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		t.Fatalf("FindRedisServer() = %q, not a file (%v)", path, err)
	}
}

func TestStartFailureIncludesLog(t *testing.T) {
	t.Parallel()
	RequireRedisServer(t)
	_, err := StartServer(context.Background(), ServerOptions{Args: []string{"--no-such-directive", "1"}})
	if err == nil {
		t.Fatal("StartServer with a bad directive succeeded")
	}
	for _, want := range []string{"exited before it was ready", "Bad directive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}
}

func TestQuietLoglevelRejected(t *testing.T) {
	t.Parallel()
	_, err := StartServer(context.Background(), ServerOptions{Args: []string{"--loglevel", "warning"}})
	if err == nil || !strings.Contains(err.Error(), "--loglevel warning") {
		t.Fatalf("err = %v, want a --loglevel error", err)
	}
}

func TestStartDeadline(t *testing.T) {
	t.Parallel()
	RequireRedisServer(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := StartServer(ctx, ServerOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

// TestPortTaken forces the race between picking a port and redis-server
// binding it, by handing out a port that a listener already holds.
func TestPortTaken(t *testing.T) {
	t.Parallel()
	RequireRedisServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port

	t.Run("retries", func(t *testing.T) {
		var mu sync.Mutex
		calls := 0
		pick := func(host string) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return taken, nil
			}
			return freePort(host)
		}
		s, err := startServer(context.Background(), ServerOptions{}, pick)
		if err != nil {
			t.Fatalf("startServer: %v", err)
		}
		defer s.Close()
		if calls != 2 {
			t.Errorf("port picker called %d times, want 2", calls)
		}
		if _, port, _ := net.SplitHostPort(s.Addr()); port == strconv.Itoa(taken) {
			t.Errorf("Addr() = %s, want a port other than the taken %d", s.Addr(), taken)
		}
		if got := dialPlain(t, s.Addr()).send("PING"); got != "+PONG" {
			t.Fatalf("PING = %q, want +PONG", got)
		}
	})

	t.Run("gives up", func(t *testing.T) {
		calls := 0
		pick := func(string) (int, error) { calls++; return taken, nil }
		_, err := startServer(context.Background(), ServerOptions{}, pick)
		if err == nil || !strings.Contains(err.Error(), addrInUse) {
			t.Fatalf("err = %v, want it to report %q", err, addrInUse)
		}
		if calls != maxPortAttempts {
			t.Errorf("port picker called %d times, want %d", calls, maxPortAttempts)
		}
	})
}

// fakeTB records what StartServerT does with its TB.
type fakeTB struct {
	cleanups []func()
	fatal    string
	skip     string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.skip = fmt.Sprintf(format, args...) }

// Not parallel: it changes PATH and CI for the whole process.
func TestStartTSkipsWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	const want = "redis-server not found on PATH: run scripts/setup.sh (make setup)"
	starts := map[string]func(TB) bool{
		"StartServerT":  func(tb TB) bool { return StartServerT(tb, ServerOptions{}) == nil },
		"StartClusterT": func(tb TB) bool { return StartClusterT(tb, ClusterOptions{Shards: 1}) == nil },
	}
	for name, start := range starts {
		for _, ci := range []string{"", "true"} {
			t.Run(name+" CI="+ci, func(t *testing.T) {
				t.Setenv("CI", ci)
				ft := &fakeTB{}
				if !start(ft) {
					t.Fatalf("%s returned a value without redis-server", name)
				}
				got, other := ft.skip, ft.fatal // a skip, or under CI a failure
				if ci == "true" {
					got, other = ft.fatal, ft.skip
				}
				if !strings.HasPrefix(got, want) || other != "" {
					t.Fatalf("Skipf(%q), Fatalf(%q); want only one of them, starting %q", ft.skip, ft.fatal, want)
				}
			})
		}
	}
	t.Run("an explicit binary that is missing fails", func(t *testing.T) {
		t.Setenv("CI", "")
		ft := &fakeTB{}
		if s := StartServerT(ft, ServerOptions{Binary: "redis-server"}); s != nil {
			t.Fatalf("StartServerT = %v, want nil", s)
		}
		if ft.fatal == "" || ft.skip != "" {
			t.Fatalf("Skipf(%q), Fatalf(%q); want a failure naming the binary", ft.skip, ft.fatal)
		}
	})
}

func TestStartServerT(t *testing.T) {
	t.Parallel()
	RequireRedisServer(t)
	t.Run("success registers Close", func(t *testing.T) {
		ft := &fakeTB{}
		s := StartServerT(ft, ServerOptions{})
		if s == nil || ft.fatal != "" {
			t.Fatalf("StartServerT = %v, Fatalf(%q)", s, ft.fatal)
		}
		if len(ft.cleanups) != 1 {
			t.Fatalf("%d cleanups registered, want 1", len(ft.cleanups))
		}
		ft.cleanups[0]()
		assertExited(t, s)
		if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temp dir after cleanup: stat error %v, want not-exist", err)
		}
		if ft.fatal != "" {
			t.Fatalf("cleanup called Fatalf(%q)", ft.fatal)
		}
	})
	t.Run("failure calls Fatalf", func(t *testing.T) {
		ft := &fakeTB{}
		if s := StartServerT(ft, ServerOptions{Host: "10.0.0.1"}); s != nil {
			t.Fatalf("StartServerT = %v, want nil from a failed start", s)
		}
		if !strings.Contains(ft.fatal, "loopback") {
			t.Fatalf("Fatalf(%q), want a loopback error", ft.fatal)
		}
		if len(ft.cleanups) != 0 {
			t.Fatalf("%d cleanups registered after a failed start, want 0", len(ft.cleanups))
		}
	})
}
