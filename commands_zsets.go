package keel

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Z is a member of a sorted set and its score.
type Z struct {
	Member string
	Score  float64
}

// NullFloat is a score that may be missing, like sql.NullFloat64: Valid is
// false when the member or key did not exist.
type NullFloat struct {
	Value float64
	Valid bool
}

// KeyZ is the result of a blocking pop from the first non-empty of several
// sorted sets: the key, and the member popped from it with its score.
type KeyZ struct {
	Key string
	Z   Z
}

// KeyZs is the result of a pop from the first non-empty of several sorted
// sets: the key, and the members popped from it with their scores.
type KeyZs struct {
	Key     string
	Members []Z
}

// ZEnd names an end of a sorted set: where ZMPop takes members from.
type ZEnd string

// The ends of a sorted set.
const (
	ZMin ZEnd = "MIN" // the lowest scores
	ZMax ZEnd = "MAX" // the highest scores
)

// Score bounds (ZCount, ZRangeByScore, ZRangeArgs with ByScore…) are in
// Redis's syntax: a number, included; "(" and a number, excluded; "-inf" or
// "+inf". Lex bounds (ZLexCount, ZRangeArgs with ByLex…) are "[" or "("
// and a member, included or excluded, or "-" and "+" for the ends.

// ZAddOptions are the options of ZAddWith. The zero value adds new members
// and updates existing ones, counting the added.
type ZAddOptions struct {
	NX bool // only add new members; excludes XX, GT and LT
	XX bool // only update existing members
	GT bool // only update a score to a greater one (new members are added); excludes LT
	LT bool // only update a score to a lesser one (new members are added)
	CH bool // count changed scores as well as added members
}

// ZAdd builds ZADD key score member…: add members to the sorted set at key,
// or update their scores, creating the set if missing; its result is how
// many were added. No members, or a NaN score, is ErrArgument.
func ZAdd(key string, members ...Z) Cmd[int64] { return ZAddWith(key, ZAddOptions{}, members...) }

// ZAdd adds members to the sorted set at key; see ZAdd, the command.
func (c *Client) ZAdd(ctx context.Context, key string, members ...Z) (int64, error) {
	return exec(ctx, c, ZAdd(key, members...))
}

// ZAddWith builds ZADD key [NX|XX] [GT|LT] [CH] score member…: ZAdd with
// options. Its result is how many members were added (and changed, with
// CH). Conflicting options fail with the server's error.
func ZAddWith(key string, o ZAddOptions, members ...Z) Cmd[int64] {
	if len(members) == 0 {
		return failedCmd[int64]("ZADD", errNoMembers)
	}
	args := make([]string, 0, 7+2*len(members))
	args = append(args, "ZADD", key)
	for _, opt := range []struct {
		on   bool
		name string
	}{{o.NX, "NX"}, {o.XX, "XX"}, {o.GT, "GT"}, {o.LT, "LT"}, {o.CH, "CH"}} {
		if opt.on {
			args = append(args, opt.name)
		}
	}
	for _, m := range members {
		if math.IsNaN(m.Score) {
			return failedCmd[int64]("ZADD", fmt.Errorf("%w: member %q has a NaN score", ErrArgument, m.Member))
		}
		args = append(args, formatFloat(m.Score), m.Member)
	}
	return argsCmd(toInt64, args)
}

// ZAddWith adds or updates members of the sorted set at key with options;
// see ZAddWith, the command.
func (c *Client) ZAddWith(ctx context.Context, key string, o ZAddOptions, members ...Z) (int64, error) {
	return exec(ctx, c, ZAddWith(key, o, members...))
}

// ZScore builds ZSCORE key member: its result is the score of member in the
// sorted set at key. A missing key or member is ErrNil.
func ZScore(key, member string) Cmd[float64] { return newCmd(toFloat, "ZSCORE", key, member) }

// ZScore returns the score of member; see ZScore, the command.
func (c *Client) ZScore(ctx context.Context, key, member string) (float64, error) {
	return exec(ctx, c, ZScore(key, member))
}

