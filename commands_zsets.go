package keel

import "context"

// Z is a member of a sorted set and its score.
type Z struct {
	Member string
	Score  float64
}

// ZAdd adds members to the sorted set at key, or updates their scores,
// creating the set if missing, and returns how many were added rather than
// updated (ZADD key score member …).
func (c *Client) ZAdd(ctx context.Context, key string, members ...Z) (int64, error) {
	args := make([]string, 0, 2+2*len(members))
	args = append(args, "ZADD", key)
	for _, m := range members {
		args = append(args, formatFloat(m.Score), m.Member)
	}
	return toInt64(c.do(ctx, args...))
}

// ZScore returns the score of member in the sorted set at key (ZSCORE). A
// missing key or member is ErrNil.
func (c *Client) ZScore(ctx context.Context, key, member string) (float64, error) {
	return toFloat(c.do(ctx, "ZSCORE", key, member))
}

// ZIncrBy adds incr to the score of member in the sorted set at key, a
// missing member counting as 0, and returns the new score (ZINCRBY).
func (c *Client) ZIncrBy(ctx context.Context, key string, incr float64, member string) (float64, error) {
	return toFloat(c.do(ctx, "ZINCRBY", key, formatFloat(incr), member))
}

// ZRem removes members from the sorted set at key and returns how many were
// in it (ZREM).
func (c *Client) ZRem(ctx context.Context, key string, members ...string) (int64, error) {
	return toInt64(c.do(ctx, append([]string{"ZREM", key}, members...)...))
}

// ZCard returns the number of members of the sorted set at key, 0 for a
// missing key (ZCARD).
func (c *Client) ZCard(ctx context.Context, key string) (int64, error) {
	return toInt64(c.do(ctx, "ZCARD", key))
}

// ZCount returns the number of members of the sorted set at key with a score
// between min and max (ZCOUNT). The bounds are in Redis's syntax: a number,
// included; "(" and a number, excluded; "-inf" or "+inf".
func (c *Client) ZCount(ctx context.Context, key, min, max string) (int64, error) {
	return toInt64(c.do(ctx, "ZCOUNT", key, min, max))
}

// ZRange returns the members of the sorted set at key from rank start to
// stop, both included, lowest score first; negative ranks count from the end
// (ZRANGE). A missing key gives an empty slice.
func (c *Client) ZRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return toStrings(c.do(ctx, "ZRANGE", key, formatInt(start), formatInt(stop)))
}

// ZRangeWithScores is ZRange returning the scores too (ZRANGE … WITHSCORES).
func (c *Client) ZRangeWithScores(ctx context.Context, key string, start, stop int64) ([]Z, error) {
	return toZs(c.do(ctx, "ZRANGE", key, formatInt(start), formatInt(stop), "WITHSCORES"))
}

// ZRangeByScore returns the members of the sorted set at key with a score
// between min and max, lowest score first (ZRANGEBYSCORE). The bounds are as
// for ZCount.
func (c *Client) ZRangeByScore(ctx context.Context, key, min, max string) ([]string, error) {
	return toStrings(c.do(ctx, "ZRANGEBYSCORE", key, min, max))
}

// ZRank returns the rank of member in the sorted set at key, 0 for the
// lowest score (ZRANK). A missing key or member is ErrNil.
func (c *Client) ZRank(ctx context.Context, key, member string) (int64, error) {
	return toInt64(c.do(ctx, "ZRANK", key, member))
}
