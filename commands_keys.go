package keel

import (
	"context"
	"time"
)

// NoExpiry is the TTL of a key that exists but has no expiry.
const NoExpiry time.Duration = -1

// Del deletes keys and returns how many existed (DEL). The keys may be in
// different slots: keel sends one DEL per slot and sums the counts.
func (c *Client) Del(ctx context.Context, keys ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"DEL"}, keys...)...))
}

// Unlink deletes keys, reclaiming their memory in the background, and
// returns how many existed (UNLINK). The keys may be in different slots, as
// for Del.
func (c *Client) Unlink(ctx context.Context, keys ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"UNLINK"}, keys...)...))
}

// Exists returns how many of keys exist, a key named twice counting twice
// (EXISTS). The keys may be in different slots, as for Del.
func (c *Client) Exists(ctx context.Context, keys ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"EXISTS"}, keys...)...))
}

// Touch updates the last access time of keys and returns how many exist
// (TOUCH). The keys may be in different slots, as for Del.
func (c *Client) Touch(ctx context.Context, keys ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"TOUCH"}, keys...)...))
}

// Expire sets key's time to live, with millisecond precision (PEXPIRE). It
// reports false when the key does not exist. A ttl of 0 or less deletes the
// key.
func (c *Client) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return toBool(c.do(ctx, "PEXPIRE", key, formatMs(ttl)))
}

// ExpireAt makes key expire at t, with millisecond precision (PEXPIREAT). It
// reports false when the key does not exist. A time in the past deletes the
// key.
func (c *Client) ExpireAt(ctx context.Context, key string, t time.Time) (bool, error) {
	return toBool(c.do(ctx, "PEXPIREAT", key, formatInt(t.UnixMilli())))
}

// Persist removes key's expiry (PERSIST). It reports false when the key does
// not exist or had no expiry.
func (c *Client) Persist(ctx context.Context, key string) (bool, error) {
	return toBool(c.do(ctx, "PERSIST", key))
}

// TTL returns key's remaining time to live, with millisecond precision
// (PTTL). A missing key is ErrNil (PTTL's -2); a key without expiry gives
// NoExpiry (PTTL's -1).
func (c *Client) TTL(ctx context.Context, key string) (time.Duration, error) {
	ms, err := toInt64(c.do(ctx, "PTTL", key))
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

// Type returns the type of the value held by key: "string", "list", "set",
// "zset", "hash", "stream", or "none" for a missing key (TYPE).
func (c *Client) Type(ctx context.Context, key string) (string, error) {
	return toString(c.do(ctx, "TYPE", key))
}

// Rename renames key to newKey, overwriting newKey (RENAME). Both keys must
// be in the same slot (use a hash tag such as {user42}), or it fails with
// ErrCrossSlot; a missing key fails with the server's "no such key" error
// (resp.ErrGeneric).
func (c *Client) Rename(ctx context.Context, key, newKey string) error {
	return toOK(c.do(ctx, "RENAME", key, newKey))
}
