package keel

import "context"

// HGet builds HGET key field: its result is the value of field in the hash
// at key. A missing key or field is ErrNil.
func HGet(key, field string) Cmd[string] { return newCmd(toString, "HGET", key, field) }

// HGet returns the value of field in the hash at key; see HGet, the command.
func (c *Client) HGet(ctx context.Context, key, field string) (string, error) {
	return exec(ctx, c, HGet(key, field))
}

// HSet builds HSET key field value [field value …]: set fields of the hash
// at key, given as field, value, field, value… (converted as Do converts
// arguments), creating the hash if missing. Its result is how many fields
// were added rather than updated. An odd number of arguments, or none, is
// ErrArgument.
func HSet(key string, fieldValues ...any) Cmd[int64] {
	return pairsCmd(toInt64, []string{"HSET", key}, fieldValues)
}

// HSet sets fields of the hash at key; see HSet, the command.
func (c *Client) HSet(ctx context.Context, key string, fieldValues ...any) (int64, error) {
	return exec(ctx, c, HSet(key, fieldValues...))
}

// HSetNX builds HSETNX key field value: set field of the hash at key only if
// the field does not exist. Its result says whether the value was written.
func HSetNX(key, field string, value any) Cmd[bool] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[bool]("HSETNX", err)
	}
	return newCmd(toBool, "HSETNX", key, field, v)
}

// HSetNX sets field of the hash at key unless it exists; see HSetNX, the
// command.
func (c *Client) HSetNX(ctx context.Context, key, field string, value any) (bool, error) {
	return exec(ctx, c, HSetNX(key, field, value))
}

// HMGet builds HMGET key field…: its result is the values of fields, in
// order; a missing field is a NullString that is not Valid. No fields is
// ErrArgument.
func HMGet(key string, fields ...string) Cmd[[]NullString] {
	return keyListCmd(toNullStrings, "HMGET", key, fields, errNoFields)
}

// HMGet returns the values of fields of the hash at key; see HMGet, the
// command.
func (c *Client) HMGet(ctx context.Context, key string, fields ...string) ([]NullString, error) {
	return exec(ctx, c, HMGet(key, fields...))
}

// HGetAll builds HGETALL key: its result is the fields and values of the
// hash at key; a missing key gives an empty map. HGetAllAs reads them into a
// struct instead.
func HGetAll(key string) Cmd[map[string]string] { return newCmd(toStringMap, "HGETALL", key) }

// HGetAll returns the fields and values of the hash at key; see HGetAll, the
// command.
func (c *Client) HGetAll(ctx context.Context, key string) (map[string]string, error) {
	return exec(ctx, c, HGetAll(key))
}

// HDel builds HDEL key field…: remove fields from the hash at key; its
// result is how many existed. No fields is ErrArgument.
func HDel(key string, fields ...string) Cmd[int64] {
	return keyListCmd(toInt64, "HDEL", key, fields, errNoFields)
}

// HDel removes fields from the hash at key; see HDel, the command.
func (c *Client) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	return exec(ctx, c, HDel(key, fields...))
}

// HExists builds HEXISTS key field: its result says whether field exists in
// the hash at key.
func HExists(key, field string) Cmd[bool] { return newCmd(toBool, "HEXISTS", key, field) }

// HExists reports whether field exists in the hash at key; see HExists, the
// command.
func (c *Client) HExists(ctx context.Context, key, field string) (bool, error) {
	return exec(ctx, c, HExists(key, field))
}

// HIncrBy builds HINCRBY key field n: add n to the integer in field of the
// hash at key, a missing field counting as 0; its result is the new value.
func HIncrBy(key, field string, n int64) Cmd[int64] {
	return newCmd(toInt64, "HINCRBY", key, field, formatInt(n))
}

// HIncrBy adds n to the integer in field of the hash at key; see HIncrBy,
// the command.
func (c *Client) HIncrBy(ctx context.Context, key, field string, n int64) (int64, error) {
	return exec(ctx, c, HIncrBy(key, field, n))
}

// HIncrByFloat builds HINCRBYFLOAT key field f: add f to the number in field
// of the hash at key, a missing field counting as 0; its result is the new
// value.
func HIncrByFloat(key, field string, f float64) Cmd[float64] {
	return newCmd(toFloat, "HINCRBYFLOAT", key, field, formatFloat(f))
}

// HIncrByFloat adds f to the number in field of the hash at key; see
// HIncrByFloat, the command.
func (c *Client) HIncrByFloat(ctx context.Context, key, field string, f float64) (float64, error) {
	return exec(ctx, c, HIncrByFloat(key, field, f))
}

// HKeys builds HKEYS key: its result is the fields of the hash at key; empty
// for a missing key.
func HKeys(key string) Cmd[[]string] { return newCmd(toStrings, "HKEYS", key) }

// HKeys returns the fields of the hash at key; see HKeys, the command.
func (c *Client) HKeys(ctx context.Context, key string) ([]string, error) {
	return exec(ctx, c, HKeys(key))
}

// HVals builds HVALS key: its result is the values of the hash at key; empty
// for a missing key.
func HVals(key string) Cmd[[]string] { return newCmd(toStrings, "HVALS", key) }

// HVals returns the values of the hash at key; see HVals, the command.
func (c *Client) HVals(ctx context.Context, key string) ([]string, error) {
	return exec(ctx, c, HVals(key))
}

// HLen builds HLEN key: its result is the number of fields of the hash at
// key, 0 for a missing key.
func HLen(key string) Cmd[int64] { return newCmd(toInt64, "HLEN", key) }

// HLen returns the number of fields of the hash at key; see HLen, the
// command.
func (c *Client) HLen(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, HLen(key))
}

// HStrLen builds HSTRLEN key field: its result is the length of the value of
// field in the hash at key, 0 for a missing key or field.
func HStrLen(key, field string) Cmd[int64] { return newCmd(toInt64, "HSTRLEN", key, field) }

// HStrLen returns the length of a field's value; see HStrLen, the command.
func (c *Client) HStrLen(ctx context.Context, key, field string) (int64, error) {
	return exec(ctx, c, HStrLen(key, field))
}

// HRandField builds HRANDFIELD key count: its result is up to count distinct
// random fields of the hash at key or, when count is negative, -count fields
// that may repeat. A missing key gives an empty slice.
func HRandField(key string, count int64) Cmd[[]string] {
	return newCmd(toStrings, "HRANDFIELD", key, formatInt(count))
}

// HRandField returns random fields of the hash at key; see HRandField, the
// command.
func (c *Client) HRandField(ctx context.Context, key string, count int64) ([]string, error) {
	return exec(ctx, c, HRandField(key, count))
}

// HRandFieldWithValues builds HRANDFIELD key count WITHVALUES: HRandField
// with the values, as a map. With a negative count a field picked twice
// appears once.
func HRandFieldWithValues(key string, count int64) Cmd[map[string]string] {
	return newCmd(toStringMap, "HRANDFIELD", key, formatInt(count), "WITHVALUES")
}

// HRandFieldWithValues returns random fields of the hash at key with their
// values; see HRandFieldWithValues, the command.
func (c *Client) HRandFieldWithValues(ctx context.Context, key string, count int64) (map[string]string, error) {
	return exec(ctx, c, HRandFieldWithValues(key, count))
}
