package keel

import "context"

// SAdd builds SADD key member…: add members to the set at key, creating it
// if missing; its result is how many were not already in it. No members is
// ErrArgument.
func SAdd(key string, members ...string) Cmd[int64] {
	return keyListCmd(toInt64, "SADD", key, members, errNoMembers)
}

// SAdd adds members to the set at key; see SAdd, the command.
func (c *Client) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	return exec(ctx, c, SAdd(key, members...))
}

// SRem builds SREM key member…: remove members from the set at key; its
// result is how many were in it. No members is ErrArgument.
func SRem(key string, members ...string) Cmd[int64] {
	return keyListCmd(toInt64, "SREM", key, members, errNoMembers)
}

// SRem removes members from the set at key; see SRem, the command.
func (c *Client) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	return exec(ctx, c, SRem(key, members...))
}

// SMembers builds SMEMBERS key: its result is the members of the set at
// key, in no particular order. A missing key gives an empty slice.
func SMembers(key string) Cmd[[]string] { return newCmd(toStrings, "SMEMBERS", key) }

// SMembers returns the members of the set at key; see SMembers, the command.
func (c *Client) SMembers(ctx context.Context, key string) ([]string, error) {
	return exec(ctx, c, SMembers(key))
}

// SIsMember builds SISMEMBER key member: its result says whether member is
// in the set at key.
func SIsMember(key, member string) Cmd[bool] { return newCmd(toBool, "SISMEMBER", key, member) }

// SIsMember reports whether member is in the set at key; see SIsMember, the
// command.
func (c *Client) SIsMember(ctx context.Context, key, member string) (bool, error) {
	return exec(ctx, c, SIsMember(key, member))
}

// SMIsMember builds SMISMEMBER key member…: its result says, for each
// member in order, whether it is in the set at key. No members is
// ErrArgument.
func SMIsMember(key string, members ...string) Cmd[[]bool] {
	return keyListCmd(toBools, "SMISMEMBER", key, members, errNoMembers)
}

// SMIsMember reports which members are in the set at key; see SMIsMember,
// the command.
func (c *Client) SMIsMember(ctx context.Context, key string, members ...string) ([]bool, error) {
	return exec(ctx, c, SMIsMember(key, members...))
}

// SCard builds SCARD key: its result is the number of members of the set at
// key, 0 for a missing key.
func SCard(key string) Cmd[int64] { return newCmd(toInt64, "SCARD", key) }

// SCard returns the number of members of the set at key; see SCard, the
// command.
func (c *Client) SCard(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, SCard(key))
}

// SPop builds SPOP key: remove a random member of the set at key; its
// result is the member. A missing key is ErrNil.
func SPop(key string) Cmd[string] { return newCmd(toString, "SPOP", key) }

// SPop removes and returns a random member of the set at key; see SPop, the
// command.
func (c *Client) SPop(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, SPop(key))
}

// SPopCount builds SPOP key count: remove up to count random members of the
// set at key; its result is the members. A missing key gives an empty slice;
// a negative count fails with the server's error.
func SPopCount(key string, count int64) Cmd[[]string] {
	return newCmd(toStrings, "SPOP", key, formatInt(count))
}

// SPopCount removes and returns random members of the set at key; see
// SPopCount, the command.
func (c *Client) SPopCount(ctx context.Context, key string, count int64) ([]string, error) {
	return exec(ctx, c, SPopCount(key, count))
}

// SRandMember builds SRANDMEMBER key: its result is a random member of the
// set at key, which is not removed. A missing key is ErrNil.
func SRandMember(key string) Cmd[string] { return newCmd(toString, "SRANDMEMBER", key) }

// SRandMember returns a random member of the set at key; see SRandMember,
// the command.
func (c *Client) SRandMember(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, SRandMember(key))
}

// SRandMemberCount builds SRANDMEMBER key count: its result is up to count
// distinct random members of the set at key or, when count is negative,
// -count members that may repeat. A missing key gives an empty slice.
func SRandMemberCount(key string, count int64) Cmd[[]string] {
	return newCmd(toStrings, "SRANDMEMBER", key, formatInt(count))
}

// SRandMemberCount returns random members of the set at key; see
// SRandMemberCount, the command.
func (c *Client) SRandMemberCount(ctx context.Context, key string, count int64) ([]string, error) {
	return exec(ctx, c, SRandMemberCount(key, count))
}

