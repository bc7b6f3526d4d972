package keel

import (
	"encoding"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/keel-go/keel/internal/escape"
)

// An argument of a command (Do, Command, and the value parameters of typed
// commands) may be a string, a []byte, any integer or float type, a bool (sent
// as 1 or 0), or an encoding.BinaryMarshaler. A []byte is sent without being
// copied: it must not change until the command has been sent (the call
// returned, or the pipeline's Exec did). A call ended early by its context
// may return while a []byte of 16 KiB or more, sent from its own memory, is
// still being written: give such a call a copy if you reuse the slice at once.
//
// time.Duration and time.Time are refused by Do: Redis takes seconds in some
// commands and milliseconds in others, so the typed commands that take them
// (Expire, PExpire, ExpireAt, SetWith…) convert them, and Do callers say which
// unit they mean.

// argString converts one argument to the string sent on the wire.
func argString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return unsafe.String(unsafe.SliceData(x), len(x)), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case float64:
		return formatFloat(x), nil
	case float32:
		return formatFloat(float64(x)), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case nil:
		return "", fmt.Errorf("%w: nil", ErrArgument)
	case time.Duration, time.Time:
		return "", fmt.Errorf("%w: %T: say the unit Redis expects (d.Milliseconds(), t.Unix()…), or use a typed command", ErrArgument, escape.NoEscape(v))
	}
	return marshalArg(escape.NoEscape(v))
}

// marshalArg converts an encoding.BinaryMarshaler, the one kind of argument
// whose conversion calls the caller's code.
func marshalArg(v any) (string, error) {
	m, ok := v.(encoding.BinaryMarshaler)
	if !ok {
		return "", fmt.Errorf("%w: type %T (want string, []byte, a number, bool or encoding.BinaryMarshaler)", ErrArgument, v)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return "", fmt.Errorf("%w: %T.MarshalBinary: %w", ErrArgument, v, err)
	}
	return string(b), nil
}

// appendArgs converts args and appends them to dst.
func appendArgs(dst []string, args []any) ([]string, error) {
	for i, a := range args {
		s, err := argString(a)
		if err != nil {
			return dst, fmt.Errorf("%w (argument %d)", err, i)
		}
		dst = append(dst, s)
	}
	return dst, nil
}

// pairsCmd builds head followed by kv, which must be non-empty pairs (key
// value…, field value…), converted as Do converts arguments.
func pairsCmd[T any](parse func(Value, error) (T, error), head []string, kv []any) Cmd[T] {
	if len(kv) == 0 || len(kv)%2 != 0 {
		return failedCmd[T](head[0], errPairs(len(kv)))
	}
	args, err := appendArgs(append(make([]string, 0, len(head)+len(kv)), head...), kv)
	if err != nil {
		return failedCmd[T](head[0], err)
	}
	return argsCmd(parse, args)
}

// keyListCmd builds name key item…, refusing an empty list of items with
// errEmpty (fields, members).
func keyListCmd[T any](parse func(Value, error) (T, error), name, key string, items []string, errEmpty error) Cmd[T] {
	if len(items) == 0 {
		return failedCmd[T](name, errEmpty)
	}
	args := make([]string, 0, 2+len(items))
	return argsCmd(parse, append(append(args, name, key), items...))
}

// keyValuesCmd builds name key value…, the values converted as Do converts
// arguments; none is ErrArgument.
func keyValuesCmd[T any](parse func(Value, error) (T, error), name, key string, values []any) Cmd[T] {
	if len(values) == 0 {
		return failedCmd[T](name, errNoValues)
	}
	args, err := appendArgs(append(make([]string, 0, 2+len(values)), name, key), values)
	if err != nil {
		return failedCmd[T](name, err)
	}
	return argsCmd(parse, args)
}

// The errors of commands given an empty list.
var (
	errNoFields  = fmt.Errorf("%w: no fields", ErrArgument)
	errNoMembers = fmt.Errorf("%w: no members", ErrArgument)
	errNoValues  = fmt.Errorf("%w: no values", ErrArgument)
)

// mpopArgs builds name numkeys key… end COUNT count (LMPOP, ZMPOP).
func mpopArgs(name string, keys []string, end string, count int64) ([]string, error) {
	if len(keys) == 0 {
		return nil, errNoKeys
	}
	if count < 1 {
		return nil, fmt.Errorf("%w: count %d, want 1 or more", ErrArgument, count)
	}
	args := make([]string, 0, len(keys)+5)
	args = append(append(args, name, formatInt(int64(len(keys)))), keys...)
	return append(args, end, "COUNT", formatInt(count)), nil
}
