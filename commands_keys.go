package keel

import (
	"context"
	"fmt"
	"time"
)

// NoExpiry is the TTL of a key that exists but has no expiry.
const NoExpiry time.Duration = -1

// keysCmd builds a command over a list of keys; none is ErrArgument.
func keysCmd[T any](parse func(Value, error) (T, error), name string, keys []string) Cmd[T] {
	if len(keys) == 0 {
		return failedCmd[T](name, errNoKeys)
	}
	return argsCmd(parse, append([]string{name}, keys...))
}

// Del builds DEL key…: its result is how many of keys existed (and were
// deleted). The keys may be in different slots: keel sends one DEL per slot
// and sums the counts. No keys is ErrArgument.
func Del(keys ...string) Cmd[int64] { return keysCmd(toInt64, "DEL", keys) }

// Del deletes keys and returns how many existed; see Del, the command.
func (c *Client) Del(ctx context.Context, keys ...string) (int64, error) {
	return exec(ctx, c, Del(keys...))
}

// Unlink builds UNLINK key…: Del, reclaiming the memory in the background.
// The keys may be in different slots, as for Del. No keys is ErrArgument.
func Unlink(keys ...string) Cmd[int64] { return keysCmd(toInt64, "UNLINK", keys) }

// Unlink deletes keys in the background; see Unlink, the command.
func (c *Client) Unlink(ctx context.Context, keys ...string) (int64, error) {
	return exec(ctx, c, Unlink(keys...))
}

// Exists builds EXISTS key…: its result is how many of keys exist, a key
// named twice counting twice. The keys may be in different slots, as for
// Del. No keys is ErrArgument.
func Exists(keys ...string) Cmd[int64] { return keysCmd(toInt64, "EXISTS", keys) }

// Exists returns how many of keys exist; see Exists, the command.
func (c *Client) Exists(ctx context.Context, keys ...string) (int64, error) {
	return exec(ctx, c, Exists(keys...))
}

// Touch builds TOUCH key…: update the last access time of keys; its result
// is how many exist. The keys may be in different slots, as for Del. No
// keys is ErrArgument.
func Touch(keys ...string) Cmd[int64] { return keysCmd(toInt64, "TOUCH", keys) }

// Touch updates the last access time of keys; see Touch, the command.
func (c *Client) Touch(ctx context.Context, keys ...string) (int64, error) {
	return exec(ctx, c, Touch(keys...))
}

// ExpireCondition says when an expiry may be set (the NX, XX, GT and LT
// options of the EXPIRE family). A key without expiry counts as expiring
// never: later than any time for GT and LT.
type ExpireCondition uint8

// The conditions of ExpireIf and ExpireAtIf.
const (
	ExpireAlways ExpireCondition = iota // no condition
	ExpireNX                            // only when the key has no expiry
	ExpireXX                            // only when the key has an expiry
	ExpireGT                            // only when the new expiry is later than the current one
	ExpireLT                            // only when the new expiry is earlier than the current one
)

var expireConditions = [...]string{ExpireNX: "NX", ExpireXX: "XX", ExpireGT: "GT", ExpireLT: "LT"}

// expireCmd builds name key arg [condition].
func expireCmd(name, key, arg string, cond ExpireCondition) Cmd[bool] {
	switch {
	case cond == ExpireAlways:
		return newCmd(toBool, name, key, arg)
	case int(cond) < len(expireConditions):
		return newCmd(toBool, name, key, arg, expireConditions[cond])
	}
	return failedCmd[bool](name, fmt.Errorf("%w: unknown ExpireCondition %d", ErrArgument, cond))
}

// Expire builds PEXPIRE key ms: set key's time to live, with millisecond
// precision (so keel has no separate PExpire). Its result is false when the
// key does not exist. A ttl of 0 or less deletes the key.
func Expire(key string, ttl time.Duration) Cmd[bool] {
	return expireCmd("PEXPIRE", key, formatMs(ttl), ExpireAlways)
}

// Expire sets key's time to live; see Expire, the command.
func (c *Client) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return exec(ctx, c, Expire(key, ttl))
}