// SMove builds SMOVE src dst member: move member from the set at src to the
// set at dst. Its result is false when member was not in src. Both keys
// must be in one slot.
func SMove(src, dst, member string) Cmd[bool] { return newCmd(toBool, "SMOVE", src, dst, member) }

// SMove moves member from one set to another; see SMove, the command.
func (c *Client) SMove(ctx context.Context, src, dst, member string) (bool, error) {
	return exec(ctx, c, SMove(src, dst, member))
}

// SInter builds SINTER key…: its result is the members in every one of the
// sets (a missing key is an empty set). The keys must be in one slot; none
// is ErrArgument.
func SInter(keys ...string) Cmd[[]string] { return keysCmd(toStrings, "SINTER", keys) }

// SInter returns the intersection of sets; see SInter, the command.
func (c *Client) SInter(ctx context.Context, keys ...string) ([]string, error) {
	return exec(ctx, c, SInter(keys...))
}

// SUnion builds SUNION key…: its result is the members in any of the sets.
// The keys must be in one slot; none is ErrArgument.
func SUnion(keys ...string) Cmd[[]string] { return keysCmd(toStrings, "SUNION", keys) }

// SUnion returns the union of sets; see SUnion, the command.
func (c *Client) SUnion(ctx context.Context, keys ...string) ([]string, error) {
	return exec(ctx, c, SUnion(keys...))
}

// SDiff builds SDIFF key…: its result is the members of the first set in
// none of the others. The keys must be in one slot; none is ErrArgument.
func SDiff(keys ...string) Cmd[[]string] { return keysCmd(toStrings, "SDIFF", keys) }

// SDiff returns the difference of sets; see SDiff, the command.
func (c *Client) SDiff(ctx context.Context, keys ...string) ([]string, error) {
	return exec(ctx, c, SDiff(keys...))
}

// SInterStore builds SINTERSTORE dst key…: SInter, stored in dst (replacing
// it; an empty result deletes it); its result is the size of dst. dst and
// the keys must be in one slot; no keys is ErrArgument.
func SInterStore(dst string, keys ...string) Cmd[int64] {
	return keyListCmd(toInt64, "SINTERSTORE", dst, keys, errNoKeys)
}

// SInterStore stores the intersection of sets in dst; see SInterStore, the
// command.
func (c *Client) SInterStore(ctx context.Context, dst string, keys ...string) (int64, error) {
	return exec(ctx, c, SInterStore(dst, keys...))
}

// SUnionStore builds SUNIONSTORE dst key…: SUnion, stored as SInterStore
// stores.
func SUnionStore(dst string, keys ...string) Cmd[int64] {
	return keyListCmd(toInt64, "SUNIONSTORE", dst, keys, errNoKeys)
}

// SUnionStore stores the union of sets in dst; see SUnionStore, the command.
func (c *Client) SUnionStore(ctx context.Context, dst string, keys ...string) (int64, error) {
	return exec(ctx, c, SUnionStore(dst, keys...))
}

// SDiffStore builds SDIFFSTORE dst key…: SDiff, stored as SInterStore
// stores.
func SDiffStore(dst string, keys ...string) Cmd[int64] {
	return keyListCmd(toInt64, "SDIFFSTORE", dst, keys, errNoKeys)
}

// SDiffStore stores the difference of sets in dst; see SDiffStore, the
// command.
func (c *Client) SDiffStore(ctx context.Context, dst string, keys ...string) (int64, error) {
	return exec(ctx, c, SDiffStore(dst, keys...))
}

// SInterCard builds SINTERCARD numkeys key… [LIMIT limit]: its result is the
// size of the intersection of the sets, counting stops at limit when limit
// is above 0. The keys must be in one slot; none is ErrArgument.
func SInterCard(limit int64, keys ...string) Cmd[int64] {
	if len(keys) == 0 {
		return failedCmd[int64]("SINTERCARD", errNoKeys)
	}
	args := make([]string, 0, 4+len(keys))
	args = append(append(args, "SINTERCARD", formatInt(int64(len(keys)))), keys...)
	if limit != 0 {
		args = append(args, "LIMIT", formatInt(limit))
	}
	return argsCmd(toInt64, args)
}

// SInterCard returns the size of the intersection of sets; see SInterCard,
// the command.
func (c *Client) SInterCard(ctx context.Context, limit int64, keys ...string) (int64, error) {
	return exec(ctx, c, SInterCard(limit, keys...))
}
