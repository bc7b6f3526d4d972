package keel_test

import (
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/keel-go/keel"
)

func TestBitmapCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	b := k("b")

	n, err := c.GetBit(ctx, b, 100)
	eq(t, "GetBit(missing)", n, err, 0)
	n, err = c.SetBit(ctx, b, 7, 1) // byte 0 = 0x01
	eq(t, "SetBit(7)", n, err, 0)
	n, err = c.SetBit(ctx, b, 7, 1)
	eq(t, "SetBit(7) again", n, err, 1)
	_, err = c.SetBit(ctx, b, 8, 1) // byte 1 = 0x80
	must(t, err)
	_, err = c.SetBit(ctx, b, 23, 1) // byte 2 = 0x01
	must(t, err)
	got, err := c.Get(ctx, b)
	eq(t, "Get(bitmap)", got, err, "\x01\x80\x01")
	n, err = c.GetBit(ctx, b, 8)
	eq(t, "GetBit(8)", n, err, 1)

	n, err = c.BitCount(ctx, b)
	eq(t, "BitCount", n, err, 3)
	n, err = c.BitCount(ctx, k("missing"))
	eq(t, "BitCount(missing)", n, err, 0)
	n, err = c.BitCountRange(ctx, b, keel.BitRange{Start: 1, End: -1})
	eq(t, "BitCountRange(bytes 1..-1)", n, err, 2)
	n, err = c.BitCountRange(ctx, b, keel.BitRange{Start: 0, End: 7, Unit: keel.UnitBit})
	eq(t, "BitCountRange(bits 0..7)", n, err, 1)
	n, err = c.BitCountRange(ctx, b, keel.BitRange{Start: 0, End: 0, Unit: keel.UnitByte})
	eq(t, "BitCountRange(BYTE 0..0)", n, err, 1)

	n, err = c.BitPos(ctx, b, 1)
	eq(t, "BitPos(1)", n, err, 7)
	n, err = c.BitPos(ctx, b, 0)
	eq(t, "BitPos(0)", n, err, 0)
	n, err = c.BitPosRange(ctx, b, 1, keel.BitRange{Start: 9, End: -1, Unit: keel.UnitBit})
	eq(t, "BitPosRange(1, bits 9..)", n, err, 23)
	n, err = c.BitPosRange(ctx, b, 1, keel.BitRange{Start: 2, End: 2})
	eq(t, "BitPosRange(1, byte 2)", n, err, 23)
	n, err = c.BitPos(ctx, k("missing"), 1)
	eq(t, "BitPos(missing, 1)", n, err, -1)

	// BITOP within one slot.
	tag := "{" + k("op") + "}"
	x, y, d := tag+"x", tag+"y", tag+"d"
	must(t, c.Set(ctx, x, "\xf0\x0f"))
	must(t, c.Set(ctx, y, "\xff"))
	for _, tc := range []struct {
		name string
		cmd  keel.Cmd[int64]
		want string
	}{
		{"AND", keel.BitOpAnd(d, x, y), "\xf0\x00"},
		{"OR", keel.BitOpOr(d, x, y), "\xff\x0f"},
		{"XOR", keel.BitOpXor(d, x, y), "\x0f\x0f"},
		{"NOT", keel.BitOpNot(d, x), "\x0f\xf0"},
	} {
		n, err := keel.Run(ctx, c, tc.cmd)
		eq(t, "BitOp "+tc.name, n, err, 2)
		got, err := c.Get(ctx, d)
		eq(t, "Get after BitOp "+tc.name, got, err, tc.want)
	}
	n, err = c.BitOpAnd(ctx, d, x)
	eq(t, "BitOpAnd(one key)", n, err, 2)
	if _, err := c.BitOpOr(ctx, k("dest"), x); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("BitOpOr across slots: err = %v, want ErrCrossSlot", err)
	}
}

func TestBitFieldCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	f := k("f")

	vals, err := c.BitField(ctx, f,
		keel.BitFieldSet("u8", 0, 200),
		keel.BitFieldGet("u8", 0),
		keel.BitFieldIncrBy("u8", 0, 100), // wraps: 300-256
		keel.BitFieldOverflowRule(keel.OverflowSat),
		keel.BitFieldIncrBy("u8", 0, 300), // saturates
		keel.BitFieldOverflowRule(keel.OverflowFail),
		keel.BitFieldIncrBy("u8", 0, 1), // refused
		keel.BitFieldSet("i8", 8, -5),
		keel.BitFieldGet("i8", 8),
		keel.BitFieldGet("u4", 8), // high nibble of 0xfb
	)
	want := []keel.BitFieldValue{{0, true}, {200, true}, {44, true}, {255, true}, {0, false}, {0, true}, {-5, true}, {15, true}}
	if err != nil || !reflect.DeepEqual(vals, want) {
		t.Errorf("BitField = %v, %v\nwant %v", vals, err, want)
	}
	// The n-th field of a width is at n*width: u8 #1 is offset 8.
	vals, err = c.BitFieldRO(ctx, f, keel.BitFieldGet("u8", 0), keel.BitFieldGet("u8", 1*8), keel.BitFieldGet("u8", 99*8))
	want = []keel.BitFieldValue{{255, true}, {251, true}, {0, true}}
	if err != nil || !reflect.DeepEqual(vals, want) {
		t.Errorf("BitFieldRO = %v, %v; want %v", vals, err, want)
	}
	// A 64-bit signed field holds the extremes.
	vals, err = c.BitField(ctx, k("wide"), keel.BitFieldSet("i64", 0, -1<<63), keel.BitFieldGet("i64", 0))
	if err != nil || len(vals) != 2 || vals[1].Value != -1<<63 {
		t.Errorf("BitField(i64) = %v, %v", vals, err)
	}
}

func TestHyperLogLogCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("hll") + "}"
	a, b, u := tag+"a", tag+"b", tag+"u"

	ok, err := c.PFAdd(ctx, a)
	eq(t, "PFAdd(create)", ok, err, true)
	ok, err = c.PFAdd(ctx, a)
	eq(t, "PFAdd(nothing)", ok, err, false)
	n, err := c.PFCount(ctx, a)
	eq(t, "PFCount(empty)", n, err, 0)

	var first, second []any
	for i := range 1000 {
		first = append(first, "e"+strconv.Itoa(i))
		second = append(second, "e"+strconv.Itoa(i+500)) // half shared
	}
	ok, err = c.PFAdd(ctx, a, first...)
	eq(t, "PFAdd(1000)", ok, err, true)
	ok, err = c.PFAdd(ctx, a, first[:10]...)
	eq(t, "PFAdd(seen)", ok, err, false)
	_, err = c.PFAdd(ctx, b, second...)
	must(t, err)

	near := func(what string, got int64, err error, want int64) {
		t.Helper()
		// The standard error is 0.81%; 3% is far beyond it.
		if err != nil || got < want*97/100 || got > want*103/100 {
			t.Errorf("%s = %d, %v; want about %d", what, got, err, want)
		}
	}
	n, err = c.PFCount(ctx, a)
	near("PFCount(a)", n, err, 1000)
	n, err = c.PFCount(ctx, a, b)
	near("PFCount(a, b)", n, err, 1500)
	n, err = c.PFCount(ctx, a, tag+"missing")
	near("PFCount(a, missing)", n, err, 1000)

	must(t, c.PFMerge(ctx, u, a, b))
	n, err = c.PFCount(ctx, u)
	near("PFCount after PFMerge", n, err, 1500)
	must(t, c.PFMerge(ctx, tag+"alone"))
	n, err = c.PFCount(ctx, tag+"alone")
	eq(t, "PFCount(merged from nothing)", n, err, 0)

	if _, err := c.PFCount(ctx, a, k("elsewhere")); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("PFCount across slots: err = %v, want ErrCrossSlot", err)
	}
	if err := c.PFMerge(ctx, k("elsewhere"), a); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("PFMerge across slots: err = %v, want ErrCrossSlot", err)
	}
}
