package keel

import (
	"context"
	"fmt"
	"strconv"

	"github.com/keel-go/keel/resp"
)

// Bitmaps: strings read and written bit by bit.

// SetBit builds SETBIT key offset value: set the bit at offset (from the
// first byte's most significant bit) to value, 0 or 1, growing the string as
// needed. Its result is the bit's previous value. A negative offset or a
// value other than 0 or 1 is ErrArgument.
func SetBit(key string, offset int64, value int) Cmd[int64] {
	switch {
	case offset < 0:
		return failedCmd[int64]("SETBIT", errOffset(offset))
	case value != 0 && value != 1:
		return failedCmd[int64]("SETBIT", fmt.Errorf("%w: bit value %d, want 0 or 1", ErrArgument, value))
	}
	return newCmd(toInt64, "SETBIT", key, formatInt(offset), strconv.Itoa(value))
}

// SetBit sets one bit of the string at key; see SetBit, the command.
func (c *Client) SetBit(ctx context.Context, key string, offset int64, value int) (int64, error) {
	return exec(ctx, c, SetBit(key, offset, value))
}

func errOffset(offset int64) error {
	return fmt.Errorf("%w: negative offset %d", ErrArgument, offset)
}

// GetBit builds GETBIT key offset: its result is the bit at offset, 0 past
// the end of the string or for a missing key. A negative offset is
// ErrArgument.
func GetBit(key string, offset int64) Cmd[int64] {
	if offset < 0 {
		return failedCmd[int64]("GETBIT", errOffset(offset))
	}
	return newCmd(toInt64, "GETBIT", key, formatInt(offset))
}

// GetBit returns one bit of the string at key; see GetBit, the command.
func (c *Client) GetBit(ctx context.Context, key string, offset int64) (int64, error) {
	return exec(ctx, c, GetBit(key, offset))
}

// BitUnit says whether a BitRange counts in bytes or bits.
type BitUnit string

// The units of a BitRange.
const (
	UnitByte BitUnit = "BYTE" // the default
	UnitBit  BitUnit = "BIT"  // Redis 7 and later
)

// BitRange is a range of a string, Start to End both included; negative
// positions count from the end (-1 is the last).
type BitRange struct {
	Start, End int64
	// Unit is what Start and End count; "" (sent as nothing) means bytes.
	Unit BitUnit
}

func (r BitRange) append(args []string) ([]string, error) {
	args = append(args, formatInt(r.Start), formatInt(r.End))
	switch r.Unit {
	case "":
		return args, nil
	case UnitByte, UnitBit:
		return append(args, string(r.Unit)), nil
	}
	return nil, fmt.Errorf("%w: unit %q, want UnitByte or UnitBit", ErrArgument, string(r.Unit))
}

// BitCount builds BITCOUNT key: its result is the number of bits set in the
// string at key, 0 for a missing key.
func BitCount(key string) Cmd[int64] { return newCmd(toInt64, "BITCOUNT", key) }

// BitCount counts the bits set in the string at key; see BitCount, the command.
func (c *Client) BitCount(ctx context.Context, key string) (int64, error) {
	return exec(ctx, c, BitCount(key))
}

// BitCountRange builds BITCOUNT key start end [BYTE|BIT]: count the bits set
// in a range of the string. An unknown unit is ErrArgument.
func BitCountRange(key string, r BitRange) Cmd[int64] {
	args, err := r.append([]string{"BITCOUNT", key})
	if err != nil {
		return failedCmd[int64]("BITCOUNT", err)
	}
	return argsCmd(toInt64, args)
}

// BitCountRange counts the bits set in a range of the string at key; see
// BitCountRange, the command.
func (c *Client) BitCountRange(ctx context.Context, key string, r BitRange) (int64, error) {
	return exec(ctx, c, BitCountRange(key, r))
}

// BitPos builds BITPOS key bit: its result is the position of the first bit
// equal to bit (0 or 1) in the string at key; -1 when there is no 1. For a
// 0 the string is taken as padded with zeros, so a string of ones gives its
// length in bits. A bit other than 0 or 1 is ErrArgument.
func BitPos(key string, bit int) Cmd[int64] {
	if bit != 0 && bit != 1 {
		return failedCmd[int64]("BITPOS", errBit(bit))
	}
	return newCmd(toInt64, "BITPOS", key, strconv.Itoa(bit))
}

// BitPos finds the first bit equal to bit in the string at key; see BitPos,
// the command.
func (c *Client) BitPos(ctx context.Context, key string, bit int) (int64, error) {
	return exec(ctx, c, BitPos(key, bit))
}

func errBit(bit int) error {
	return fmt.Errorf("%w: bit %d, want 0 or 1", ErrArgument, bit)
}

