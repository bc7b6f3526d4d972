package keel

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/keel-go/keel/resp"
)

// Conversions shared by the typed commands. Each takes what Client.Do
// returned, so a command method is one line: return toX(c.Do(ctx, …)).
// A transport or server error passes through unchanged; a null reply becomes
// ErrNil where a single value was expected.

// toString returns a string reply; null is ErrNil.
func toString(v Value, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return v.Text()
}

// toInt64 returns an integer reply (or a string holding one); null is ErrNil.
func toInt64(v Value, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return v.Int64()
}

// toFloat returns a double reply (RESP3) or a string holding a number
// (RESP2); null is ErrNil.
func toFloat(v Value, err error) (float64, error) {
	if err != nil {
		return 0, err
	}
	return v.Float64()
}

// toBool returns an integer reply as non-zero, or a RESP3 boolean.
func toBool(v Value, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	return v.Bool()
}

// toOK checks a status reply is OK.
func toOK(v Value, err error) error {
	if err != nil {
		return err
	}
	if v.Kind != resp.KindSimpleString || v.Str != "OK" {
		return fmt.Errorf("%w: want OK, got %s", resp.ErrType, v)
	}
	return nil
}

// toWritten maps the reply of a conditional write (SET … NX|XX) to whether
// it happened: OK is true, null is false.
func toWritten(v Value, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	if v.IsNull() {
		return false, nil
	}
	return true, toOK(v, nil)
}

// toStrings returns the elements of an array or set reply as strings.
func toStrings(v Value, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return v.Strings()
}

// toNullStrings returns the elements of an array reply whose elements may be
// null (MGET, HMGET).
func toNullStrings(v Value, err error) ([]NullString, error) {
	return toNullables(v, err, func(n *NullString, e Value) (err error) {
		n.Value, err = e.Text()
		n.Valid = true
		return err
	})
}