// ZMScore builds ZMSCORE key member…: its result is the scores of members,
// in order; a missing member (or key) is a NullFloat that is not Valid. No
// members is ErrArgument.
func ZMScore(key string, members ...string) Cmd[[]NullFloat] {
	return keyListCmd(toNullFloats, "ZMSCORE", key, members, errNoMembers)
}

// ZMScore returns the scores of members; see ZMScore, the command.
func (c *Client) ZMScore(ctx context.Context, key string, members ...string) ([]NullFloat, error) {
	return exec(ctx, c, ZMScore(key, members...))
}

// ZIncrBy builds ZINCRBY key incr member: add incr to the score of member in
// the sorted set at key, a missing member counting as 0; its result is the
// new score.
func ZIncrBy(key string, incr float64, member string) Cmd[float64] {
	return newCmd(toFloat, "ZINCRBY", key, formatFloat(incr), member)
}

// ZIncrBy adds incr to the score of member; see ZIncrBy, the command.
func (c *Client) ZIncrBy(ctx context.Context, key string, incr float64, member string) (float64, error) {
	return exec(ctx, c, ZIncrBy(key, incr, member))
}

// ZRem builds ZREM key member…: remove members from the sorted set at key;
// its result is how many were in it. No members is ErrArgument.
func ZRem(key string, members ...string) Cmd[int64] {
	return keyListCmd(toInt64, "ZREM", key, members, errNoMembers)
}

// ZRem removes members from the sorted set at key; see ZRem, the command.
func (c *Client) ZRem(ctx context.Context, key string, members ...string) (int64, error) {
	return exec(ctx, c, ZRem(key, members...))
}

// ZCard builds ZCARD key: its result is the number of members of the sorted
// set at key, 0 for a missing key.
func ZCard(key string) Cmd[int64] { return newCmd(toInt64, "ZCARD", key) }

// ZCard returns the number of members of the sorted set at key; see ZCard,
// the command.
func (c *Client) ZCard(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, ZCard(key))
}

// ZCount builds ZCOUNT key min max: its result is the number of members of
// the sorted set at key with a score between the score bounds min and max.
func ZCount(key, min, max string) Cmd[int64] { return newCmd(toInt64, "ZCOUNT", key, min, max) }

// ZCount counts the members with a score in a range; see ZCount, the command.
func (c *Client) ZCount(ctx context.Context, key, min, max string) (int64, error) {
	return exec(ctx, c, ZCount(key, min, max))
}

// ZLexCount builds ZLEXCOUNT key min max: its result is the number of
// members between the lex bounds min and max (meaningful when all scores
// are equal).
func ZLexCount(key, min, max string) Cmd[int64] {
	return newCmd(toInt64, "ZLEXCOUNT", key, min, max)
}

// ZLexCount counts the members in a lex range; see ZLexCount, the command.
func (c *Client) ZLexCount(ctx context.Context, key, min, max string) (int64, error) {
	return exec(ctx, c, ZLexCount(key, min, max))
}

// ZRange builds ZRANGE key start stop: its result is the members of the
// sorted set at key from rank start to stop, both included, lowest score
// first; negative ranks count from the end. A missing key gives an empty
// slice. ZRangeBy ranges by score or lex, in reverse, with a limit.
func ZRange(key string, start, stop int64) Cmd[[]string] {
	return newCmd(toStrings, "ZRANGE", key, formatInt(start), formatInt(stop))
}

// ZRange returns members by rank; see ZRange, the command.
func (c *Client) ZRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return exec(ctx, c, ZRange(key, start, stop))
}

// ZRangeWithScores builds ZRANGE key start stop WITHSCORES: ZRange with the
// scores.
func ZRangeWithScores(key string, start, stop int64) Cmd[[]Z] {
	return newCmd(toZs, "ZRANGE", key, formatInt(start), formatInt(stop), "WITHSCORES")
}

// ZRangeWithScores returns members by rank with their scores; see
// ZRangeWithScores, the command.
func (c *Client) ZRangeWithScores(ctx context.Context, key string, start, stop int64) ([]Z, error) {
	return exec(ctx, c, ZRangeWithScores(key, start, stop))
}

