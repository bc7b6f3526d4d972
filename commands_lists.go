package keel

import "context"

// LPush inserts values at the head of the list at key, one after the other
// (so the last ends up first), creating the list if missing, and returns its
// new length (LPUSH).
func (c *Client) LPush(ctx context.Context, key string, values ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"LPUSH", key}, values...)...))
}

// RPush appends values to the tail of the list at key, creating the list if
// missing, and returns its new length (RPUSH).
func (c *Client) RPush(ctx context.Context, key string, values ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"RPUSH", key}, values...)...))
}

// LPop removes and returns the first element of the list at key (LPOP). A
// missing key is ErrNil.
func (c *Client) LPop(ctx context.Context, key string) (string, error) {
	return toString(c.do(ctx, "LPOP", key))
}

// RPop removes and returns the last element of the list at key (RPOP). A
// missing key is ErrNil.
func (c *Client) RPop(ctx context.Context, key string) (string, error) {
	return toString(c.do(ctx, "RPOP", key))
}

// LRange returns the elements of the list at key from index start to stop,
// both included; negative indexes count from the end, -1 being the last
// (LRANGE). A missing key gives an empty slice.
func (c *Client) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return toStrings(c.do(ctx, "LRANGE", key, formatInt(start), formatInt(stop)))
}

// LLen returns the length of the list at key, 0 for a missing key (LLEN).
func (c *Client) LLen(ctx context.Context, key string) (int64, error) {
	return toInt64(c.do(ctx, "LLEN", key))
}

// LIndex returns the element at index of the list at key; negative indexes
// count from the end (LINDEX). A missing key or an index out of range is
// ErrNil.
func (c *Client) LIndex(ctx context.Context, key string, index int64) (string, error) {
	return toString(c.do(ctx, "LINDEX", key, formatInt(index)))
}

// LSet sets the element at index of the list at key (LSET). A missing key
// or an index out of range fails with the server's error (resp.ErrGeneric).
func (c *Client) LSet(ctx context.Context, key string, index int64, value string) error {
	return toOK(c.do(ctx, "LSET", key, formatInt(index), value))
}

// LRem removes elements equal to value from the list at key and returns how
// many it removed (LREM): the first count from the head when count > 0, the
// last -count from the tail when count < 0, all when count is 0.
func (c *Client) LRem(ctx context.Context, key string, count int64, value string) (int64, error) {
	return toInt64(c.do(ctx, "LREM", key, formatInt(count), value))
}

// LTrim trims the list at key to the elements from index start to stop, both
// included; negative indexes count from the end (LTRIM).
func (c *Client) LTrim(ctx context.Context, key string, start, stop int64) error {
	return toOK(c.do(ctx, "LTRIM", key, formatInt(start), formatInt(stop)))
}
