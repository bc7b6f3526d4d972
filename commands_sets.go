package keel

import "context"

// SAdd adds members to the set at key, creating it if missing, and returns
// how many were not already in it (SADD).
func (c *Client) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"SADD", key}, members...)...))
}

// SRem removes members from the set at key and returns how many were in it
// (SREM).
func (c *Client) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"SREM", key}, members...)...))
}

// SMembers returns the members of the set at key, in no particular order
// (SMEMBERS). A missing key gives an empty slice.
func (c *Client) SMembers(ctx context.Context, key string) ([]string, error) {
	return toStrings(c.do(ctx, "SMEMBERS", key))
}

// SIsMember reports whether member is in the set at key (SISMEMBER).
func (c *Client) SIsMember(ctx context.Context, key, member string) (bool, error) {
	return toBool(c.do(ctx, "SISMEMBER", key, member))
}

// SCard returns the number of members of the set at key, 0 for a missing
// key (SCARD).
func (c *Client) SCard(ctx context.Context, key string) (int64, error) {
	return toInt64(c.do(ctx, "SCARD", key))
}

// SPop removes and returns a random member of the set at key (SPOP). A
// missing key is ErrNil.
func (c *Client) SPop(ctx context.Context, key string) (string, error) {
	return toString(c.do(ctx, "SPOP", key))
}

// SRandMember returns a random member of the set at key without removing it
// (SRANDMEMBER). A missing key is ErrNil.
func (c *Client) SRandMember(ctx context.Context, key string) (string, error) {
	return toString(c.do(ctx, "SRANDMEMBER", key))
}
