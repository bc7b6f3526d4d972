package keel

import (
	"context"
	"time"
)

// NullString is a string reply that may be null, like sql.NullString: Valid
// is false when the key or field did not exist.
type NullString struct {
	Value string
	Valid bool
}

// Get returns the value of key (GET). A missing key is ErrNil; a key holding
// another type fails with resp.ErrWrongType.
func (c *Client) Get(ctx context.Context, key string) (string, error) {
	return toString(c.Do(ctx, "GET", key))
}

// Set sets key to value, dropping any TTL it had (SET key value).
func (c *Client) Set(ctx context.Context, key, value string) error {
	return toOK(c.Do(ctx, "SET", key, value))
}

// SetOptions are the options of SetWith.
type SetOptions struct {
	// TTL is the key's time to live, sent with millisecond precision as
	// PX; 0 means none.
	TTL time.Duration
	// KeepTTL keeps the key's current TTL (KEEPTTL); it excludes TTL.
	KeepTTL bool
	// NX sets the key only if it does not exist.
	NX bool
	// XX sets the key only if it exists; it excludes NX.
	XX bool
}

// SetWith sets key to value with options (SET key value [NX|XX]
// [PX ms|KEEPTTL]). It reports false when NX or XX prevented the write (a
// null reply), true when the value was written (OK). Conflicting options
// fail with the server's syntax error.
func (c *Client) SetWith(ctx context.Context, key, value string, o SetOptions) (bool, error) {
	args := []string{"SET", key, value}
	if o.NX {
		args = append(args, "NX")
	}
	if o.XX {
		args = append(args, "XX")
	}
	if o.TTL != 0 {
		args = append(args, "PX", formatMs(o.TTL))
	}
	if o.KeepTTL {
		args = append(args, "KEEPTTL")
	}
	return toWritten(c.Do(ctx, args...))
}

// SetNX sets key to value only if key does not exist (SET key value NX
// [PX ms]), with a TTL unless ttl is 0. It reports whether the value was
// written.
func (c *Client) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	return c.SetWith(ctx, key, value, SetOptions{NX: true, TTL: ttl})
}

// SetGet sets key to value and returns the value it held before (SET key
// value GET). When the key did not exist the value is still set and the
// error is ErrNil. A key holding another type fails with resp.ErrWrongType
// and is left alone.
func (c *Client) SetGet(ctx context.Context, key, value string) (string, error) {
	return toString(c.Do(ctx, "SET", key, value, "GET"))
}

// GetDel returns the value of key and deletes the key (GETDEL). A missing key
// is ErrNil.
func (c *Client) GetDel(ctx context.Context, key string) (string, error) {
	return toString(c.Do(ctx, "GETDEL", key))
}

// Incr adds 1 to the integer held by key, a missing key counting as 0, and
// returns the new value (INCR).
func (c *Client) Incr(ctx context.Context, key string) (int64, error) {
	return toInt64(c.Do(ctx, "INCR", key))
}

// IncrBy adds n to the integer held by key, a missing key counting as 0, and
// returns the new value (INCRBY).
func (c *Client) IncrBy(ctx context.Context, key string, n int64) (int64, error) {
	return toInt64(c.Do(ctx, "INCRBY", key, formatInt(n)))
}

// Decr subtracts 1 from the integer held by key, a missing key counting as
// 0, and returns the new value (DECR).
func (c *Client) Decr(ctx context.Context, key string) (int64, error) {
	return toInt64(c.Do(ctx, "DECR", key))
}

// DecrBy subtracts n from the integer held by key, a missing key counting as
// 0, and returns the new value (DECRBY).
func (c *Client) DecrBy(ctx context.Context, key string, n int64) (int64, error) {
	return toInt64(c.Do(ctx, "DECRBY", key, formatInt(n)))
}

// IncrByFloat adds f to the number held by key, a missing key counting as
// 0, and returns the new value (INCRBYFLOAT).
func (c *Client) IncrByFloat(ctx context.Context, key string, f float64) (float64, error) {
	return toFloat(c.Do(ctx, "INCRBYFLOAT", key, formatFloat(f)))
}

// Append appends value to the string held by key, creating it if missing,
// and returns the new length (APPEND).
func (c *Client) Append(ctx context.Context, key, value string) (int64, error) {
	return toInt64(c.Do(ctx, "APPEND", key, value))
}

// StrLen returns the length of the string held by key, 0 for a missing key
// (STRLEN).
func (c *Client) StrLen(ctx context.Context, key string) (int64, error) {
	return toInt64(c.Do(ctx, "STRLEN", key))
}

// GetRange returns the substring of the value of key from byte start to byte
// end, both included; negative offsets count from the end (GETRANGE). A
// missing key gives "".
func (c *Client) GetRange(ctx context.Context, key string, start, end int64) (string, error) {
	return toString(c.Do(ctx, "GETRANGE", key, formatInt(start), formatInt(end)))
}

// MGet returns the values of keys, in order (MGET); a missing key, or one
// holding another type, is a NullString that is not Valid. The keys may be
// in different slots: keel sends one MGET per slot, so the read is not
// atomic across slots.
func (c *Client) MGet(ctx context.Context, keys ...string) ([]NullString, error) {
	return toNullStrings(c.Do(ctx, append([]string{"MGET"}, keys...)...))
}

// MSet sets keys to values, given as key, value, key, value… (MSET). The
// keys may be in different slots: keel sends one MSET per slot, so the write
// is not atomic across slots. An odd number of arguments is an error and
// nothing is sent.
func (c *Client) MSet(ctx context.Context, kv ...string) error {
	if len(kv)%2 != 0 {
		return errPairs("MSet", len(kv))
	}
	return toOK(c.Do(ctx, append([]string{"MSET"}, kv...)...))
}
