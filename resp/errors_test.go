package resp_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keel-go/keel/resp"
)

func TestParseError(t *testing.T) {
	tests := []struct{ msg, code string }{
		{"MOVED 3999 127.0.0.1:6381", "MOVED"},
		{"ASK 3999 127.0.0.1:6381", "ASK"},
		{"ERR foo", "ERR"},
		{"ERR", "ERR"},
		{"LOADING Redis is loading the dataset in memory", "LOADING"},
		{"WRONGTYPE Operation against a key holding the wrong kind of value", "WRONGTYPE"},
		{"NOPERM this user has no permissions", "NOPERM"},
		{"ERR_X something", "ERR_X"},
		{"E2BIG too big", "E2BIG"},
		{"Some lowercase message", ""},
		{"Err mixed case", ""},
		{"2ERR leading digit", ""},
		{"ERR-X dash", ""},
		{" ERR leading space", ""},
		{"", ""},
	}
	for _, tt := range tests {
		e := resp.ParseError(tt.msg)
		if e.Code != tt.code || e.Msg != tt.msg {
			t.Errorf("ParseError(%q) = %+v, want Code %q and Msg %q", tt.msg, *e, tt.code, tt.msg)
		}
		if tt.msg != "" && e.Error() != tt.msg {
			t.Errorf("ParseError(%q).Error() = %q", tt.msg, e.Error())
		}
	}
	if got := resp.ErrMoved.Error(); got != "MOVED" {
		t.Errorf("ErrMoved.Error() = %q, want %q", got, "MOVED")
	}
}

func TestErrorIs(t *testing.T) {
	moved := resp.ParseError("MOVED 3999 127.0.0.1:6381")
	ask := resp.ParseError("ASK 3999 127.0.0.1:6381")
	tests := []struct {
		err    error
		target error
		want   bool
	}{
		{moved, resp.ErrMoved, true},
		{moved, resp.ErrAsk, false},
		{ask, resp.ErrAsk, true},
		{ask, resp.ErrMoved, false},
		{fmt.Errorf("cluster: %w", moved), resp.ErrMoved, true},
		{fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", ask)), resp.ErrAsk, true},
		{fmt.Errorf("cluster: %w", moved), resp.ErrAsk, false},
		{errors.Join(errors.New("x"), ask), resp.ErrAsk, true},
		{resp.ParseError("ERR foo"), resp.ErrGeneric, true},
		{resp.ParseError("READONLY You can't write against a read only replica."), resp.ErrReadOnly, true},
		{resp.ParseError("TRYAGAIN Multiple keys request during rehashing of slot"), resp.ErrTryAgain, true},
		{resp.ParseError("CLUSTERDOWN The cluster is down"), resp.ErrClusterDown, true},
		{resp.ParseError("CROSSSLOT Keys in request don't hash to the same slot"), resp.ErrCrossSlot, true},
		{resp.ParseError("NOSCRIPT No matching script."), resp.ErrNoScript, true},
		{resp.ParseError("MASTERDOWN Link with MASTER is down"), resp.ErrMasterDown, true},
		{resp.ParseError("NOAUTH Authentication required."), resp.ErrNoAuth, true},
		{resp.ParseError("WRONGPASS invalid username-password pair"), resp.ErrWrongPass, true},
		{resp.ParseError("BUSY Redis is busy running a script."), resp.ErrBusy, true},
		{resp.ParseError("EXECABORT Transaction discarded."), resp.ErrExecAbort, true},
		{resp.ParseError("Some lowercase message"), resp.ErrGeneric, false},
		// A target carrying a message is not a code sentinel.
		{moved, &resp.Error{Code: "MOVED", Msg: "MOVED 1 x:1"}, false},
		// An error without a code matches no code, not even an empty one.
		{resp.ParseError("lowercase"), &resp.Error{}, false},
		{resp.ErrMoved, resp.ErrMoved, true},
		{errors.New("MOVED 3999 127.0.0.1:6381"), resp.ErrMoved, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %#v) = %v, want %v", tt.err, tt.target, got, tt.want)
		}
	}

	var e *resp.Error
	if !errors.As(fmt.Errorf("wrapped: %w", moved), &e) || e != moved {
		t.Errorf("errors.As did not find the *Error through %%w")
	}
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		msg  string
		slot int
		addr string
		ok   bool
	}{
		{"MOVED 3999 127.0.0.1:6381", 3999, "127.0.0.1:6381", true},
		{"ASK 3999 127.0.0.1:6381", 3999, "127.0.0.1:6381", true},
		{"MOVED 0 :6381", 0, ":6381", true},
		{"ASK 16383 :6381", 16383, ":6381", true},
		{"MOVED 12182 [::1]:30001", 12182, "[::1]:30001", true},
		{"MOVED 1 redis-node-3.example:6379", 1, "redis-node-3.example:6379", true},
		{"MOVED 16384 127.0.0.1:6381", 0, "", false},
		{"MOVED -1 127.0.0.1:6381", 0, "", false},
		{"MOVED abc 127.0.0.1:6381", 0, "", false},
		{"MOVED 1.5 127.0.0.1:6381", 0, "", false},
		{"MOVED 99999999999999999999 127.0.0.1:6381", 0, "", false},
		{"MOVED 3999", 0, "", false},
		{"MOVED", 0, "", false},
		{"MOVED 3999 127.0.0.1:6381 extra", 0, "", false},
		{"ASK 3999", 0, "", false},
		{"ERR 3999 127.0.0.1:6381", 0, "", false},
		{"TRYAGAIN 3999 127.0.0.1:6381", 0, "", false},
		{"moved 3999 127.0.0.1:6381", 0, "", false},
	}
	for _, tt := range tests {
		slot, addr, ok := resp.ParseError(tt.msg).Redirect()
		if slot != tt.slot || addr != tt.addr || ok != tt.ok {
			t.Errorf("Redirect of %q = %d, %q, %v; want %d, %q, %v", tt.msg, slot, addr, ok, tt.slot, tt.addr, tt.ok)
		}
	}
}