// ExpireIf builds PEXPIRE key ms NX|XX|GT|LT: Expire when cond holds. Its
// result is false when the key does not exist or cond prevented the change.
func ExpireIf(key string, ttl time.Duration, cond ExpireCondition) Cmd[bool] {
	return expireCmd("PEXPIRE", key, formatMs(ttl), cond)
}

// ExpireIf sets key's time to live when cond holds; see ExpireIf, the command.
func (c *Client) ExpireIf(ctx context.Context, key string, ttl time.Duration, cond ExpireCondition) (bool, error) {
	return exec(ctx, c, ExpireIf(key, ttl, cond))
}

// ExpireAt builds PEXPIREAT key unix-ms: make key expire at t, with
// millisecond precision. Its result is false when the key does not exist. A
// time in the past deletes the key.
func ExpireAt(key string, t time.Time) Cmd[bool] {
	return expireCmd("PEXPIREAT", key, formatInt(t.UnixMilli()), ExpireAlways)
}

// ExpireAt makes key expire at t; see ExpireAt, the command.
func (c *Client) ExpireAt(ctx context.Context, key string, t time.Time) (bool, error) {
	return exec(ctx, c, ExpireAt(key, t))
}

// ExpireAtIf builds PEXPIREAT key unix-ms NX|XX|GT|LT: ExpireAt when cond
// holds. Its result is false when the key does not exist or cond prevented
// the change.
func ExpireAtIf(key string, t time.Time, cond ExpireCondition) Cmd[bool] {
	return expireCmd("PEXPIREAT", key, formatInt(t.UnixMilli()), cond)
}

// ExpireAtIf makes key expire at t when cond holds; see ExpireAtIf, the command.
func (c *Client) ExpireAtIf(ctx context.Context, key string, t time.Time, cond ExpireCondition) (bool, error) {
	return exec(ctx, c, ExpireAtIf(key, t, cond))
}

// Persist builds PERSIST key: remove key's expiry. Its result is false when
// the key does not exist or had no expiry.
func Persist(key string) Cmd[bool] { return newCmd(toBool, "PERSIST", key) }

// Persist removes key's expiry; see Persist, the command.
func (c *Client) Persist(ctx context.Context, key string) (bool, error) {
	return exec(ctx, c, Persist(key))
}

// TTL builds PTTL key: its result is key's remaining time to live, with
// millisecond precision. A missing key is ErrNil (PTTL's -2); a key without
// expiry gives NoExpiry (PTTL's -1).
func TTL(key string) Cmd[time.Duration] { return newCmd(toTTL, "PTTL", key) }

// TTL returns key's remaining time to live; see TTL, the command.
func (c *Client) TTL(ctx context.Context, key string) (time.Duration, error) {
	return exec(ctx, c, TTL(key))
}

// ExpireTime builds PEXPIRETIME key: its result is when key expires, with
// millisecond precision. A missing key is ErrNil; a key without expiry gives
// the zero time.Time.
func ExpireTime(key string) Cmd[time.Time] { return newCmd(toExpireTime, "PEXPIRETIME", key) }

// ExpireTime returns when key expires; see ExpireTime, the command.
func (c *Client) ExpireTime(ctx context.Context, key string) (time.Time, error) {
	return exec(ctx, c, ExpireTime(key))
}

// Type builds TYPE key: its result is the type of the value held by key,
// "string", "list", "set", "zset", "hash", "stream", or "none" for a missing
// key.
func Type(key string) Cmd[string] { return newCmd(toString, "TYPE", key) }

// Type returns the type of the value held by key; see Type, the command.
func (c *Client) Type(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, Type(key))
}

// Rename builds RENAME key newKey: rename key, overwriting newKey. Both keys
// must be in the same slot (use a hash tag such as {user42}), or it fails
// with ErrCrossSlot; a missing key fails with the server's "no such key"
// error (resp.ErrGeneric).
func Rename(key, newKey string) Cmd[struct{}] { return newCmd(toStatus, "RENAME", key, newKey) }

// Rename renames key to newKey; see Rename, the command.
func (c *Client) Rename(ctx context.Context, key, newKey string) error {
	_, err := exec(ctx, c, Rename(key, newKey))
	return err
}

