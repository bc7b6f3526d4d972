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

// Each command is defined once, as a function that builds it (Get) and that
// Queue accepts; the Client method of the same name runs that definition.

// Get builds GET key. Its result is the value; a missing key is ErrNil, a
// key holding another type fails with resp.ErrWrongType.
func Get(key string) Cmd[string] { return newCmd(toString, "GET", key) }

// Get returns the value of key (GET); see Get, the command.
func (c *Client) Get(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, Get(key))
}

// Set builds SET key value, which drops any TTL the key had.
func Set(key string, value any) Cmd[struct{}] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[struct{}]("SET", err)
	}
	return newCmd(toStatus, "SET", key, v)
}

// Set sets key to value (SET); value is converted as Do converts arguments.
func (c *Client) Set(ctx context.Context, key string, value any) error {
	_, err := exec(ctx, c, Set(key, value))
	return err
}

// SetOptions are the options of SetWith and SetGetWith. The zero value sets
// the key unconditionally and drops any TTL it had.
type SetOptions struct {
	// TTL is the key's time to live, sent with millisecond precision as
	// PX; 0 means none.
	TTL time.Duration
	// ExpireAt makes the key expire at this time, sent with millisecond
	// precision as PXAT; the zero time means none. It excludes TTL.
	ExpireAt time.Time
	// KeepTTL keeps the key's current TTL (KEEPTTL); it excludes TTL and
	// ExpireAt.
	KeepTTL bool
	// NX sets the key only if it does not exist.
	NX bool
	// XX sets the key only if it exists; it excludes NX.
	XX bool
}

// setArgs returns SET key value with o's options, then extra.
func setArgs(key, value string, o SetOptions, extra ...string) []string {
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
	if !o.ExpireAt.IsZero() {
		args = append(args, "PXAT", formatInt(o.ExpireAt.UnixMilli()))
	}
	if o.KeepTTL {
		args = append(args, "KEEPTTL")
	}
	return append(args, extra...)
}

// SetWith builds SET key value [NX|XX] [PX ms|PXAT unix-ms|KEEPTTL]. Its
// result is false when NX or XX prevented the write (a null reply), true
// when the value was written (OK). Conflicting options fail with the
// server's syntax error. (EX and EXAT are PX and PXAT in whole seconds:
// keel always sends milliseconds.)
func SetWith(key string, value any, o SetOptions) Cmd[bool] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[bool]("SET", err)
	}
	return argsCmd(toWritten, setArgs(key, v, o))
}

// SetWith sets key to value with options; see SetWith, the command.
func (c *Client) SetWith(ctx context.Context, key string, value any, o SetOptions) (bool, error) {
	return exec(ctx, c, SetWith(key, value, o))
}

// SetNX builds SET key value NX [PX ms], with a TTL unless ttl is 0. Its
// result says whether the value was written.
func SetNX(key string, value any, ttl time.Duration) Cmd[bool] {
	return SetWith(key, value, SetOptions{NX: true, TTL: ttl})
}

// SetNX sets key to value only if key does not exist; see SetNX, the command.
func (c *Client) SetNX(ctx context.Context, key string, value any, ttl time.Duration) (bool, error) {
	return exec(ctx, c, SetNX(key, value, ttl))
}

// SetGet builds SET key value GET. Its result is the value the key held
// before; when the key did not exist the value is still set and the error is
// ErrNil. A key holding another type fails with resp.ErrWrongType and is
// left alone.
func SetGet(key string, value any) Cmd[string] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[string]("SET", err)
	}
	return newCmd(toString, "SET", key, v, "GET")
}

// SetGet sets key to value and returns its old value; see SetGet, the command.
func (c *Client) SetGet(ctx context.Context, key string, value any) (string, error) {
	return exec(ctx, c, SetGet(key, value))
}

// SetGetWith builds SET key value [NX|XX] [PX ms|PXAT unix-ms|KEEPTTL] GET.
// Its result is the value the key held before, ErrNil when it did not
// exist, whether or not the options let the write happen: with NX the value
// was written exactly when the result is ErrNil, with XX exactly when it is
// not. A key holding another type fails with resp.ErrWrongType and is left
// alone.
func SetGetWith(key string, value any, o SetOptions) Cmd[string] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[string]("SET", err)
	}
	return argsCmd(toString, setArgs(key, v, o, "GET"))
}

// SetGetWith sets key to value with options and returns its old value; see
// SetGetWith, the command.
func (c *Client) SetGetWith(ctx context.Context, key string, value any, o SetOptions) (string, error) {
	return exec(ctx, c, SetGetWith(key, value, o))
}