func TestErrorValueFromReader(t *testing.T) {
	v := readOne(t, "-MOVED 3999 127.0.0.1:6381\r\n")
	err := v.Err()
	if !errors.Is(err, resp.ErrMoved) {
		t.Fatalf("Err() = %v, want a MOVED error", err)
	}
	var e *resp.Error
	if !errors.As(err, &e) {
		t.Fatalf("Err() = %T, want *resp.Error", err)
	}
	if slot, addr, ok := e.Redirect(); !ok || slot != 3999 || addr != "127.0.0.1:6381" {
		t.Fatalf("Redirect() = %d, %q, %v", slot, addr, ok)
	}
	// A blob error is an error too.
	if err := readOne(t, "!9\r\nASK 1 :80\r\n").Err(); !errors.Is(err, resp.ErrAsk) {
		t.Fatalf("blob error Err() = %v, want an ASK error", err)
	}
}

func TestIsUnknownCommand(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{resp.ParseError("ERR unknown command 'HELLO', with args beginning with: '3'"), true},
		{resp.ParseError("ERR unknown command `HELLO`, with args beginning with: `3`, "), true},
		{resp.ParseError("ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP."), true},
		{resp.ParseError("ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP."), true},
		{fmt.Errorf("CLUSTER SHARDS: %w", resp.ParseError("ERR unknown subcommand 'SHARDS'")), true},
		{resp.ParseError("ERR wrong number of arguments for 'get' command"), false},
		{resp.ParseError("NOPROTO unsupported protocol version"), false},
		{resp.ParseError("WRONGTYPE unknown command in the text of another code"), false},
		{resp.ParseError("ERR This instance has cluster support disabled"), false},
		{errors.New("ERR unknown command 'HELLO'"), false}, // not a server reply
		{nil, false},
	}
	for _, tt := range tests {
		if got := resp.IsUnknownCommand(tt.err); got != tt.want {
			t.Errorf("IsUnknownCommand(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
