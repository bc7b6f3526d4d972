package keel

import (
	"context"
	"fmt"
	"time"
)

// ListEnd names an end of a list: where LMove and LMPop take elements from
// and put them.
type ListEnd string

// The ends of a list.
const (
	Left  ListEnd = "LEFT"  // the head, index 0
	Right ListEnd = "RIGHT" // the tail, index -1
)

func (e ListEnd) check() error {
	if e != Left && e != Right {
		return fmt.Errorf("%w: list end %q (want Left or Right)", ErrArgument, string(e))
	}
	return nil
}

// KeyValue is the result of a blocking pop from the first non-empty of
// several lists: the key, and the element popped from it.
type KeyValue struct {
	Key, Value string
}

// KeyValues is the result of a pop from the first non-empty of several
// keys: the key, and the elements popped from it.
type KeyValues struct {
	Key    string
	Values []string
}

// LPush builds LPUSH key value…: insert values at the head of the list at
// key, one after the other (so the last ends up first), creating the list if
// missing; its result is the new length. Values are converted as Do converts
// arguments; none is ErrArgument.
func LPush(key string, values ...any) Cmd[int64] { return keyValuesCmd(toInt64, "LPUSH", key, values) }

// LPush inserts values at the head of the list at key; see LPush, the command.
func (c *Client) LPush(ctx context.Context, key string, values ...any) (int64, error) {
	return exec(ctx, c, LPush(key, values...))
}

// RPush builds RPUSH key value…: append values to the tail of the list at
// key, creating the list if missing; its result is the new length. Values
// are converted as Do converts arguments; none is ErrArgument.
func RPush(key string, values ...any) Cmd[int64] { return keyValuesCmd(toInt64, "RPUSH", key, values) }

// RPush appends values to the list at key; see RPush, the command.
func (c *Client) RPush(ctx context.Context, key string, values ...any) (int64, error) {
	return exec(ctx, c, RPush(key, values...))
}

// LPushX builds LPUSHX key value…: LPush only when the list exists; its
// result is the new length, 0 when key is missing.
func LPushX(key string, values ...any) Cmd[int64] {
	return keyValuesCmd(toInt64, "LPUSHX", key, values)
}

// LPushX inserts values at the head of an existing list; see LPushX, the
// command.
func (c *Client) LPushX(ctx context.Context, key string, values ...any) (int64, error) {
	return exec(ctx, c, LPushX(key, values...))
}

// RPushX builds RPUSHX key value…: RPush only when the list exists; its
// result is the new length, 0 when key is missing.
func RPushX(key string, values ...any) Cmd[int64] {
	return keyValuesCmd(toInt64, "RPUSHX", key, values)
}

// RPushX appends values to an existing list; see RPushX, the command.
func (c *Client) RPushX(ctx context.Context, key string, values ...any) (int64, error) {
	return exec(ctx, c, RPushX(key, values...))
}

// LPop builds LPOP key: remove the first element of the list at key; its
// result is the element. A missing key is ErrNil.
func LPop(key string) Cmd[string] { return newCmd(toString, "LPOP", key) }

// LPop removes and returns the first element of the list at key; see LPop,
// the command.
func (c *Client) LPop(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, LPop(key))
}

// RPop builds RPOP key: remove the last element of the list at key; its
// result is the element. A missing key is ErrNil.
func RPop(key string) Cmd[string] { return newCmd(toString, "RPOP", key) }

// RPop removes and returns the last element of the list at key; see RPop,
// the command.
func (c *Client) RPop(ctx context.Context, key string) (string, error) {
	return exec(ctx, c, RPop(key))
}

// LPopCount builds LPOP key count: remove up to count elements from the head
// of the list at key; its result is the elements, first popped first. A
// missing key is ErrNil; a negative count fails with the server's error.
func LPopCount(key string, count int64) Cmd[[]string] {
	return newCmd(toStrings, "LPOP", key, formatInt(count))
}

// LPopCount removes and returns up to count elements from the head of the
// list; see LPopCount, the command.
func (c *Client) LPopCount(ctx context.Context, key string, count int64) ([]string, error) {
	return exec(ctx, c, LPopCount(key, count))
}

