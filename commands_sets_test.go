package keel_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func TestSetMoreCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("s") + "}"
	a, b, d, missing := tag+"a", tag+"b", tag+"dst", tag+"missing"
	_, err := c.SAdd(ctx, a, "1", "2", "3", "4")
	must(t, err)
	_, err = c.SAdd(ctx, b, "3", "4", "5")
	must(t, err)

	in, err := c.SMIsMember(ctx, a, "1", "5", "4")
	eqSlice(t, "SMIsMember", in, err, []bool{true, false, true})
	in, err = c.SMIsMember(ctx, missing, "1")
	eqSlice(t, "SMIsMember(missing)", in, err, []bool{false})

	got, err := sorted(c.SInter(ctx, a, b))
	eqSlice(t, "SInter", got, err, []string{"3", "4"})
	got, err = sorted(c.SUnion(ctx, a, b, missing))
	eqSlice(t, "SUnion", got, err, []string{"1", "2", "3", "4", "5"})
	got, err = sorted(c.SDiff(ctx, a, b))
	eqSlice(t, "SDiff", got, err, []string{"1", "2"})
	got, err = c.SInter(ctx, a, missing)
	eqSlice(t, "SInter(missing)", got, err, []string{})

	n, err := c.SInterStore(ctx, d, a, b)
	eq(t, "SInterStore", n, err, 2)
	n, err = c.SUnionStore(ctx, d, a, b)
	eq(t, "SUnionStore", n, err, 5)
	n, err = c.SDiffStore(ctx, d, a, b)
	eq(t, "SDiffStore", n, err, 2)
	got, err = sorted(c.SMembers(ctx, d))
	eqSlice(t, "SMembers(dst)", got, err, []string{"1", "2"})
	n, err = c.SInterStore(ctx, d, a, missing)
	eq(t, "SInterStore(empty)", n, err, 0)
	ex, err := c.Exists(ctx, d)
	eq(t, "Exists(dst) after an empty store", ex, err, 0)

	n, err = c.SInterCard(ctx, 0, a, b)
	eq(t, "SInterCard", n, err, 2)
	n, err = c.SInterCard(ctx, 1, a, b)
	eq(t, "SInterCard(limit 1)", n, err, 1)
	_, err = c.SInterCard(ctx, -1, a, b)
	wantServerError(t, "SInterCard(limit -1)", err, resp.ErrGeneric)

	ok, err := c.SMove(ctx, a, b, "1")
	eq(t, "SMove", ok, err, true)
	ok, err = c.SMove(ctx, a, b, "1")
	eq(t, "SMove(not a member)", ok, err, false)
	ok, err = c.SIsMember(ctx, b, "1")
	eq(t, "SIsMember after SMove", ok, err, true)

	// Pops and random members with a count. a is {2 3 4}.
	got, err = c.SRandMemberCount(ctx, a, 10)
	slices.Sort(got)
	eqSlice(t, "SRandMemberCount(10)", got, err, []string{"2", "3", "4"})
	got, err = c.SRandMemberCount(ctx, a, -5)
	if err != nil || len(got) != 5 {
		t.Errorf("SRandMemberCount(-5) = %v, %v; want 5 members", got, err)
	}
	got, err = c.SRandMemberCount(ctx, missing, 2)
	eqSlice(t, "SRandMemberCount(missing)", got, err, []string{})
	got, err = c.SPopCount(ctx, a, 2)
	if err != nil || len(got) != 2 {
		t.Errorf("SPopCount(2) = %v, %v", got, err)
	}
	n, err = c.SCard(ctx, a)
	eq(t, "SCard after SPopCount", n, err, 1)
	got, err = c.SPopCount(ctx, missing, 2)
	eqSlice(t, "SPopCount(missing)", got, err, []string{})
	_, err = c.SPopCount(ctx, a, -1)
	wantServerError(t, "SPopCount(-1)", err, resp.ErrGeneric)

	// Bad input sends nothing.
	for name, err := range map[string]error{
		"SAdd()":       func() error { _, err := c.SAdd(ctx, a); return err }(),
		"SRem()":       func() error { _, err := c.SRem(ctx, a); return err }(),
		"SMIsMember()": func() error { _, err := c.SMIsMember(ctx, a); return err }(),
		"SInter()":     func() error { _, err := c.SInter(ctx); return err }(),
		"SUnionStore":  func() error { _, err := c.SUnionStore(ctx, d); return err }(),
		"SInterCard()": func() error { _, err := c.SInterCard(ctx, 0); return err }(),
	} {
		wantArgument(t, name, err)
	}
	other := otherSlot(t, c, ctx, a, k("o"))
	if _, err := c.SInter(ctx, a, other); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("SInter across slots: err = %v, want ErrCrossSlot", err)
	}

	// Typed results in a pipeline.
	p := c.Pipeline()
	add := keel.Queue(p, keel.SAdd(k("p"), "x", "y"))
	mis := keel.Queue(p, keel.SMIsMember(k("p"), "y", "z"))
	card := keel.Queue(p, keel.SInterCard(0, k("p")))
	p.Exec(ctx)
	eq(t, "queued SAdd", add.Val(), add.Err(), 2)
	eqSlice(t, "queued SMIsMember", mis.Val(), mis.Err(), []bool{true, false})
	eq(t, "queued SInterCard", card.Val(), card.Err(), 2)

	// Wrong type.
	must(t, c.Set(ctx, tag+"str", "v"))
	for name, call := range map[string]func() error{
		"SMIsMember": func() error { _, err := c.SMIsMember(ctx, tag+"str", "x"); return err },
		"SInter":     func() error { _, err := c.SInter(ctx, a, tag+"str"); return err },
		"SMove":      func() error { _, err := c.SMove(ctx, tag+"str", b, "x"); return err },
		"SPopCount":  func() error { _, err := c.SPopCount(ctx, tag+"str", 1); return err },
	} {
		wantServerError(t, name, call(), resp.ErrWrongType)
	}
}
