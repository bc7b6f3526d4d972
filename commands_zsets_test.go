package keel_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func TestZAddWithAndRanges(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	z := k("z")
	n, err := c.ZAdd(ctx, z, keel.Z{Member: "a", Score: 1}, keel.Z{Member: "b", Score: 2}, keel.Z{Member: "c", Score: 3})
	eq(t, "ZAdd", n, err, 3)

	// NX, XX, GT, LT, CH.
	n, err = c.ZAddWith(ctx, z, keel.ZAddOptions{NX: true}, keel.Z{Member: "a", Score: 10}, keel.Z{Member: "d", Score: 4})
	eq(t, "ZAddWith(NX)", n, err, 1)
	f, err := c.ZScore(ctx, z, "a")
	eq(t, "ZScore after NX", f, err, 1)
	n, err = c.ZAddWith(ctx, z, keel.ZAddOptions{XX: true, CH: true}, keel.Z{Member: "a", Score: 1.5}, keel.Z{Member: "e", Score: 5})
	eq(t, "ZAddWith(XX, CH)", n, err, 1)
	_, err = c.ZScore(ctx, z, "e")
	wantNil(t, "ZScore(e) after XX", err)
	n, err = c.ZAddWith(ctx, z, keel.ZAddOptions{GT: true, CH: true}, keel.Z{Member: "b", Score: 1}, keel.Z{Member: "c", Score: 30})
	eq(t, "ZAddWith(GT, CH)", n, err, 1)
	n, err = c.ZAddWith(ctx, z, keel.ZAddOptions{LT: true, CH: true}, keel.Z{Member: "b", Score: 0.5}, keel.Z{Member: "c", Score: 40})
	eq(t, "ZAddWith(LT, CH)", n, err, 1)
	_, err = c.ZAddWith(ctx, z, keel.ZAddOptions{NX: true, GT: true}, keel.Z{Member: "a", Score: 1})
	wantServerError(t, "ZAddWith(NX, GT)", err, resp.ErrGeneric)
	_, err = c.ZAdd(ctx, z)
	wantArgument(t, "ZAdd()", err)
	_, err = c.ZAdd(ctx, z, keel.Z{Member: "nan", Score: math.NaN()})
	wantArgument(t, "ZAdd(NaN)", err)
	// b 0.5, a 1.5, d 4, c 30

	zs, err := c.ZRangeWithScores(ctx, z, 0, -1)
	eqSlice(t, "ZRangeWithScores", zs, err, []keel.Z{{"b", 0.5}, {"a", 1.5}, {"d", 4}, {"c", 30}})

	// ZRangeBy: rank, score, lex, reverse, limit.
	for _, tc := range []struct {
		name string
		r    keel.ZRangeArgs
		want []string
	}{
		{"rank", keel.ZRangeArgs{Start: "1", Stop: "2"}, []string{"a", "d"}},
		{"rank rev", keel.ZRangeArgs{Start: "0", Stop: "1", Rev: true}, []string{"c", "d"}},
		{"score", keel.ZRangeArgs{Start: "(0.5", Stop: "4", ByScore: true}, []string{"a", "d"}},
		{"score rev limit", keel.ZRangeArgs{Start: "+inf", Stop: "-inf", ByScore: true, Rev: true, Offset: 1, Count: 2}, []string{"d", "a"}},
		{"score limit rest", keel.ZRangeArgs{Start: "-inf", Stop: "+inf", ByScore: true, Offset: 3, Count: -1}, []string{"c"}},
	} {
		got, err := c.ZRangeBy(ctx, z, tc.r)
		eqSlice(t, "ZRangeBy("+tc.name+")", got, err, tc.want)
	}
	zs, err = c.ZRangeByWithScores(ctx, z, keel.ZRangeArgs{Start: "2", Stop: "+inf", ByScore: true})
	eqSlice(t, "ZRangeByWithScores", zs, err, []keel.Z{{"d", 4}, {"c", 30}})
	_, err = c.ZRangeBy(ctx, z, keel.ZRangeArgs{Start: "0", Stop: "1", ByScore: true, ByLex: true})
	wantArgument(t, "ZRangeBy(ByScore, ByLex)", err)
	_, err = c.ZRangeBy(ctx, z, keel.ZRangeArgs{Start: "0", Stop: "1", Count: 1})
	wantServerError(t, "ZRangeBy(rank with LIMIT)", err, resp.ErrGeneric)
	got, err := c.ZRangeBy(ctx, k("missing"), keel.ZRangeArgs{Start: "0", Stop: "-1"})
	eqSlice(t, "ZRangeBy(missing)", got, err, []string{})

	// Lex ranges over equal scores.
	lex := k("lex")
	_, err = c.ZAdd(ctx, lex, keel.Z{Member: "apple"}, keel.Z{Member: "banana"}, keel.Z{Member: "cherry"}, keel.Z{Member: "date"})
	must(t, err)
	got, err = c.ZRangeBy(ctx, lex, keel.ZRangeArgs{Start: "[b", Stop: "(d", ByLex: true})
	eqSlice(t, "ZRangeBy(lex)", got, err, []string{"banana", "cherry"})
	got, err = c.ZRangeBy(ctx, lex, keel.ZRangeArgs{Start: "+", Stop: "-", ByLex: true, Rev: true, Count: 1})
	eqSlice(t, "ZRangeBy(lex rev limit)", got, err, []string{"date"})
	n, err = c.ZLexCount(ctx, lex, "-", "(c")
	eq(t, "ZLexCount", n, err, 2)
	n, err = c.ZRemRangeByLex(ctx, lex, "[c", "+")
	eq(t, "ZRemRangeByLex", n, err, 2)
	n, err = c.ZLexCount(ctx, lex, "-", "+")
	eq(t, "ZLexCount after ZRemRangeByLex", n, err, 2)
	_, err = c.ZLexCount(ctx, lex, "b", "c")
	wantServerError(t, "ZLexCount(bad bound)", err, resp.ErrGeneric)

	// Ranks, scores.
	r, err := c.ZRevRank(ctx, z, "c")
	eq(t, "ZRevRank", r, err, 0)
	_, err = c.ZRevRank(ctx, z, "nope")
	wantNil(t, "ZRevRank(missing member)", err)
	scores, err := c.ZMScore(ctx, z, "a", "nope", "c")
	eqSlice(t, "ZMScore", scores, err, []keel.NullFloat{{Value: 1.5, Valid: true}, {}, {Value: 30, Valid: true}})
	scores, err = c.ZMScore(ctx, k("missing"), "a")
	eqSlice(t, "ZMScore(missing key)", scores, err, []keel.NullFloat{{}})
	_, err = c.ZMScore(ctx, z)
	wantArgument(t, "ZMScore()", err)
}