// RPopCount builds RPOP key count: remove up to count elements from the tail
// of the list at key; its result is the elements, last element first. A
// missing key is ErrNil.
func RPopCount(key string, count int64) Cmd[[]string] {
	return newCmd(toStrings, "RPOP", key, formatInt(count))
}

// RPopCount removes and returns up to count elements from the tail of the
// list; see RPopCount, the command.
func (c *Client) RPopCount(ctx context.Context, key string, count int64) ([]string, error) {
	return exec(ctx, c, RPopCount(key, count))
}

// LRange builds LRANGE key start stop: its result is the elements of the
// list at key from index start to stop, both included; negative indexes
// count from the end, -1 being the last. A missing key gives an empty slice.
func LRange(key string, start, stop int64) Cmd[[]string] {
	return newCmd(toStrings, "LRANGE", key, formatInt(start), formatInt(stop))
}

// LRange returns elements of the list at key; see LRange, the command.
func (c *Client) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return exec(ctx, c, LRange(key, start, stop))
}

// LLen builds LLEN key: its result is the length of the list at key, 0 for
// a missing key.
func LLen(key string) Cmd[int64] { return newCmd(toInt64, "LLEN", key) }

// LLen returns the length of the list at key; see LLen, the command.
func (c *Client) LLen(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, LLen(key))
}

// LIndex builds LINDEX key index: its result is the element at index of the
// list at key; negative indexes count from the end. A missing key or an
// index out of range is ErrNil.
func LIndex(key string, index int64) Cmd[string] {
	return newCmd(toString, "LINDEX", key, formatInt(index))
}

// LIndex returns the element at index of the list at key; see LIndex, the
// command.
func (c *Client) LIndex(ctx context.Context, key string, index int64) (string, error) {
	return exec(ctx, c, LIndex(key, index))
}

// LSet builds LSET key index value: set the element at index of the list at
// key. A missing key or an index out of range fails with the server's error
// (resp.ErrGeneric).
func LSet(key string, index int64, value any) Cmd[struct{}] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[struct{}]("LSET", err)
	}
	return newCmd(toStatus, "LSET", key, formatInt(index), v)
}

// LSet sets the element at index of the list at key; see LSet, the command.
func (c *Client) LSet(ctx context.Context, key string, index int64, value any) error {
	_, err := exec(ctx, c, LSet(key, index, value))
	return err
}

// LRem builds LREM key count value: remove elements equal to value from the
// list at key, the first count from the head when count > 0, the last
// -count from the tail when count < 0, all when count is 0; its result is
// how many were removed.
func LRem(key string, count int64, value any) Cmd[int64] {
	v, err := argString(value)
	if err != nil {
		return failedCmd[int64]("LREM", err)
	}
	return newCmd(toInt64, "LREM", key, formatInt(count), v)
}

// LRem removes elements equal to value from the list at key; see LRem, the
// command.
func (c *Client) LRem(ctx context.Context, key string, count int64, value any) (int64, error) {
	return exec(ctx, c, LRem(key, count, value))
}

// LTrim builds LTRIM key start stop: trim the list at key to the elements
// from index start to stop, both included; negative indexes count from the
// end.
func LTrim(key string, start, stop int64) Cmd[struct{}] {
	return newCmd(toStatus, "LTRIM", key, formatInt(start), formatInt(stop))
}

// LTrim trims the list at key; see LTrim, the command.
func (c *Client) LTrim(ctx context.Context, key string, start, stop int64) error {
	_, err := exec(ctx, c, LTrim(key, start, stop))
	return err
}

// linsert builds LINSERT key BEFORE|AFTER pivot value.
func linsert(key, where string, pivot, value any) Cmd[int64] {
	p, err := argString(pivot)
	if err != nil {
		return failedCmd[int64]("LINSERT", fmt.Errorf("pivot: %w", err))
	}
	v, err := argString(value)
	if err != nil {
		return failedCmd[int64]("LINSERT", err)
	}
	return newCmd(toInt64, "LINSERT", key, where, p, v)
}

// LInsertBefore builds LINSERT key BEFORE pivot value: insert value before
// the first element equal to pivot. Its result is the new length, -1 when
// pivot is not in the list, 0 when key is missing.
func LInsertBefore(key string, pivot, value any) Cmd[int64] {
	return linsert(key, "BEFORE", pivot, value)
}