// BitPosRange builds BITPOS key bit start end [BYTE|BIT]: BitPos within a
// range of the string; -1 when the range holds no such bit. A bit other than
// 0 or 1, or an unknown unit, is ErrArgument.
func BitPosRange(key string, bit int, r BitRange) Cmd[int64] {
	if bit != 0 && bit != 1 {
		return failedCmd[int64]("BITPOS", errBit(bit))
	}
	args, err := r.append([]string{"BITPOS", key, strconv.Itoa(bit)})
	if err != nil {
		return failedCmd[int64]("BITPOS", err)
	}
	return argsCmd(toInt64, args)
}

// BitPosRange finds the first bit equal to bit in a range of the string at
// key; see BitPosRange, the command.
func (c *Client) BitPosRange(ctx context.Context, key string, bit int, r BitRange) (int64, error) {
	return exec(ctx, c, BitPosRange(key, bit, r))
}

// bitOp builds BITOP op dest key…. Its result is the length of the string
// stored at dest, that of the longest source.
func bitOp(op, dest string, keys []string) Cmd[int64] {
	if len(keys) == 0 {
		return failedCmd[int64]("BITOP "+op, errNoKeys)
	}
	return argsCmd(toInt64, append([]string{"BITOP", op, dest}, keys...))
}

// BitOpAnd builds BITOP AND dest key…: store at dest the bitwise AND of the
// strings at keys, shorter ones padded with zeros. Its result is the length
// of the string stored. dest and keys must be in one slot (use a hash tag),
// or it fails with ErrCrossSlot. No keys is ErrArgument.
func BitOpAnd(dest string, keys ...string) Cmd[int64] { return bitOp("AND", dest, keys) }

// BitOpAnd stores the bitwise AND of strings; see BitOpAnd, the command.
func (c *Client) BitOpAnd(ctx context.Context, dest string, keys ...string) (int64, error) {
	return exec(ctx, c, BitOpAnd(dest, keys...))
}

// BitOpOr builds BITOP OR dest key…: BitOpAnd with OR.
func BitOpOr(dest string, keys ...string) Cmd[int64] { return bitOp("OR", dest, keys) }

// BitOpOr stores the bitwise OR of strings; see BitOpOr, the command.
func (c *Client) BitOpOr(ctx context.Context, dest string, keys ...string) (int64, error) {
	return exec(ctx, c, BitOpOr(dest, keys...))
}

// BitOpXor builds BITOP XOR dest key…: BitOpAnd with XOR.
func BitOpXor(dest string, keys ...string) Cmd[int64] { return bitOp("XOR", dest, keys) }

// BitOpXor stores the bitwise XOR of strings; see BitOpXor, the command.
func (c *Client) BitOpXor(ctx context.Context, dest string, keys ...string) (int64, error) {
	return exec(ctx, c, BitOpXor(dest, keys...))
}

// BitOpNot builds BITOP NOT dest key: store at dest the string at key with
// every bit flipped. Its result is the length of the string stored. dest
// and key must be in one slot.
func BitOpNot(dest, key string) Cmd[int64] {
	return newCmd(toInt64, "BITOP", "NOT", dest, key)
}

// BitOpNot stores the bitwise NOT of a string; see BitOpNot, the command.
func (c *Client) BitOpNot(ctx context.Context, dest, key string) (int64, error) {
	return exec(ctx, c, BitOpNot(dest, key))
}

// BitFieldOp is one operation of BitField, built by BitFieldGet,
// BitFieldSet, BitFieldIncrBy or BitFieldOverflow.
//
// A field's type is "i" (signed) or "u" (unsigned) and its width in bits:
// "u8", "i16"…, up to i64 and u63. Its offset is in bits from the string's
// start; the n-th field of width w is at offset n*w (Redis's "#n").
type BitFieldOp struct {
	args [4]string
	n    int
	err  error
}

// BitFieldGet reads a field; its result is the field's value.
func BitFieldGet(typ string, offset int64) BitFieldOp {
	return bitFieldOp(typ, offset, "GET")
}

// BitFieldSet writes value to a field; its result is the field's previous
// value.
func BitFieldSet(typ string, offset, value int64) BitFieldOp {
	return bitFieldOp(typ, offset, "SET", formatInt(value))
}

// BitFieldIncrBy adds incr to a field (a negative incr subtracts); its
// result is the field's new value, following the overflow rule in force.
func BitFieldIncrBy(typ string, offset, incr int64) BitFieldOp {
	return bitFieldOp(typ, offset, "INCRBY", formatInt(incr))
}

func bitFieldOp(typ string, offset int64, op string, value ...string) BitFieldOp {
	if err := checkBitFieldType(typ); err != nil {
		return BitFieldOp{err: err}
	}
	if offset < 0 {
		return BitFieldOp{err: errOffset(offset)}
	}
	o := BitFieldOp{args: [4]string{op, typ, formatInt(offset)}, n: 3}
	o.n += copy(o.args[3:], value)
	return o
}

