package cluster

import (
	"errors"
	"strings"
	"testing"
)

func TestConnStateError(t *testing.T) {
	tests := []struct {
		cmd  string
		hint string // "" = not refused
	}{
		{"MULTI", "Client.Tx"},
		{"exec", "Client.Tx"},
		{"DISCARD", "Client.Tx"},
		{"WATCH k", "Client.Watch (optimistic"},
		{"UNWATCH", "Client.Watch (optimistic"},
		{"SELECT 1", "only database 0"},
		{"select 0", "only database 0"},
		{"CLIENT REPLY OFF", "Options.ClientName"},
		{"client reply skip", "Options.ClientName"},
		{"CLIENT TRACKING ON", "Options.ClientName"},
		{"CLIENT NO-EVICT ON", "Options.ClientName"},
		{"CLIENT no-touch on", "Options.ClientName"},
		{"CLIENT SETNAME x", "Options.ClientName"},
		{"CLIENT CACHING yes", "Options.ClientName"},
		{"CLIENT SETINFO LIB-NAME x", "Options.ClientName"},
		{"MONITOR", "redis-cli"},
		{"RESET", "keel manages the connection"},
		{"HELLO 3", "keel manages the connection"},
		{"AUTH u p", "keel manages the connection"},
		{"QUIT", "keel manages the connection"},
		{"READONLY", "keel manages the connection"},
		{"READWRITE", "keel manages the connection"},
		{"ASKING", "keel manages the connection"},
		{"SUBSCRIBE ch", "Pub/Sub"},
		{"PSUBSCRIBE ch*", "Pub/Sub"},
		{"SSUBSCRIBE ch", "Pub/Sub"},
		{"UNSUBSCRIBE", "Pub/Sub"},
		{"PUNSUBSCRIBE", "Pub/Sub"},
		{"SUNSUBSCRIBE", "Pub/Sub"},
		// Ordinary commands, and CLIENT subcommands that leave the
		// connection as it is.
		{"CLIENT LIST", ""},
		{"CLIENT INFO", ""},
		{"client id", ""},
		{"CLIENT KILL ID 7", ""},
		{"CLIENT GETNAME", ""},
		{"CLIENT REPLYX", ""},
		{"CLIENT", ""},
		{"GET k", ""},
		{"SET k v", ""},
		{"PUBLISH ch m", ""},
		{"BLPOP l 0", ""},
		{"NOSUCH", ""},
	}
	for _, tt := range tests {
		args := strings.Fields(tt.cmd)
		c, _ := Lookup(args[0])
		err := ConnStateError(&c, args)
		if tt.hint == "" {
			if err != nil {
				t.Errorf("ConnStateError(%s) = %v, want nil", tt.cmd, err)
			}
			continue
		}
		if !errors.Is(err, ErrConnState) || !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("ConnStateError(%s) = %v, want ErrConnState naming %q", tt.cmd, err, tt.hint)
		}
		if !strings.Contains(err.Error(), strings.ToUpper(args[0])) {
			t.Errorf("ConnStateError(%s) = %v, want the command named", tt.cmd, err)
		}
		if errors.Is(err, ErrBlocking) {
			t.Errorf("ConnStateError(%s) matches ErrBlocking", tt.cmd)
		}
	}
	if err := ConnStateError(ptr(lookup(t, "CLIENT")), []string{"CLIENT", "reply", "on"}); err == nil || !strings.Contains(err.Error(), "CLIENT REPLY") {
		t.Errorf("CLIENT reply: %v, want the subcommand named in upper case", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestRefusal checks the order of the two refusals: blocking commands stay
// ErrBlocking, connection-state ones are ErrConnState.
func TestRefusal(t *testing.T) {
	for cmd, want := range map[string]error{
		"BLPOP l 0":                 ErrBlocking,
		"WAIT 1 0":                  ErrBlocking,
		"XREAD BLOCK 0 STREAMS s $": ErrBlocking,
		"MULTI":                     ErrConnState,
		"SUBSCRIBE ch":              ErrConnState,
		"MONITOR":                   ErrConnState,
		"GET k":                     nil,
		"CLIENT LIST":               nil,
	} {
		args := strings.Fields(cmd)
		c, _ := Lookup(args[0])
		err := refusal(&c, args)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("refusal(%s) = %v, want %v", cmd, err, want)
		}
	}
}

func TestConnStateNoAlloc(t *testing.T) {
	for _, cmd := range []string{"GET k", "SET k v", "CLIENT LIST", "client info", "XREAD STREAMS s 0"} {
		args := strings.Fields(cmd)
		c, _ := Lookup(args[0])
		if n := testing.AllocsPerRun(100, func() {
			if refusal(&c, args) != nil {
				t.Fatal("refused")
			}
		}); n != 0 {
			t.Errorf("refusal(%s) allocates %v times", cmd, n)
		}
	}
}