// LInsertBefore inserts value before pivot; see LInsertBefore, the command.
func (c *Client) LInsertBefore(ctx context.Context, key string, pivot, value any) (int64, error) {
	return exec(ctx, c, LInsertBefore(key, pivot, value))
}

// LInsertAfter builds LINSERT key AFTER pivot value: insert value after the
// first element equal to pivot. Its result is as LInsertBefore's.
func LInsertAfter(key string, pivot, value any) Cmd[int64] {
	return linsert(key, "AFTER", pivot, value)
}

// LInsertAfter inserts value after pivot; see LInsertAfter, the command.
func (c *Client) LInsertAfter(ctx context.Context, key string, pivot, value any) (int64, error) {
	return exec(ctx, c, LInsertAfter(key, pivot, value))
}

// LPosOptions are the options of LPos and LPosCount. The zero value searches
// the whole list from the head.
type LPosOptions struct {
	// Rank skips matches: 2 returns the second match from the head, -1 the
	// first from the tail (searching backwards). 0 means 1.
	Rank int64
	// MaxLen compares at most this many elements; 0 means all.
	MaxLen int64
}

func lposArgs(key, element string, o LPosOptions, extra ...string) []string {
	args := []string{"LPOS", key, element}
	if o.Rank != 0 {
		args = append(args, "RANK", formatInt(o.Rank))
	}
	args = append(args, extra...)
	if o.MaxLen != 0 {
		args = append(args, "MAXLEN", formatInt(o.MaxLen))
	}
	return args
}

// LPos builds LPOS key element [RANK rank] [MAXLEN len]: its result is the
// index of the first element equal to element (the Rank-th with o.Rank). An
// element not found, like a missing key, is ErrNil.
func LPos(key string, element any, o LPosOptions) Cmd[int64] {
	e, err := argString(element)
	if err != nil {
		return failedCmd[int64]("LPOS", err)
	}
	return argsCmd(toInt64, lposArgs(key, e, o))
}

// LPos returns the index of an element of the list at key; see LPos, the
// command.
func (c *Client) LPos(ctx context.Context, key string, element any, o LPosOptions) (int64, error) {
	return exec(ctx, c, LPos(key, element, o))
}

// LPosCount builds LPOS key element [RANK rank] COUNT count [MAXLEN len]:
// its result is the indexes of up to count matches (all of them when count
// is 0); none found, like a missing key, gives an empty slice.
func LPosCount(key string, element any, count int64, o LPosOptions) Cmd[[]int64] {
	e, err := argString(element)
	if err != nil {
		return failedCmd[[]int64]("LPOS", err)
	}
	return argsCmd(toInt64s, lposArgs(key, e, o, "COUNT", formatInt(count)))
}

// LPosCount returns the indexes of matching elements of the list at key; see
// LPosCount, the command.
func (c *Client) LPosCount(ctx context.Context, key string, element any, count int64, o LPosOptions) ([]int64, error) {
	return exec(ctx, c, LPosCount(key, element, count, o))
}

// LMove builds LMOVE src dst from to: pop an element from the from end of
// the list at src and push it at the to end of the list at dst (src and dst
// may be the same, to rotate); its result is the element. A missing src is
// ErrNil. Both keys must be in one slot.
func LMove(src, dst string, from, to ListEnd) Cmd[string] {
	if err := from.check(); err != nil {
		return failedCmd[string]("LMOVE", err)
	}
	if err := to.check(); err != nil {
		return failedCmd[string]("LMOVE", err)
	}
	return newCmd(toString, "LMOVE", src, dst, string(from), string(to))
}

// LMove moves an element between lists; see LMove, the command.
func (c *Client) LMove(ctx context.Context, src, dst string, from, to ListEnd) (string, error) {
	return exec(ctx, c, LMove(src, dst, from, to))
}

// RPopLPush builds RPOPLPUSH src dst, which Redis deprecates for LMove: it
// is LMove(src, dst, Right, Left).
func RPopLPush(src, dst string) Cmd[string] { return newCmd(toString, "RPOPLPUSH", src, dst) }

// RPopLPush moves the last element of src to the head of dst; see RPopLPush,
// the command.
func (c *Client) RPopLPush(ctx context.Context, src, dst string) (string, error) {
	return exec(ctx, c, RPopLPush(src, dst))
}