// checkBitFieldType checks typ is i1…i64 or u1…u63.
func checkBitFieldType(typ string) error {
	if len(typ) >= 2 && (typ[0] == 'i' || typ[0] == 'u') && typ[1] != '0' && typ[1] != '+' {
		bits, err := strconv.Atoi(typ[1:])
		if err == nil && bits >= 1 && (bits <= 63 || bits == 64 && typ[0] == 'i') {
			return nil
		}
	}
	return fmt.Errorf("%w: bit field type %q, want i1…i64 or u1…u63", ErrArgument, typ)
}

// BitFieldOverflow says what the following SET and INCRBY operations of a
// BitField do when a value does not fit its field.
type BitFieldOverflow string

// The overflow rules.
const (
	OverflowWrap BitFieldOverflow = "WRAP" // wrap around (the default)
	OverflowSat  BitFieldOverflow = "SAT"  // saturate at the type's minimum or maximum
	OverflowFail BitFieldOverflow = "FAIL" // leave the field alone; the result is not Valid
)

// BitFieldOverflowRule sets the overflow rule of the operations after it
// (OVERFLOW); it has no result of its own. An unknown rule is ErrArgument.
func BitFieldOverflowRule(rule BitFieldOverflow) BitFieldOp {
	switch rule {
	case OverflowWrap, OverflowSat, OverflowFail:
		return BitFieldOp{args: [4]string{"OVERFLOW", string(rule)}, n: 2}
	}
	return BitFieldOp{err: fmt.Errorf("%w: overflow rule %q, want WRAP, SAT or FAIL", ErrArgument, string(rule))}
}

// BitFieldValue is the result of one BitField operation. Valid is false for
// a SET or INCRBY that OverflowFail refused.
type BitFieldValue struct {
	Value int64
	Valid bool
}

// BitField builds BITFIELD key op…: run the operations in order on the
// string at key, growing it as needed. Its result holds one value per GET,
// SET and INCRBY, in order. No operations, or one that failed to build, is
// ErrArgument.
func BitField(key string, ops ...BitFieldOp) Cmd[[]BitFieldValue] {
	return bitField("BITFIELD", key, ops)
}

// BitField runs operations on bit fields of the string at key; see
// BitField, the command.
func (c *Client) BitField(ctx context.Context, key string, ops ...BitFieldOp) ([]BitFieldValue, error) {
	return exec(ctx, c, BitField(key, ops...))
}

// BitFieldRO builds BITFIELD_RO key GET…: BitField that only reads, which a
// replica may serve. An operation other than BitFieldGet is ErrArgument.
func BitFieldRO(key string, gets ...BitFieldOp) Cmd[[]BitFieldValue] {
	for _, op := range gets {
		if op.err == nil && op.args[0] != "GET" {
			return failedCmd[[]BitFieldValue]("BITFIELD_RO", fmt.Errorf("%w: %s, want only GET", ErrArgument, op.args[0]))
		}
	}
	return bitField("BITFIELD_RO", key, gets)
}

// BitFieldRO reads bit fields of the string at key; see BitFieldRO, the
// command.
func (c *Client) BitFieldRO(ctx context.Context, key string, gets ...BitFieldOp) ([]BitFieldValue, error) {
	return exec(ctx, c, BitFieldRO(key, gets...))
}

func bitField(name, key string, ops []BitFieldOp) Cmd[[]BitFieldValue] {
	if len(ops) == 0 {
		return failedCmd[[]BitFieldValue](name, fmt.Errorf("%w: no operations", ErrArgument))
	}
	args := make([]string, 0, 2+4*len(ops))
	args = append(args, name, key)
	for i, op := range ops {
		if op.err != nil {
			return failedCmd[[]BitFieldValue](name, fmt.Errorf("operation %d: %w", i, op.err))
		}
		if op.n == 0 {
			return failedCmd[[]BitFieldValue](name, fmt.Errorf("%w: operation %d is empty", ErrArgument, i))
		}
		args = append(args, op.args[:op.n]...)
	}
	return argsCmd(toBitFieldValues, args)
}

// toBitFieldValues is the parse of BITFIELD: an array of integers, null for
// an operation OVERFLOW FAIL refused.
func toBitFieldValues(v Value, err error) ([]BitFieldValue, error) {
	if err != nil {
		return nil, err
	}
	return resp.ConvertElems(v, func(e Value) (BitFieldValue, error) {
		switch {
		case e.IsNull():
			return BitFieldValue{}, nil
		case e.Kind != resp.KindInteger:
			return BitFieldValue{}, fmt.Errorf("%w: want an integer, got %s", resp.ErrType, e)
		}
		return BitFieldValue{Value: e.Int, Valid: true}, nil
	})
}
