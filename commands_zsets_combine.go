package keel

import (
	"context"
	"fmt"
	"math"
)

// Unions, intersections and differences of sorted sets. Their keys must be
// in one slot (a STORE form's destination too); no keys is ErrArgument.

// ZAggregate says how ZUnion and ZInter combine the scores of a member
// found in several sets.
type ZAggregate string

// The ways of combining scores.
const (
	AggregateSum ZAggregate = ""    // add them (the default)
	AggregateMin ZAggregate = "MIN" // keep the lowest
	AggregateMax ZAggregate = "MAX" // keep the highest
)

// ZCombine are the options of ZUnion and ZInter and their forms. The zero
// value sums scores, each set weighing 1.
type ZCombine struct {
	// Weights multiply the scores of each set, in the order of the keys;
	// nil means 1 each. When set, it must have one weight per key, none
	// NaN.
	Weights []float64
	// Aggregate combines the weighted scores of a member; AggregateSum by default.
	Aggregate ZAggregate
}

// zsetOpArgs builds name [dst] numkeys key… [WEIGHTS w…] [AGGREGATE a]
// [extra].
func zsetOpArgs(name, dst string, keys []string, o ZCombine, extra ...string) ([]string, error) {
	if len(keys) == 0 {
		return nil, errNoKeys
	}
	if o.Weights != nil && len(o.Weights) != len(keys) {
		return nil, fmt.Errorf("%w: %d weights for %d keys", ErrArgument, len(o.Weights), len(keys))
	}
	args := make([]string, 0, 6+2*len(keys)+len(extra))
	args = append(args, name)
	if dst != "" {
		args = append(args, dst)
	}
	args = append(append(args, formatInt(int64(len(keys)))), keys...)
	if o.Weights != nil {
		args = append(args, "WEIGHTS")
		for _, w := range o.Weights {
			if math.IsNaN(w) {
				return nil, fmt.Errorf("%w: a NaN weight", ErrArgument)
			}
			args = append(args, formatFloat(w))
		}
	}
	switch o.Aggregate {
	case AggregateSum:
	case AggregateMin, AggregateMax:
		args = append(args, "AGGREGATE", string(o.Aggregate))
	default:
		return nil, fmt.Errorf("%w: aggregate %q (want AggregateSum, AggregateMin or AggregateMax)", ErrArgument, string(o.Aggregate))
	}
	return append(args, extra...), nil
}

func zsetOp[T any](parse func(Value, error) (T, error), name, dst string, keys []string, o ZCombine, extra ...string) Cmd[T] {
	args, err := zsetOpArgs(name, dst, keys, o, extra...)
	if err != nil {
		return failedCmd[T](name, err)
	}
	return argsCmd(parse, args)
}

// ZUnion builds ZUNION numkeys key… [WEIGHTS w…] [AGGREGATE a]: its result
// is the members of any of the sorted sets, by combined score, lowest first.
func ZUnion(o ZCombine, keys ...string) Cmd[[]string] {
	return zsetOp(toStrings, "ZUNION", "", keys, o)
}

// ZUnion returns the union of sorted sets; see ZUnion, the command.
func (c *Client) ZUnion(ctx context.Context, o ZCombine, keys ...string) ([]string, error) {
	return exec(ctx, c, ZUnion(o, keys...))
}

// ZUnionWithScores builds ZUNION … WITHSCORES: ZUnion with the combined
// scores.
func ZUnionWithScores(o ZCombine, keys ...string) Cmd[[]Z] {
	return zsetOp(toZs, "ZUNION", "", keys, o, "WITHSCORES")
}

// ZUnionWithScores returns the union of sorted sets with scores; see
// ZUnionWithScores, the command.
func (c *Client) ZUnionWithScores(ctx context.Context, o ZCombine, keys ...string) ([]Z, error) {
	return exec(ctx, c, ZUnionWithScores(o, keys...))
}

// ZUnionStore builds ZUNIONSTORE dst numkeys key… [WEIGHTS w…] [AGGREGATE
// a]: ZUnion, stored in dst (replacing it; an empty result deletes it); its
// result is the size of dst.
func ZUnionStore(dst string, o ZCombine, keys ...string) Cmd[int64] {
	return zsetOp(toInt64, "ZUNIONSTORE", dst, keys, o)
}

