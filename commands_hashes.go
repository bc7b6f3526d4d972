package keel

import (
	"context"
	"fmt"
)

// HGet returns the value of field in the hash at key (HGET). A missing key or
// field is ErrNil.
func (c *Client) HGet(ctx context.Context, key, field string) (string, error) {
	return toString(c.do(ctx, "HGET", key, field))
}

// HSet sets fields of the hash at key, given as field, value, field,
// value…, creating the hash if missing, and returns how many fields were
// added rather than updated (HSET). An odd number of fieldValues is an error
// and nothing is sent.
func (c *Client) HSet(ctx context.Context, key string, fieldValues ...string) (int64, error) {
	if len(fieldValues)%2 != 0 {
		return 0, fmt.Errorf("keel: HSET: %w", errPairs(len(fieldValues)))
	}
	return toInt64(c.do(ctx, append([]string{"HSET", key}, fieldValues...)...))
}

// HSetNX sets field of the hash at key only if the field does not exist
// (HSETNX). It reports whether the value was written.
func (c *Client) HSetNX(ctx context.Context, key, field, value string) (bool, error) {
	return toBool(c.do(ctx, "HSETNX", key, field, value))
}

// HMGet returns the values of fields of the hash at key, in order (HMGET); a
// missing field is a NullString that is not Valid.
func (c *Client) HMGet(ctx context.Context, key string, fields ...string) ([]NullString, error) {
	return toNullStrings(c.do(ctx, append([]string{"HMGET", key}, fields...)...))
}

// HGetAll returns the fields and values of the hash at key (HGETALL); a
// missing key gives an empty map.
func (c *Client) HGetAll(ctx context.Context, key string) (map[string]string, error) {
	return toStringMap(c.do(ctx, "HGETALL", key))
}

// HDel removes fields from the hash at key and returns how many existed
// (HDEL).
func (c *Client) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"HDEL", key}, fields...)...))
}

// HExists reports whether field exists in the hash at key (HEXISTS).
func (c *Client) HExists(ctx context.Context, key, field string) (bool, error) {
	return toBool(c.do(ctx, "HEXISTS", key, field))
}

// HIncrBy adds n to the integer in field of the hash at key, a missing field
// counting as 0, and returns the new value (HINCRBY).
func (c *Client) HIncrBy(ctx context.Context, key, field string, n int64) (int64, error) {
	return toInt64(c.do(ctx, "HINCRBY", key, field, formatInt(n)))
}

// HIncrByFloat adds f to the number in field of the hash at key, a missing
// field counting as 0, and returns the new value (HINCRBYFLOAT).
func (c *Client) HIncrByFloat(ctx context.Context, key, field string, f float64) (float64, error) {
	return toFloat(c.do(ctx, "HINCRBYFLOAT", key, field, formatFloat(f)))
}

// HKeys returns the fields of the hash at key (HKEYS); empty for a missing
// key.
func (c *Client) HKeys(ctx context.Context, key string) ([]string, error) {
	return toStrings(c.do(ctx, "HKEYS", key))
}

// HVals returns the values of the hash at key (HVALS); empty for a missing
// key.
func (c *Client) HVals(ctx context.Context, key string) ([]string, error) {
	return toStrings(c.do(ctx, "HVALS", key))
}

// HLen returns the number of fields of the hash at key, 0 for a missing key
// (HLEN).
func (c *Client) HLen(ctx context.Context, key string) (int64, error) {
	return toInt64(c.do(ctx, "HLEN", key))
}