// ZRangeByScore builds ZRANGEBYSCORE key min max: its result is the members
// with a score between the score bounds min and max, lowest first.
func ZRangeByScore(key, min, max string) Cmd[[]string] {
	return newCmd(toStrings, "ZRANGEBYSCORE", key, min, max)
}

// ZRangeByScore returns members by score; see ZRangeByScore, the command.
func (c *Client) ZRangeByScore(ctx context.Context, key, min, max string) ([]string, error) {
	return exec(ctx, c, ZRangeByScore(key, min, max))
}

// ZRangeArgs is a range of ZRangeBy: by rank (the default), by score or by
// lex, in either order, with an optional limit.
type ZRangeArgs struct {
	// Start and Stop are ranks ("0", "-1"), score bounds with ByScore, or
	// lex bounds with ByLex. With Rev, Start is the higher end: ranks count
	// from the highest score, and Start is the greater score or member.
	Start, Stop string
	ByScore     bool // Start and Stop are score bounds (BYSCORE)
	ByLex       bool // Start and Stop are lex bounds (BYLEX); excludes ByScore
	Rev         bool // highest score first (REV)
	// Offset and Count limit a ByScore or ByLex range (LIMIT): skip Offset
	// members, return at most Count (a negative Count: all the rest). A
	// Count of 0 sends no LIMIT.
	Offset, Count int64
}

func (r ZRangeArgs) args(key string, extra ...string) ([]string, error) {
	if r.ByScore && r.ByLex {
		return nil, fmt.Errorf("%w: ZRangeArgs: ByScore and ByLex", ErrArgument)
	}
	args := []string{"ZRANGE", key, r.Start, r.Stop}
	if r.ByScore {
		args = append(args, "BYSCORE")
	}
	if r.ByLex {
		args = append(args, "BYLEX")
	}
	if r.Rev {
		args = append(args, "REV")
	}
	if r.Count != 0 {
		args = append(args, "LIMIT", formatInt(r.Offset), formatInt(r.Count))
	}
	return append(args, extra...), nil
}

// ZRangeBy builds ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset
// count]: its result is the members of the sorted set at key in the range r.
// A LIMIT without BYSCORE or BYLEX fails with the server's error.
func ZRangeBy(key string, r ZRangeArgs) Cmd[[]string] {
	args, err := r.args(key)
	if err != nil {
		return failedCmd[[]string]("ZRANGE", err)
	}
	return argsCmd(toStrings, args)
}

// ZRangeBy returns the members in a range; see ZRangeBy, the command.
func (c *Client) ZRangeBy(ctx context.Context, key string, r ZRangeArgs) ([]string, error) {
	return exec(ctx, c, ZRangeBy(key, r))
}

// ZRangeByWithScores builds ZRANGE … WITHSCORES: ZRangeBy with the scores.
func ZRangeByWithScores(key string, r ZRangeArgs) Cmd[[]Z] {
	args, err := r.args(key, "WITHSCORES")
	if err != nil {
		return failedCmd[[]Z]("ZRANGE", err)
	}
	return argsCmd(toZs, args)
}

// ZRangeByWithScores returns the members in a range with their scores; see
// ZRangeByWithScores, the command.
func (c *Client) ZRangeByWithScores(ctx context.Context, key string, r ZRangeArgs) ([]Z, error) {
	return exec(ctx, c, ZRangeByWithScores(key, r))
}

// ZRank builds ZRANK key member: its result is the rank of member, 0 for the
// lowest score. A missing key or member is ErrNil.
func ZRank(key, member string) Cmd[int64] { return newCmd(toInt64, "ZRANK", key, member) }

// ZRank returns the rank of member; see ZRank, the command.
func (c *Client) ZRank(ctx context.Context, key, member string) (int64, error) {
	return exec(ctx, c, ZRank(key, member))
}

// ZRevRank builds ZREVRANK key member: its result is the rank of member, 0
// for the highest score. A missing key or member is ErrNil.
func ZRevRank(key, member string) Cmd[int64] { return newCmd(toInt64, "ZREVRANK", key, member) }