// ZUnionStore stores the union of sorted sets in dst; see ZUnionStore, the
// command.
func (c *Client) ZUnionStore(ctx context.Context, dst string, o ZCombine, keys ...string) (int64, error) {
	return exec(ctx, c, ZUnionStore(dst, o, keys...))
}

// ZInter builds ZINTER numkeys key… [WEIGHTS w…] [AGGREGATE a]: its result
// is the members in every one of the sorted sets, by combined score.
func ZInter(o ZCombine, keys ...string) Cmd[[]string] {
	return zsetOp(toStrings, "ZINTER", "", keys, o)
}

// ZInter returns the intersection of sorted sets; see ZInter, the command.
func (c *Client) ZInter(ctx context.Context, o ZCombine, keys ...string) ([]string, error) {
	return exec(ctx, c, ZInter(o, keys...))
}

// ZInterWithScores builds ZINTER … WITHSCORES: ZInter with the combined
// scores.
func ZInterWithScores(o ZCombine, keys ...string) Cmd[[]Z] {
	return zsetOp(toZs, "ZINTER", "", keys, o, "WITHSCORES")
}

// ZInterWithScores returns the intersection of sorted sets with scores; see
// ZInterWithScores, the command.
func (c *Client) ZInterWithScores(ctx context.Context, o ZCombine, keys ...string) ([]Z, error) {
	return exec(ctx, c, ZInterWithScores(o, keys...))
}

// ZInterStore builds ZINTERSTORE dst numkeys key… [WEIGHTS w…] [AGGREGATE
// a]: ZInter, stored as ZUnionStore stores.
func ZInterStore(dst string, o ZCombine, keys ...string) Cmd[int64] {
	return zsetOp(toInt64, "ZINTERSTORE", dst, keys, o)
}

// ZInterStore stores the intersection of sorted sets in dst; see
// ZInterStore, the command.
func (c *Client) ZInterStore(ctx context.Context, dst string, o ZCombine, keys ...string) (int64, error) {
	return exec(ctx, c, ZInterStore(dst, o, keys...))
}

// ZDiff builds ZDIFF numkeys key…: its result is the members of the first
// sorted set in none of the others, by score.
func ZDiff(keys ...string) Cmd[[]string] {
	return zsetOp(toStrings, "ZDIFF", "", keys, ZCombine{})
}

// ZDiff returns the difference of sorted sets; see ZDiff, the command.
func (c *Client) ZDiff(ctx context.Context, keys ...string) ([]string, error) {
	return exec(ctx, c, ZDiff(keys...))
}

// ZDiffWithScores builds ZDIFF numkeys key… WITHSCORES: ZDiff with the
// scores.
func ZDiffWithScores(keys ...string) Cmd[[]Z] {
	return zsetOp(toZs, "ZDIFF", "", keys, ZCombine{}, "WITHSCORES")
}

// ZDiffWithScores returns the difference of sorted sets with scores; see
// ZDiffWithScores, the command.
func (c *Client) ZDiffWithScores(ctx context.Context, keys ...string) ([]Z, error) {
	return exec(ctx, c, ZDiffWithScores(keys...))
}

// ZDiffStore builds ZDIFFSTORE dst numkeys key…: ZDiff, stored as
// ZUnionStore stores.
func ZDiffStore(dst string, keys ...string) Cmd[int64] {
	return zsetOp(toInt64, "ZDIFFSTORE", dst, keys, ZCombine{})
}

// ZDiffStore stores the difference of sorted sets in dst; see ZDiffStore,
// the command.
func (c *Client) ZDiffStore(ctx context.Context, dst string, keys ...string) (int64, error) {
	return exec(ctx, c, ZDiffStore(dst, keys...))
}

// ZInterCard builds ZINTERCARD numkeys key… [LIMIT limit]: its result is the
// size of the intersection of the sorted sets, counting stops at limit when
// limit is above 0.
func ZInterCard(limit int64, keys ...string) Cmd[int64] {
	var extra []string
	if limit != 0 {
		extra = []string{"LIMIT", formatInt(limit)}
	}
	return zsetOp(toInt64, "ZINTERCARD", "", keys, ZCombine{}, extra...)
}

// ZInterCard returns the size of the intersection of sorted sets; see
// ZInterCard, the command.
func (c *Client) ZInterCard(ctx context.Context, limit int64, keys ...string) (int64, error) {
	return exec(ctx, c, ZInterCard(limit, keys...))
}