// toNullables converts the elements of an array reply whose elements may be
// null, setting the non-null ones with set and leaving the others zero.
func toNullables[N any](v Value, err error, set func(*N, Value) error) ([]N, error) {
	if err != nil {
		return nil, err
	}
	elems, err := v.Slice()
	if err != nil {
		return nil, err
	}
	out := make([]N, len(elems))
	for i, e := range elems {
		if e.IsNull() {
			continue
		}
		if err := set(&out[i], e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// toStringMap returns a map reply, in any form Value.Pairs takes, as a map.
func toStringMap(v Value, err error) (map[string]string, error) {
	if err != nil {
		return nil, err
	}
	return v.StringMap()
}

// toZs returns a reply of members with scores: RESP3 sends an array of
// [member, score] pairs, RESP2 a flat array of members and scores
// alternating.
func toZs(v Value, err error) ([]Z, error) {
	if err != nil {
		return nil, err
	}
	kv, err := v.Pairs()
	if err != nil {
		return nil, err
	}
	out := make([]Z, len(kv)/2)
	for i := range out {
		if out[i].Member, err = kv[2*i].Text(); err != nil {
			return nil, err
		}
		if out[i].Score, err = kv[2*i+1].Float64(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// formatInt formats an integer argument.
func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// formatFloat formats a float argument the way Redis parses it; infinities
// are "+inf" and "-inf".
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// formatMs formats a duration as whole milliseconds, truncating, except that
// a positive duration under a millisecond is 1 rather than 0 (which Redis
// would refuse or take as "expire now").
func formatMs(d time.Duration) string {
	if d > 0 && d < time.Millisecond {
		return "1"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// errPairs is returned for variadic key/value arguments of odd length.
func errPairs(n int) error {
	return fmt.Errorf("%w: %d arguments, want pairs", ErrArgument, n)
}

// errNoKeys is returned for a command given an empty key list.
var errNoKeys = fmt.Errorf("%w: no keys", ErrArgument)

// toStatus checks a status reply is OK, for commands whose result is only
// their error.
func toStatus(v Value, err error) (struct{}, error) { return struct{}{}, toOK(v, err) }

// toTTL converts PTTL's reply: -2 (missing key) is ErrNil, -1 (no expiry)
// NoExpiry, anything else milliseconds.
func toTTL(v Value, err error) (time.Duration, error) {
	ms, err := toInt64(v, err)
	switch {
	case err != nil:
		return 0, err
	case ms == -2:
		return 0, ErrNil
	case ms == -1:
		return NoExpiry, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// toExpireTime converts PEXPIRETIME's reply: -2 (missing key) is ErrNil, -1
// (no expiry) the zero time, anything else a Unix time in milliseconds.
func toExpireTime(v Value, err error) (time.Time, error) {
	ms, err := toInt64(v, err)
	switch {
	case err != nil:
		return time.Time{}, err
	case ms == -2:
		return time.Time{}, ErrNil
	case ms == -1:
		return time.Time{}, nil
	}
	return time.UnixMilli(ms), nil
}

// toSeconds converts an integer reply counting seconds.
func toSeconds(v Value, err error) (time.Duration, error) {
	n, err := toInt64(v, err)
	return time.Duration(n) * time.Second, err
}

// toInt64s returns the elements of an array reply as integers.
func toInt64s(v Value, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	return v.Int64s()
}

// toKeyElems splits a [key, elements] reply (LMPOP, ZMPOP); null is ErrNil.
func toKeyElems(v Value, err error) (string, Value, error) {
	if err != nil {
		return "", Value{}, err
	}
	elems, err := v.Slice()
	if err != nil {
		return "", Value{}, err
	}
	if len(elems) != 2 {
		return "", Value{}, fmt.Errorf("%w: want [key elements], got %s", resp.ErrType, v)
	}
	key, err := elems[0].Text()
	return key, elems[1], err
}

// toKeyValues converts LMPOP's reply.
func toKeyValues(v Value, err error) (KeyValues, error) {
	key, elems, err := toKeyElems(v, err)
	if err != nil {
		return KeyValues{}, err
	}
	vals, err := elems.Strings()
	return KeyValues{Key: key, Values: vals}, err
}

// toKeyValue converts BLPOP's reply, [key element]; null is ErrNil.
func toKeyValue(v Value, err error) (KeyValue, error) {
	if err != nil {
		return KeyValue{}, err
	}
	if v.IsNull() {
		return KeyValue{}, ErrNil
	}
	ss, err := v.Strings()
	if err == nil && len(ss) != 2 {
		err = fmt.Errorf("%w: want [key element], got %s", resp.ErrType, v)
	}
	if err != nil {
		return KeyValue{}, err
	}
	return KeyValue{Key: ss[0], Value: ss[1]}, nil
}

// toKeyZ converts BZPOPMIN's reply, [key member score]; null is ErrNil.
func toKeyZ(v Value, err error) (KeyZ, error) {
	if err != nil {
		return KeyZ{}, err
	}
	if v.IsNull() {
		return KeyZ{}, ErrNil
	}
	elems, err := v.Slice()
	if err == nil && len(elems) != 3 {
		err = fmt.Errorf("%w: want [key member score], got %s", resp.ErrType, v)
	}
	if err != nil {
		return KeyZ{}, err
	}
	var kz KeyZ
	if kz.Key, err = elems[0].Text(); err == nil {
		if kz.Z.Member, err = elems[1].Text(); err == nil {
			kz.Z.Score, err = elems[2].Float64()
		}
	}
	return kz, err
}

// toBools returns the elements of an array reply as booleans.
func toBools(v Value, err error) ([]bool, error) {
	if err != nil {
		return nil, err
	}
	return v.Bools()
}

// toNullFloats returns the elements of an array reply whose elements may be
// null (ZMSCORE) as scores.
func toNullFloats(v Value, err error) ([]NullFloat, error) {
	return toNullables(v, err, func(n *NullFloat, e Value) (err error) {
		n.Value, err = e.Float64()
		n.Valid = true
		return err
	})
}

// toKeyZs converts ZMPOP's reply.
func toKeyZs(v Value, err error) (KeyZs, error) {
	key, elems, err := toKeyElems(v, err)
	if err != nil {
		return KeyZs{}, err
	}
	zs, err := toZs(elems, nil)
	return KeyZs{Key: key, Members: zs}, err
}