// ZRevRank returns the rank of member from the highest score; see ZRevRank,
// the command.
func (c *Client) ZRevRank(ctx context.Context, key, member string) (int64, error) {
	return exec(ctx, c, ZRevRank(key, member))
}

// ZPopMin builds ZPOPMIN key count: remove up to count members with the
// lowest scores; its result is them, lowest first. A missing key gives an
// empty slice.
func ZPopMin(key string, count int64) Cmd[[]Z] {
	return newCmd(toZs, "ZPOPMIN", key, formatInt(count))
}

// ZPopMin removes and returns the members with the lowest scores; see
// ZPopMin, the command.
func (c *Client) ZPopMin(ctx context.Context, key string, count int64) ([]Z, error) {
	return exec(ctx, c, ZPopMin(key, count))
}

// ZPopMax builds ZPOPMAX key count: remove up to count members with the
// highest scores; its result is them, highest first. A missing key gives an
// empty slice.
func ZPopMax(key string, count int64) Cmd[[]Z] {
	return newCmd(toZs, "ZPOPMAX", key, formatInt(count))
}

// ZPopMax removes and returns the members with the highest scores; see
// ZPopMax, the command.
func (c *Client) ZPopMax(ctx context.Context, key string, count int64) ([]Z, error) {
	return exec(ctx, c, ZPopMax(key, count))
}

// ZMPop builds ZMPOP numkeys key… MIN|MAX COUNT count: pop up to count
// members from the from end of the first non-empty sorted set among keys;
// its result is that key and the members with their scores. All sets empty
// or missing is ErrNil. The keys must be in one slot. No keys, an unknown
// end, or a count under 1 is ErrArgument.
func ZMPop(from ZEnd, count int64, keys ...string) Cmd[KeyZs] {
	if from != ZMin && from != ZMax {
		return failedCmd[KeyZs]("ZMPOP", fmt.Errorf("%w: end %q (want ZMin or ZMax)", ErrArgument, string(from)))
	}
	args, err := mpopArgs("ZMPOP", keys, string(from), count)
	if err != nil {
		return failedCmd[KeyZs]("ZMPOP", err)
	}
	return argsCmd(toKeyZs, args)
}

// ZMPop pops members from the first non-empty sorted set; see ZMPop, the
// command.
func (c *Client) ZMPop(ctx context.Context, from ZEnd, count int64, keys ...string) (KeyZs, error) {
	return exec(ctx, c, ZMPop(from, count, keys...))
}

// ZRandMember builds ZRANDMEMBER key count: its result is up to count
// distinct random members or, when count is negative, -count members that
// may repeat. A missing key gives an empty slice.
func ZRandMember(key string, count int64) Cmd[[]string] {
	return newCmd(toStrings, "ZRANDMEMBER", key, formatInt(count))
}

// ZRandMember returns random members; see ZRandMember, the command.
func (c *Client) ZRandMember(ctx context.Context, key string, count int64) ([]string, error) {
	return exec(ctx, c, ZRandMember(key, count))
}

// ZRandMemberWithScores builds ZRANDMEMBER key count WITHSCORES: ZRandMember
// with the scores.
func ZRandMemberWithScores(key string, count int64) Cmd[[]Z] {
	return newCmd(toZs, "ZRANDMEMBER", key, formatInt(count), "WITHSCORES")
}

// ZRandMemberWithScores returns random members with their scores; see
// ZRandMemberWithScores, the command.
func (c *Client) ZRandMemberWithScores(ctx context.Context, key string, count int64) ([]Z, error) {
	return exec(ctx, c, ZRandMemberWithScores(key, count))
}

// ZRemRangeByRank builds ZREMRANGEBYRANK key start stop: remove the members
// from rank start to stop, both included; its result is how many.
func ZRemRangeByRank(key string, start, stop int64) Cmd[int64] {
	return newCmd(toInt64, "ZREMRANGEBYRANK", key, formatInt(start), formatInt(stop))
}