func TestZSetPopsAndRemoves(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("z") + "}"
	z, z2 := tag+"a", tag+"b"
	fill := func() {
		t.Helper()
		_, err := c.ZAdd(ctx, z, keel.Z{"a", 1}, keel.Z{"b", 2}, keel.Z{"c", 3}, keel.Z{"d", 4}, keel.Z{"e", 5})
		must(t, err)
	}
	fill()

	zs, err := c.ZPopMin(ctx, z, 2)
	eqSlice(t, "ZPopMin(2)", zs, err, []keel.Z{{"a", 1}, {"b", 2}})
	zs, err = c.ZPopMax(ctx, z, 1)
	eqSlice(t, "ZPopMax(1)", zs, err, []keel.Z{{"e", 5}})
	zs, err = c.ZPopMin(ctx, k("missing"), 1)
	eqSlice(t, "ZPopMin(missing)", zs, err, []keel.Z{})

	kz, err := c.ZMPop(ctx, keel.ZMax, 5, tag+"missing", z)
	if err != nil || kz.Key != z || !slices.Equal(kz.Members, []keel.Z{{"d", 4}, {"c", 3}}) {
		t.Errorf("ZMPop(ZMax) = %+v, %v; want %s [d c]", kz, err, z)
	}
	_, err = c.ZMPop(ctx, keel.ZMin, 1, z, z2)
	wantNil(t, "ZMPop(all empty)", err)
	_, err = c.ZMPop(ctx, keel.ZMin, 1)
	wantArgument(t, "ZMPop(no keys)", err)
	_, err = c.ZMPop(ctx, "LOW", 1, z)
	wantArgument(t, "ZMPop(bad end)", err)
	_, err = c.ZMPop(ctx, keel.ZMin, 0, z)
	wantArgument(t, "ZMPop(count 0)", err)

	fill()
	got, err := c.ZRandMember(ctx, z, 10)
	slices.Sort(got)
	eqSlice(t, "ZRandMember(10)", got, err, []string{"a", "b", "c", "d", "e"})
	zs, err = c.ZRandMemberWithScores(ctx, z, -3)
	if err != nil || len(zs) != 3 {
		t.Errorf("ZRandMemberWithScores(-3) = %v, %v", zs, err)
	}
	for _, m := range zs {
		if float64(m.Member[0]-'a'+1) != m.Score {
			t.Errorf("ZRandMemberWithScores gave %+v: wrong score", m)
		}
	}
	got, err = c.ZRandMember(ctx, k("missing"), 2)
	eqSlice(t, "ZRandMember(missing)", got, err, []string{})

	n, err := c.ZRemRangeByRank(ctx, z, 0, 1)
	eq(t, "ZRemRangeByRank", n, err, 2)
	n, err = c.ZRemRangeByScore(ctx, z, "(3", "+inf")
	eq(t, "ZRemRangeByScore", n, err, 2)
	got, err = c.ZRange(ctx, z, 0, -1)
	eqSlice(t, "ZRange after removes", got, err, []string{"c"})
	_, err = c.ZRemRangeByScore(ctx, z, "x", "1")
	wantServerError(t, "ZRemRangeByScore(bad bound)", err, resp.ErrGeneric)

	// Wrong type.
	must(t, c.Set(ctx, tag+"str", "v"))
	for name, call := range map[string]func() error{
		"ZPopMin":   func() error { _, err := c.ZPopMin(ctx, tag+"str", 1); return err },
		"ZMPop":     func() error { _, err := c.ZMPop(ctx, keel.ZMin, 1, tag+"str"); return err },
		"ZRangeBy":  func() error { _, err := c.ZRangeBy(ctx, tag+"str", keel.ZRangeArgs{Start: "0", Stop: "1"}); return err },
		"ZMScore":   func() error { _, err := c.ZMScore(ctx, tag+"str", "a"); return err },
		"ZRevRank":  func() error { _, err := c.ZRevRank(ctx, tag+"str", "a"); return err },
		"ZAddWith":  func() error { _, err := c.ZAddWith(ctx, tag+"str", keel.ZAddOptions{}, keel.Z{"a", 1}); return err },
		"ZLexCount": func() error { _, err := c.ZLexCount(ctx, tag+"str", "-", "+"); return err },
	} {
		wantServerError(t, name, call(), resp.ErrWrongType)
	}
}