// GetSet builds GETSET key value, which Redis deprecates for SET … GET: it
// is SetGet.
func GetSet(key string, value any) Cmd[string] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[string]("GETSET", err)
	}
	return newCmd(toString, "GETSET", key, v)
}

// GetSet sets key to value and returns its old value; see GetSet, the command.
func (c *Client) GetSet(ctx context.Context, key string, value any) (string, error) {
	return exec(ctx, c, GetSet(key, value))
}

// GetExOptions are the options of GetEx: at most one may be set. The zero
// value changes nothing (GETEX is then GET).
type GetExOptions struct {
	// TTL sets the key's time to live, with millisecond precision (PX).
	TTL time.Duration
	// ExpireAt makes the key expire at this time, with millisecond precision
	// (PXAT).
	ExpireAt time.Time
	// Persist removes the key's expiry (PERSIST).
	Persist bool
}

// GetEx builds GETEX key [PX ms|PXAT unix-ms|PERSIST]: its result is the
// value, and the key's expiry is changed as o says. A missing key is ErrNil.
// More than one option fails with the server's syntax error.
func GetEx(key string, o GetExOptions) Cmd[string] {
	args := []string{"GETEX", key}
	if o.TTL != 0 {
		args = append(args, "PX", formatMs(o.TTL))
	}
	if !o.ExpireAt.IsZero() {
		args = append(args, "PXAT", formatInt(o.ExpireAt.UnixMilli()))
	}
	if o.Persist {
		args = append(args, "PERSIST")
	}
	return argsCmd(toString, args)
}

// GetEx returns the value of key and changes its expiry; see GetEx, the
// command.
func (c *Client) GetEx(ctx context.Context, key string, o GetExOptions) (string, error) {
	return exec(ctx, c, GetEx(key, o))
}

// GetDel builds GETDEL key: its result is the value, and the key is
// deleted. A missing key is ErrNil.
func GetDel(key string) Cmd[string] { return newCmd(toString, "GETDEL", key) }

// GetDel returns the value of key and deletes the key; see GetDel, the command.
func (c *Client) GetDel(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, GetDel(key))
}

// SetRange builds SETRANGE key offset value: overwrite the string held by
// key from byte offset on, padding with zero bytes a string shorter than
// offset (a missing key counts as ""); its result is the new length.
func SetRange(key string, offset int64, value any) Cmd[int64] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[int64]("SETRANGE", err)
	}
	return newCmd(toInt64, "SETRANGE", key, formatInt(offset), v)
}

// SetRange overwrites part of the string held by key; see SetRange, the
// command.
func (c *Client) SetRange(ctx context.Context, key string, offset int64, value any) (int64, error) {
	return exec(ctx, c, SetRange(key, offset, value))
}

// Incr builds INCR key: add 1 to the integer held by key (a missing key
// counts as 0); its result is the new value.
func Incr(key string) Cmd[int64] { return newCmd(toInt64, "INCR", key) }

// Incr adds 1 to the integer held by key; see Incr, the command.
func (c *Client) Incr(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, Incr(key))
}

// IncrBy builds INCRBY key n: add n to the integer held by key (a missing
// key counts as 0); its result is the new value.
func IncrBy(key string, n int64) Cmd[int64] {
	return newCmd(toInt64, "INCRBY", key, formatInt(n))
}

// IncrBy adds n to the integer held by key; see IncrBy, the command.
func (c *Client) IncrBy(ctx context.Context, key string, n int64) (int64, error) {
	return exec(ctx, c, IncrBy(key, n))
}

// Decr builds DECR key: subtract 1 from the integer held by key (a missing
// key counts as 0); its result is the new value.
func Decr(key string) Cmd[int64] { return newCmd(toInt64, "DECR", key) }

// Decr subtracts 1 from the integer held by key; see Decr, the command.
func (c *Client) Decr(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, Decr(key))
}

// DecrBy builds DECRBY key n: subtract n from the integer held by key (a
// missing key counts as 0); its result is the new value.
func DecrBy(key string, n int64) Cmd[int64] {
	return newCmd(toInt64, "DECRBY", key, formatInt(n))
}

// DecrBy subtracts n from the integer held by key; see DecrBy, the command.
func (c *Client) DecrBy(ctx context.Context, key string, n int64) (int64, error) {
	return exec(ctx, c, DecrBy(key, n))
}

// IncrByFloat builds INCRBYFLOAT key f: add f to the number held by key (a
// missing key counts as 0); its result is the new value.
func IncrByFloat(key string, f float64) Cmd[float64] {
	return newCmd(toFloat, "INCRBYFLOAT", key, formatFloat(f))
}

