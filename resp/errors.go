package resp

import (
	"errors"
	"strconv"
	"strings"
)

// ErrProtocol is wrapped by every error the Reader returns for bytes that are
// not valid RESP or that exceed its Limits. After it, the stream is out of
// step and the connection must be closed.
var ErrProtocol = errors.New("resp: protocol error")

// ErrTooLarge is wrapped, with ErrProtocol, by the Reader's errors for values
// over its Limits (longer, larger or deeper than allowed): unlike garbage
// bytes, the same request would meet the same refusal again.
var ErrTooLarge = errors.New("resp: value over the reader's limits")

// Error is an error reply sent by the server, such as
// "MOVED 3999 127.0.0.1:6381" or "WRONGTYPE Operation against a key…".
//
// errors.Is(err, ErrMoved) and the like match by Code, so callers can test the
// kind of a server error without parsing its text.
type Error struct {
	// Code is the first word of the message when it is all upper case, as
	// Redis sends it (ERR, MOVED, ASK, READONLY…); otherwise empty.
	Code string
	// Msg is the full message as the server sent it.
	Msg string
}

// ParseError builds an *Error from an error reply's text.
func ParseError(msg string) *Error {
	code := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		code = msg[:i]
	}
	if !isErrorCode(code) {
		code = ""
	}
	return &Error{Code: code, Msg: msg}
}

func isErrorCode(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && c != '_' && (c < '0' || c > '9' || i == 0) {
			return false
		}
	}
	return true
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Code
	}
	return e.Msg
}

// Is reports whether target is a code sentinel (an *Error with only a Code,
// such as ErrMoved) with the same code as e.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Code != "" && t.Code == e.Code
}

// Redirect parses a MOVED or ASK error into the slot and the address to go
// to. The address is as sent: Redis 7 sends ":port" when the node's host is
// unknown to it, meaning the host the request was sent to.
func (e *Error) Redirect() (slot int, addr string, ok bool) {
	if e.Code != "MOVED" && e.Code != "ASK" {
		return 0, "", false
	}
	fields := strings.Fields(e.Msg)
	if len(fields) != 3 {
		return 0, "", false
	}
	slot, err := strconv.Atoi(fields[1])
	if err != nil || slot < 0 || slot > 16383 {
		return 0, "", false
	}
	return slot, fields[2], true
}

// IsUnknownCommand reports whether err is a server's refusal of a command or
// subcommand it does not have: "ERR unknown command 'HELLO'…" from a server
// older than the command, "ERR unknown subcommand 'SHARDS'…" (Redis 7) or
// "ERR Unknown subcommand or wrong number of arguments for 'SHARDS'…"
// (before it). Callers use it to fall back to an older form of a request.
func IsUnknownCommand(err error) bool {
	var re *Error
	if !errors.As(err, &re) || re.Code != "ERR" {
		return false
	}
	m := strings.ToLower(re.Msg)
	return strings.Contains(m, "unknown command") || strings.Contains(m, "unknown subcommand")
}

// Sentinels for the server error codes keel acts on; compare with errors.Is.
var (
	ErrMoved       = &Error{Code: "MOVED"}       // the slot lives on another node
	ErrAsk         = &Error{Code: "ASK"}         // the slot is migrating; ask the target once
	ErrTryAgain    = &Error{Code: "TRYAGAIN"}    // multi-key command during migration
	ErrClusterDown = &Error{Code: "CLUSTERDOWN"} // the cluster cannot serve the slot
	ErrLoading     = &Error{Code: "LOADING"}     // the node is loading its dataset
	ErrReadOnly    = &Error{Code: "READONLY"}    // a write reached a replica
	ErrMasterDown  = &Error{Code: "MASTERDOWN"}  // a replica lost its primary
	ErrCrossSlot   = &Error{Code: "CROSSSLOT"}   // keys of one command in different slots
	ErrWrongType   = &Error{Code: "WRONGTYPE"}   // operation against a key of another type
	ErrNoAuth      = &Error{Code: "NOAUTH"}      // authentication required
	ErrWrongPass   = &Error{Code: "WRONGPASS"}   // bad username or password
	ErrNoPerm      = &Error{Code: "NOPERM"}      // ACL denies the command or key
	ErrBusy        = &Error{Code: "BUSY"}        // a script is running
	ErrNoScript    = &Error{Code: "NOSCRIPT"}    // EVALSHA of an unknown script
	ErrExecAbort   = &Error{Code: "EXECABORT"}   // a transaction was discarded
	ErrGeneric     = &Error{Code: "ERR"}         // the generic error code
)
