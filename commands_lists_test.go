package keel_test

import (
	"testing"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func TestListMoreCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("l") + "}"
	l, l2 := tag+"a", tag+"b"

	// Values of any convertible type; no values or a nil one sends nothing.
	n, err := c.RPush(ctx, l, "a", []byte("b"), 3, 4.5, false)
	eq(t, "RPush(mixed types)", n, err, 5)
	all, err := c.LRange(ctx, l, 0, -1)
	eqSlice(t, "LRange", all, err, []string{"a", "b", "3", "4.5", "0"})
	_, err = c.RPush(ctx, l)
	wantArgument(t, "RPush()", err)
	_, err = c.LPush(ctx, l, "x", nil)
	wantArgument(t, "LPush(nil)", err)
	wantArgument(t, "LSet(nil)", c.LSet(ctx, l, 0, nil))
	_, err = c.LRem(ctx, l, 0, struct{}{})
	wantArgument(t, "LRem(unsupported)", err)

	// LPushX and RPushX only push onto an existing list.
	n, err = c.LPushX(ctx, k("missing"), "x")
	eq(t, "LPushX(missing)", n, err, 0)
	n, err = c.RPushX(ctx, k("missing"), "x")
	eq(t, "RPushX(missing)", n, err, 0)
	ex, err := c.Exists(ctx, k("missing"))
	eq(t, "Exists after LPushX/RPushX(missing)", ex, err, 0)
	n, err = c.LPushX(ctx, l, "h")
	eq(t, "LPushX", n, err, 6)
	n, err = c.RPushX(ctx, l, "t", "t")
	eq(t, "RPushX", n, err, 8)
	// h a b 3 4.5 0 t t

	// LInsert.
	n, err = c.LInsertBefore(ctx, l, "b", "B")
	eq(t, "LInsertBefore", n, err, 9)
	n, err = c.LInsertAfter(ctx, l, 3, "C")
	eq(t, "LInsertAfter(int pivot)", n, err, 10)
	n, err = c.LInsertAfter(ctx, l, "nope", "x")
	eq(t, "LInsertAfter(no pivot)", n, err, -1)
	n, err = c.LInsertBefore(ctx, k("missing"), "a", "x")
	eq(t, "LInsertBefore(missing key)", n, err, 0)
	_, err = c.LInsertBefore(ctx, l, nil, "x")
	wantArgument(t, "LInsertBefore(nil pivot)", err)
	all, err = c.LRange(ctx, l, 0, -1)
	eqSlice(t, "LRange after LInsert", all, err, []string{"h", "a", "B", "b", "3", "C", "4.5", "0", "t", "t"})

	// LPos.
	i, err := c.LPos(ctx, l, "t", keel.LPosOptions{})
	eq(t, "LPos", i, err, 8)
	i, err = c.LPos(ctx, l, "t", keel.LPosOptions{Rank: 2})
	eq(t, "LPos(rank 2)", i, err, 9)
	i, err = c.LPos(ctx, l, "t", keel.LPosOptions{Rank: -1})
	eq(t, "LPos(rank -1)", i, err, 9)
	_, err = c.LPos(ctx, l, "t", keel.LPosOptions{MaxLen: 5})
	wantNil(t, "LPos(beyond MaxLen)", err)
	_, err = c.LPos(ctx, l, "nope", keel.LPosOptions{})
	wantNil(t, "LPos(not found)", err)
	_, err = c.LPos(ctx, k("missing"), "a", keel.LPosOptions{})
	wantNil(t, "LPos(missing key)", err)
	is, err := c.LPosCount(ctx, l, "t", 0, keel.LPosOptions{})
	eqSlice(t, "LPosCount(all)", is, err, []int64{8, 9})
	is, err = c.LPosCount(ctx, l, "t", 1, keel.LPosOptions{Rank: -1})
	eqSlice(t, "LPosCount(1, rank -1)", is, err, []int64{9})
	is, err = c.LPosCount(ctx, l, "nope", 0, keel.LPosOptions{})
	eqSlice(t, "LPosCount(not found)", is, err, []int64{})
	_, err = c.LPos(ctx, l, "t", keel.LPosOptions{Rank: 0, MaxLen: -1})
	wantServerError(t, "LPos(negative MaxLen)", err, resp.ErrGeneric)

	// Pops with a count.
	got, err := c.LPopCount(ctx, l, 2)
	eqSlice(t, "LPopCount(2)", got, err, []string{"h", "a"})
	got, err = c.RPopCount(ctx, l, 3)
	eqSlice(t, "RPopCount(3)", got, err, []string{"t", "t", "0"})
	_, err = c.LPopCount(ctx, k("missing"), 2)
	wantNil(t, "LPopCount(missing)", err)
	_, err = c.RPopCount(ctx, l, -1)
	wantServerError(t, "RPopCount(-1)", err, resp.ErrGeneric)
	// B b 3 C 4.5

	// LMove, RPopLPush.
	s, err := c.LMove(ctx, l, l2, keel.Left, keel.Right)
	eq(t, "LMove(Left, Right)", s, err, "B")
	s, err = c.LMove(ctx, l, l, keel.Right, keel.Left)
	eq(t, "LMove(rotate)", s, err, "4.5")
	s, err = c.RPopLPush(ctx, l, l2)
	eq(t, "RPopLPush", s, err, "C")
	got, err = c.LRange(ctx, l2, 0, -1)
	eqSlice(t, "LRange(dst)", got, err, []string{"C", "B"})
	_, err = c.LMove(ctx, tag+"missing", l2, keel.Left, keel.Left)
	wantNil(t, "LMove(missing)", err)
	_, err = c.RPopLPush(ctx, tag+"missing", l2)
	wantNil(t, "RPopLPush(missing)", err)
	_, err = c.LMove(ctx, l, l2, "left", keel.Left)
	wantArgument(t, "LMove(bad end)", err)

	// LMPop: the first non-empty list.
	kv, err := c.LMPop(ctx, keel.Right, 10, tag+"missing", l2, l)
	if err != nil || kv.Key != l2 || len(kv.Values) != 2 || kv.Values[0] != "B" || kv.Values[1] != "C" {
		t.Errorf("LMPop = %+v, %v; want %s [B C]", kv, err, l2)
	}
	kv, err = c.LMPop(ctx, keel.Left, 1, l2, l)
	if err != nil || kv.Key != l || len(kv.Values) != 1 || kv.Values[0] != "4.5" {
		t.Errorf("LMPop(1) = %+v, %v; want %s [4.5]", kv, err, l)
	}
	_, err = c.LMPop(ctx, keel.Left, 1, l2, tag+"missing")
	wantNil(t, "LMPop(all empty)", err)
	_, err = c.LMPop(ctx, keel.Left, 1)
	wantArgument(t, "LMPop(no keys)", err)
	_, err = c.LMPop(ctx, keel.Left, 0, l)
	wantArgument(t, "LMPop(count 0)", err)
	_, err = c.LMPop(ctx, "MIDDLE", 1, l)
	wantArgument(t, "LMPop(bad end)", err)

	// Typed results in a pipeline.
	p := c.Pipeline()
	push := keel.Queue(p, keel.RPush(k("p"), "x", "y", "x"))
	pos := keel.Queue(p, keel.LPosCount(k("p"), "x", 0, keel.LPosOptions{}))
	pop := keel.Queue(p, keel.LMPop(keel.Left, 2, k("p")))
	p.Exec(ctx)
	eq(t, "queued RPush", push.Val(), push.Err(), 3)
	eqSlice(t, "queued LPosCount", pos.Val(), pos.Err(), []int64{0, 2})
	eqSlice(t, "queued LMPop", pop.Val().Values, pop.Err(), []string{"x", "y"})

	// Wrong type.
	must(t, c.Set(ctx, k("str"), "v"))
	for name, call := range map[string]func() error{
		"LPushX":    func() error { _, err := c.LPushX(ctx, k("str"), "x"); return err },
		"LInsert":   func() error { _, err := c.LInsertAfter(ctx, k("str"), "a", "b"); return err },
		"LPos":      func() error { _, err := c.LPos(ctx, k("str"), "a", keel.LPosOptions{}); return err },
		"LPopCount": func() error { _, err := c.LPopCount(ctx, k("str"), 1); return err },
		"LMPop":     func() error { _, err := c.LMPop(ctx, keel.Left, 1, k("str")); return err },
	} {
		wantServerError(t, name, call(), resp.ErrWrongType)
	}
}