// IncrByFloat adds f to the number held by key; see IncrByFloat, the command.
func (c *Client) IncrByFloat(ctx context.Context, key string, f float64) (float64, error) {
	return exec(ctx, c, IncrByFloat(key, f))
}

// Append builds APPEND key value: append to the string held by key,
// creating it if missing; its result is the new length.
func Append(key string, value any) Cmd[int64] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[int64]("APPEND", err)
	}
	return newCmd(toInt64, "APPEND", key, v)
}

// Append appends value to the string held by key; see Append, the command.
func (c *Client) Append(ctx context.Context, key string, value any) (int64, error) {
	return exec(ctx, c, Append(key, value))
}

// StrLen builds STRLEN key: its result is the length of the string held by
// key, 0 for a missing key.
func StrLen(key string) Cmd[int64] { return newCmd(toInt64, "STRLEN", key) }

// StrLen returns the length of the string held by key; see StrLen, the command.
func (c *Client) StrLen(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, StrLen(key))
}

// GetRange builds GETRANGE key start end: its result is the substring from
// byte start to byte end, both included; negative offsets count from the
// end. A missing key gives "".
func GetRange(key string, start, end int64) Cmd[string] {
	return newCmd(toString, "GETRANGE", key, formatInt(start), formatInt(end))
}

// GetRange returns part of the string held by key; see GetRange, the command.
func (c *Client) GetRange(ctx context.Context, key string, start, end int64) (string, error) {
	return exec(ctx, c, GetRange(key, start, end))
}

// MGet builds MGET key…: its result is the values of keys, in order; a
// missing key, or one holding another type, is a NullString that is not
// Valid. The keys may be in different slots: keel sends one MGET per slot,
// so the read is not atomic across slots. No keys is ErrArgument.
func MGet(keys ...string) Cmd[[]NullString] {
	if len(keys) == 0 {
		return failedCmd[[]NullString]("MGET", errNoKeys)
	}
	return argsCmd(toNullStrings, append([]string{"MGET"}, keys...))
}

// MGet returns the values of keys; see MGet, the command.
func (c *Client) MGet(ctx context.Context, keys ...string) ([]NullString, error) {
	return exec(ctx, c, MGet(keys...))
}

// MSet builds MSET key value [key value …], the arguments given as key,
// value, key, value… and converted as Do converts them. The keys may be in
// different slots: keel sends one MSET per slot, so the write is not atomic
// across slots. An odd number of arguments, or none, is ErrArgument.
func MSet(kv ...any) Cmd[struct{}] {
	return pairsCmd(toStatus, []string{"MSET"}, kv)
}

// MSet sets keys to values; see MSet, the command.
func (c *Client) MSet(ctx context.Context, kv ...any) error {
	_, err := exec(ctx, c, MSet(kv...))
	return err
}

// MSetNX builds MSETNX key value [key value …], the arguments as for MSet:
// set every key, or none when any of them exists. Its result says whether
// the keys were set. Being all or nothing, it is never split: the keys must
// be in one slot (use a hash tag), or it fails with ErrCrossSlot. An odd
// number of arguments, or none, is ErrArgument.
func MSetNX(kv ...any) Cmd[bool] {
	return pairsCmd(toBool, []string{"MSETNX"}, kv)
}

// MSetNX sets keys to values unless any exists; see MSetNX, the command.
func (c *Client) MSetNX(ctx context.Context, kv ...any) (bool, error) {
	return exec(ctx, c, MSetNX(kv...))
}

// LCS builds LCS key1 key2: its result is the longest common subsequence of
// the strings held by the keys (a missing key counts as ""). Both keys must
// be in one slot.
func LCS(key1, key2 string) Cmd[string] { return newCmd(toString, "LCS", key1, key2) }

// LCS returns the longest common subsequence of two strings; see LCS, the
// command.
func (c *Client) LCS(ctx context.Context, key1, key2 string) (string, error) {
	return exec(ctx, c, LCS(key1, key2))
}

// LCSLen builds LCS key1 key2 LEN: its result is the length of the longest
// common subsequence of the strings held by the keys.
func LCSLen(key1, key2 string) Cmd[int64] { return newCmd(toInt64, "LCS", key1, key2, "LEN") }

// LCSLen returns the length of the longest common subsequence of two
// strings; see LCSLen, the command.
func (c *Client) LCSLen(ctx context.Context, key1, key2 string) (int64, error) {
	return exec(ctx, c, LCSLen(key1, key2))
}