// Copy builds COPY src dst [REPLACE]: copy the value of src, and its TTL, to
// dst. Without replace an existing dst is left alone. Its result is false
// when nothing was copied (src missing, or dst existing without replace).
// Both keys must be in the same slot, as for Rename. (COPY's DB option has no
// use in a cluster, which has only database 0.)
func Copy(src, dst string, replace bool) Cmd[bool] {
	if replace {
		return newCmd(toBool, "COPY", src, dst, "REPLACE")
	}
	return newCmd(toBool, "COPY", src, dst)
}

// Copy copies the value of src to dst; see Copy, the command.
func (c *Client) Copy(ctx context.Context, src, dst string, replace bool) (bool, error) {
	return exec(ctx, c, Copy(src, dst, replace))
}

// ObjectEncoding builds OBJECT ENCODING key: its result is the internal
// encoding of the value ("listpack", "hashtable", "int", "embstr"…). A
// missing key is ErrNil.
func ObjectEncoding(key string) Cmd[string] { return newCmd(toString, "OBJECT", "ENCODING", key) }

// ObjectEncoding returns the internal encoding of key's value; see
// ObjectEncoding, the command.
func (c *Client) ObjectEncoding(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, ObjectEncoding(key))
}

// ObjectFreq builds OBJECT FREQ key: its result is the key's access
// frequency counter. The server refuses it (resp.ErrGeneric) unless its
// maxmemory-policy is an LFU one. A missing key is ErrNil.
func ObjectFreq(key string) Cmd[int64] { return newCmd(toInt64, "OBJECT", "FREQ", key) }

// ObjectFreq returns key's access frequency counter; see ObjectFreq, the command.
func (c *Client) ObjectFreq(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, ObjectFreq(key))
}

// ObjectIdleTime builds OBJECT IDLETIME key: its result is how long since
// the key was last read or written, in whole seconds. The server refuses it
// under an LFU maxmemory-policy. A missing key is ErrNil.
func ObjectIdleTime(key string) Cmd[time.Duration] {
	return newCmd(toSeconds, "OBJECT", "IDLETIME", key)
}

// ObjectIdleTime returns how long key has been idle; see ObjectIdleTime, the
// command.
func (c *Client) ObjectIdleTime(ctx context.Context, key string) (time.Duration, error) {
	return exec(ctx, c, ObjectIdleTime(key))
}

// ObjectRefCount builds OBJECT REFCOUNT key: its result is the reference
// count of the value. A missing key is ErrNil.
func ObjectRefCount(key string) Cmd[int64] { return newCmd(toInt64, "OBJECT", "REFCOUNT", key) }

// ObjectRefCount returns the reference count of key's value; see
// ObjectRefCount, the command.
func (c *Client) ObjectRefCount(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, ObjectRefCount(key))
}

// Dump builds DUMP key: its result is the value serialized in Redis's own
// format, for Restore. A missing key is ErrNil.
func Dump(key string) Cmd[string] { return newCmd(toString, "DUMP", key) }

// Dump returns key's value serialized; see Dump, the command.
func (c *Client) Dump(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, Dump(key))
}

// Restore builds RESTORE key ms serialized [REPLACE]: create key from a value
// Dump serialized (a string or []byte), with a time to live unless ttl is 0.
// Without replace an existing key fails with the server's BUSYKEY error; a
// payload the server does not recognise fails with its error too.
func Restore(key string, ttl time.Duration, serialized any, replace bool) Cmd[struct{}] {
	v, err := argString(serialized)
	if err != nil {
		return failedCmd[struct{}]("RESTORE", err)
	}
	if replace {
		return newCmd(toStatus, "RESTORE", key, formatMs(ttl), v, "REPLACE")
	}
	return newCmd(toStatus, "RESTORE", key, formatMs(ttl), v)
}

// Restore creates key from a serialized value; see Restore, the command.
func (c *Client) Restore(ctx context.Context, key string, ttl time.Duration, serialized any, replace bool) error {
	_, err := exec(ctx, c, Restore(key, ttl, serialized, replace))
	return err
}