// ZRemRangeByRank removes members by rank; see ZRemRangeByRank, the command.
func (c *Client) ZRemRangeByRank(ctx context.Context, key string, start, stop int64) (int64, error) {
	return exec(ctx, c, ZRemRangeByRank(key, start, stop))
}

// ZRemRangeByScore builds ZREMRANGEBYSCORE key min max: remove the members
// with a score between the score bounds min and max; its result is how many.
func ZRemRangeByScore(key, min, max string) Cmd[int64] {
	return newCmd(toInt64, "ZREMRANGEBYSCORE", key, min, max)
}

// ZRemRangeByScore removes members by score; see ZRemRangeByScore, the
// command.
func (c *Client) ZRemRangeByScore(ctx context.Context, key, min, max string) (int64, error) {
	return exec(ctx, c, ZRemRangeByScore(key, min, max))
}

// ZRemRangeByLex builds ZREMRANGEBYLEX key min max: remove the members
// between the lex bounds min and max; its result is how many.
func ZRemRangeByLex(key, min, max string) Cmd[int64] {
	return newCmd(toInt64, "ZREMRANGEBYLEX", key, min, max)
}

// ZRemRangeByLex removes members by lex range; see ZRemRangeByLex, the
// command.
func (c *Client) ZRemRangeByLex(ctx context.Context, key, min, max string) (int64, error) {
	return exec(ctx, c, ZRemRangeByLex(key, min, max))
}

// BZPopMin builds BZPOPMIN key… timeout: pop the member with the lowest
// score of the first non-empty sorted set among keys, waiting up to timeout
// (0: with no limit) for one; its result is that key and the member. The
// timeout passing is ErrNil. The keys must be in one slot. No keys, or a
// negative timeout, is ErrArgument. It runs on a connection of its own (see
// Options.BlockingConnsPerNode).
func BZPopMin(timeout time.Duration, keys ...string) Cmd[KeyZ] {
	return keysTimeoutCmd(toKeyZ, "BZPOPMIN", timeout, keys)
}

// BZPopMin pops the lowest-scored member of the first non-empty sorted set,
// waiting for one; see BZPopMin, the command.
func (c *Client) BZPopMin(ctx context.Context, timeout time.Duration, keys ...string) (KeyZ, error) {
	return exec(ctx, c, BZPopMin(timeout, keys...))
}

// BZPopMax builds BZPOPMAX key… timeout: BZPopMin, popping the member with
// the highest score.
func BZPopMax(timeout time.Duration, keys ...string) Cmd[KeyZ] {
	return keysTimeoutCmd(toKeyZ, "BZPOPMAX", timeout, keys)
}

// BZPopMax pops the highest-scored member of the first non-empty sorted set,
// waiting for one; see BZPopMax, the command.
func (c *Client) BZPopMax(ctx context.Context, timeout time.Duration, keys ...string) (KeyZ, error) {
	return exec(ctx, c, BZPopMax(timeout, keys...))
}

// BZMPop builds BZMPOP timeout numkeys key… MIN|MAX COUNT count: ZMPop,
// waiting up to timeout (0: with no limit) for a sorted set to have members.
// The timeout passing is ErrNil. No keys, an unknown end, a count under 1 or
// a negative timeout is ErrArgument.
func BZMPop(timeout time.Duration, from ZEnd, count int64, keys ...string) Cmd[KeyZs] {
	if from != ZMin && from != ZMax {
		return failedCmd[KeyZs]("BZMPOP", fmt.Errorf("%w: end %q (want ZMin or ZMax)", ErrArgument, string(from)))
	}
	args, err := timeoutMPopArgs("BZMPOP", timeout, keys, string(from), count)
	if err != nil {
		return failedCmd[KeyZs]("BZMPOP", err)
	}
	return argsCmd(toKeyZs, args)
}

// BZMPop pops members from the first non-empty sorted set, waiting for one;
// see BZMPop, the command.
func (c *Client) BZMPop(ctx context.Context, timeout time.Duration, from ZEnd, count int64, keys ...string) (KeyZs, error) {
	return exec(ctx, c, BZMPop(timeout, from, count, keys...))
}