func TestZSetCombine(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("z") + "}"
	a, b, d := tag+"a", tag+"b", tag+"dst"
	_, err := c.ZAdd(ctx, a, keel.Z{"x", 1}, keel.Z{"y", 2}, keel.Z{"z", 3})
	must(t, err)
	_, err = c.ZAdd(ctx, b, keel.Z{"y", 10}, keel.Z{"z", 1}, keel.Z{"w", 5})
	must(t, err)

	zs, err := c.ZUnionWithScores(ctx, keel.ZCombine{}, a, b)
	eqSlice(t, "ZUnionWithScores", zs, err, []keel.Z{{"x", 1}, {"z", 4}, {"w", 5}, {"y", 12}})
	zs, err = c.ZUnionWithScores(ctx, keel.ZCombine{Weights: []float64{2, 1}, Aggregate: keel.AggregateMax}, a, b)
	eqSlice(t, "ZUnionWithScores(weights, max)", zs, err, []keel.Z{{"x", 2}, {"w", 5}, {"z", 6}, {"y", 10}})
	got, err := c.ZUnion(ctx, keel.ZCombine{}, a, tag+"missing")
	eqSlice(t, "ZUnion(missing)", got, err, []string{"x", "y", "z"})

	zs, err = c.ZInterWithScores(ctx, keel.ZCombine{Aggregate: keel.AggregateMin}, a, b)
	eqSlice(t, "ZInterWithScores(min)", zs, err, []keel.Z{{"z", 1}, {"y", 2}})
	got, err = c.ZInter(ctx, keel.ZCombine{Weights: []float64{1, -1}}, a, b)
	eqSlice(t, "ZInter(weights)", got, err, []string{"y", "z"}) // y -8, z 2

	got, err = c.ZDiff(ctx, a, b)
	eqSlice(t, "ZDiff", got, err, []string{"x"})
	zs, err = c.ZDiffWithScores(ctx, b, a)
	eqSlice(t, "ZDiffWithScores", zs, err, []keel.Z{{"w", 5}})

	n, err := c.ZUnionStore(ctx, d, keel.ZCombine{}, a, b)
	eq(t, "ZUnionStore", n, err, 4)
	n, err = c.ZInterStore(ctx, d, keel.ZCombine{Weights: []float64{0.5, 0.5}}, a, b)
	eq(t, "ZInterStore", n, err, 2)
	f, err := c.ZScore(ctx, d, "y")
	eq(t, "ZScore after ZInterStore", f, err, 6)
	n, err = c.ZDiffStore(ctx, d, a, b)
	eq(t, "ZDiffStore", n, err, 1)
	n, err = c.ZInterCard(ctx, 0, a, b)
	eq(t, "ZInterCard", n, err, 2)
	n, err = c.ZInterCard(ctx, 1, a, b)
	eq(t, "ZInterCard(limit 1)", n, err, 1)

	for name, err := range map[string]error{
		"ZUnion()":         func() error { _, err := c.ZUnion(ctx, keel.ZCombine{}); return err }(),
		"ZInterStore()":    func() error { _, err := c.ZInterStore(ctx, d, keel.ZCombine{}); return err }(),
		"ZDiff()":          func() error { _, err := c.ZDiff(ctx); return err }(),
		"ZInterCard()":     func() error { _, err := c.ZInterCard(ctx, 0); return err }(),
		"ZUnion(1 weight)": func() error { _, err := c.ZUnion(ctx, keel.ZCombine{Weights: []float64{1}}, a, b); return err }(),
		"ZUnion(NaN weight)": func() error {
			_, err := c.ZUnion(ctx, keel.ZCombine{Weights: []float64{1, math.NaN()}}, a, b)
			return err
		}(),
		"ZUnion(aggregate)": func() error { _, err := c.ZUnion(ctx, keel.ZCombine{Aggregate: "AVG"}, a, b); return err }(),
	} {
		wantArgument(t, name, err)
	}
	other := otherSlot(t, c, ctx, a, k("o"))
	if _, err := c.ZUnionStore(ctx, d, keel.ZCombine{}, a, other); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("ZUnionStore across slots: err = %v, want ErrCrossSlot", err)
	}
	must(t, c.Set(ctx, tag+"str", "v"))
	_, err = c.ZUnion(ctx, keel.ZCombine{}, a, tag+"str")
	wantServerError(t, "ZUnion(string)", err, resp.ErrWrongType)

	// Typed results in a pipeline.
	p := c.Pipeline()
	u := keel.Queue(p, keel.ZUnionWithScores(keel.ZCombine{}, a, b))
	pop := keel.Queue(p, keel.ZPopMax(a, 1))
	mp := keel.Queue(p, keel.ZMPop(keel.ZMin, 1, b))
	p.Exec(ctx)
	eqSlice(t, "queued ZUnionWithScores", u.Val(), u.Err(), []keel.Z{{"x", 1}, {"z", 4}, {"w", 5}, {"y", 12}})
	eqSlice(t, "queued ZPopMax", pop.Val(), pop.Err(), []keel.Z{{"z", 3}})
	eqSlice(t, "queued ZMPop", mp.Val().Members, mp.Err(), []keel.Z{{"z", 1}})
}