// LMPop builds LMPOP numkeys key… LEFT|RIGHT [COUNT count]: pop up to count
// elements from the from end of the first non-empty list among keys; its
// result is that key and the elements. All lists empty or missing is ErrNil.
// The keys must be in one slot. No keys, or a count under 1, is ErrArgument.
func LMPop(from ListEnd, count int64, keys ...string) Cmd[KeyValues] {
	err := from.check()
	var args []string
	if err == nil {
		args, err = mpopArgs("LMPOP", keys, string(from), count)
	}
	if err != nil {
		return failedCmd[KeyValues]("LMPOP", err)
	}
	return argsCmd(toKeyValues, args)
}

// LMPop pops elements from the first non-empty list; see LMPop, the command.
func (c *Client) LMPop(ctx context.Context, from ListEnd, count int64, keys ...string) (KeyValues, error) {
	return exec(ctx, c, LMPop(from, count, keys...))
}

// BLPop builds BLPOP key… timeout: pop the first element of the first
// non-empty list among keys, waiting up to timeout (0: with no limit) for
// one to be pushed; its result is that key and the element. The timeout
// passing with every list empty is ErrNil. The keys must be in one slot. No
// keys, or a negative timeout, is ErrArgument. It runs on a connection of
// its own (see Options.BlockingConnsPerNode, which says what happens when
// the node fails or ctx ends while it waits).
func BLPop(timeout time.Duration, keys ...string) Cmd[KeyValue] {
	return keysTimeoutCmd(toKeyValue, "BLPOP", timeout, keys)
}

// BLPop pops the first element of the first non-empty list, waiting for one;
// see BLPop, the command.
func (c *Client) BLPop(ctx context.Context, timeout time.Duration, keys ...string) (KeyValue, error) {
	return exec(ctx, c, BLPop(timeout, keys...))
}

// BRPop builds BRPOP key… timeout: BLPop, popping the last element.
func BRPop(timeout time.Duration, keys ...string) Cmd[KeyValue] {
	return keysTimeoutCmd(toKeyValue, "BRPOP", timeout, keys)
}

// BRPop pops the last element of the first non-empty list, waiting for one;
// see BRPop, the command.
func (c *Client) BRPop(ctx context.Context, timeout time.Duration, keys ...string) (KeyValue, error) {
	return exec(ctx, c, BRPop(timeout, keys...))
}

// BLMove builds BLMOVE src dst from to timeout: LMove, waiting up to timeout
// (0: with no limit) for src to have an element; its result is the element.
// The timeout passing is ErrNil. Both keys must be in one slot. An unknown
// end or a negative timeout is ErrArgument.
func BLMove(src, dst string, from, to ListEnd, timeout time.Duration) Cmd[string] {
	err := from.check()
	if err == nil {
		err = to.check()
	}
	t, terr := formatTimeout(timeout)
	if err == nil {
		err = terr
	}
	if err != nil {
		return failedCmd[string]("BLMOVE", err)
	}
	return argsCmd(toString, []string{"BLMOVE", src, dst, string(from), string(to), t})
}

// BLMove moves an element between lists, waiting for one; see BLMove, the
// command.
func (c *Client) BLMove(ctx context.Context, src, dst string, from, to ListEnd, timeout time.Duration) (string, error) {
	return exec(ctx, c, BLMove(src, dst, from, to, timeout))
}

// BLMPop builds BLMPOP timeout numkeys key… LEFT|RIGHT COUNT count: LMPop,
// waiting up to timeout (0: with no limit) for a list to have elements. The
// timeout passing is ErrNil. No keys, a count under 1, an unknown end or a
// negative timeout is ErrArgument.
func BLMPop(timeout time.Duration, from ListEnd, count int64, keys ...string) Cmd[KeyValues] {
	err := from.check()
	var args []string
	if err == nil {
		args, err = timeoutMPopArgs("BLMPOP", timeout, keys, string(from), count)
	}
	if err != nil {
		return failedCmd[KeyValues]("BLMPOP", err)
	}
	return argsCmd(toKeyValues, args)
}

// BLMPop pops elements from the first non-empty list, waiting for one; see
// BLMPop, the command.
func (c *Client) BLMPop(ctx context.Context, timeout time.Duration, from ListEnd, count int64, keys ...string) (KeyValues, error) {
	return exec(ctx, c, BLMPop(timeout, from, count, keys...))
}
