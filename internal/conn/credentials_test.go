package conn_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/lab"
)

// recordingServer answers the handshake like Redis 7 (or, with resp2, like a
// server without HELLO) and records the handshake commands it receives.
type recordingServer struct {
	*resptest.Server
	mu   sync.Mutex
	cmds [][]string
}

func newRecordingServer(t *testing.T, resp2 bool) *recordingServer {
	s := &recordingServer{Server: resptest.New(t)}
	record := func(reply resptest.Reply) resptest.Handler {
		return func(cmd []string) resptest.Reply {
			s.mu.Lock()
			s.cmds = append(s.cmds, slices.Clone(cmd))
			s.mu.Unlock()
			return reply
		}
	}
	hello := resptest.Raw(resptest.HelloRESP3)
	if resp2 {
		hello = resptest.Err("ERR unknown command 'HELLO'")
	}
	s.Handle("HELLO", record(hello))
	s.Handle("AUTH", record(resptest.OK()))
	return s
}

func (s *recordingServer) commands() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cmds)
}

// The provider is called once per dial, with a context that has the dial's
// deadline, and what it returns is what the handshake authenticates with:
// in HELLO 3 AUTH, and in AUTH on a server without HELLO.
func TestCredentialsProviderUsedPerDial(t *testing.T) {
	for _, tc := range []struct {
		name  string
		resp2 bool
		want  [][]string
	}{
		{"RESP3", false, [][]string{
			{"HELLO", "3", "AUTH", "user", "token-1"},
			{"HELLO", "3", "AUTH", "user", "token-2"},
		}},
		{"RESP2 fallback", true, [][]string{
			{"HELLO", "3", "AUTH", "user", "token-1"}, {"AUTH", "user", "token-1"},
			{"HELLO", "3", "AUTH", "user", "token-2"}, {"AUTH", "user", "token-2"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRecordingServer(t, tc.resp2)
			var calls int
			const dialTimeout = 3 * time.Second
			opts := conn.Options{
				Username: "ignored", Password: "ignored", DialTimeout: dialTimeout,
				Credentials: func(ctx context.Context) (string, string, error) {
					calls++
					deadline, ok := ctx.Deadline()
					if !ok || time.Until(deadline) > dialTimeout {
						t.Errorf("provider context deadline = %v, %v; want within %v", deadline, ok, dialTimeout)
					}
					return "user", []string{"token-1", "token-2"}[calls-1], nil
				},
			}
			for i := range 2 {
				c, err := conn.Dial(context.Background(), s.Addr(), opts)
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				_ = c.Close()
			}
			if calls != 2 {
				t.Errorf("provider called %d times for 2 dials", calls)
			}
			if got := s.commands(); !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("handshake commands = %q, want %q", got, tc.want)
			}
		})
	}
}

// A failing provider fails the dial before anything is sent, with an error
// matching ErrCredentials and the provider's own error (not ErrAuth: the
// server refused nothing).
func TestCredentialsProviderErrorFailsDial(t *testing.T) {
	s := newRecordingServer(t, false)
	errVault := errors.New("vault unreachable")
	_, err := conn.Dial(context.Background(), s.Addr(), conn.Options{
		Credentials: func(context.Context) (string, string, error) { return "", "", errVault },
	})
	if !errors.Is(err, conn.ErrCredentials) || !errors.Is(err, errVault) || errors.Is(err, conn.ErrAuth) {
		t.Fatalf("err = %v; want ErrCredentials and the provider's error, not ErrAuth", err)
	}
	if got := s.commands(); len(got) != 0 {
		t.Errorf("server received %q after the provider failed", got)
	}
}

// A provider still running when the dial timeout ends sees its context end,
// and the dial fails with the deadline.
func TestCredentialsProviderBoundedByDialTimeout(t *testing.T) {
	s := newRecordingServer(t, false)
	_, err := conn.Dial(context.Background(), s.Addr(), conn.Options{
		DialTimeout: 50 * time.Millisecond,
		Credentials: func(ctx context.Context) (string, string, error) {
			<-ctx.Done()
			return "", "", ctx.Err()
		},
	})
	if !errors.Is(err, conn.ErrCredentials) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want ErrCredentials and DeadlineExceeded", err)
	}
}

// Against a real server with an ACL user, the provider's credentials
// authenticate, and a refused password is ErrAuth.
func TestCredentialsProviderAuthenticates(t *testing.T) {
	s := lab.StartServerT(t, lab.ServerOptions{Password: "right", User: "app"})
	provide := func(password string) func(context.Context) (string, string, error) {
		return func(context.Context) (string, string, error) { return "app", password, nil }
	}
	for _, proto := range []int{2, 3} {
		c := dial(t, s, conn.Options{Protocol: proto, Credentials: provide("right")})
		if got, _ := mustDo(t, c, "ACL", "WHOAMI").Text(); got != "app" {
			t.Errorf("RESP%d: ACL WHOAMI = %q, want app", proto, got)
		}
		_, err := conn.Dial(context.Background(), s.Addr(), conn.Options{Protocol: proto, Credentials: provide("wrong")})
		if !errors.Is(err, conn.ErrAuth) || errors.Is(err, conn.ErrCredentials) {
			t.Errorf("RESP%d: wrong password: err = %v, want ErrAuth", proto, err)
		}
	}
}
