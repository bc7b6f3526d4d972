package keel_test

import (
	"testing"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func TestSortCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("sort") + "}"
	l := tag + "l"
	_, err := c.RPush(ctx, l, 3, 1, 2)
	must(t, err)
	must(t, c.MSet(ctx, tag+"w_1", 30, tag+"w_2", 10, tag+"w_3", 20, tag+"name_1", "one", tag+"name_3", "three"))

	for _, tc := range []struct {
		name string
		o    keel.SortOptions
		want []string
	}{
		{"numbers", keel.SortOptions{}, []string{"1", "2", "3"}},
		{"desc limit", keel.SortOptions{Desc: true, Offset: 1, Count: 5}, []string{"2", "1"}},
		{"nosort", keel.SortOptions{By: "nosort"}, []string{"3", "1", "2"}},
	} {
		got, err := c.Sort(ctx, l, tc.o)
		eqSlice(t, "Sort("+tc.name+")", got, err, tc.want)
	}
	// Patterns in the key's slot: Redis 7 refuses them in a cluster, later
	// versions run them.
	for _, tc := range []struct {
		name string
		o    keel.SortOptions
		want []string
	}{
		{"by", keel.SortOptions{By: tag + "w_*"}, []string{"2", "3", "1"}},
		{"get", keel.SortOptions{Get: []string{"#", tag + "name_*"}}, []string{"1", "one", "2", "", "3", "three"}},
	} {
		got, err := c.Sort(ctx, l, tc.o)
		if err != nil {
			wantServerError(t, "Sort("+tc.name+")", err, resp.ErrGeneric)
			continue
		}
		eqSlice(t, "Sort("+tc.name+")", got, err, tc.want)
	}
	_, err = c.SAdd(ctx, tag+"words", "pear", "apple", "fig")
	must(t, err)
	got, err := c.Sort(ctx, tag+"words", keel.SortOptions{Alpha: true})
	eqSlice(t, "Sort(alpha)", got, err, []string{"apple", "fig", "pear"})
	_, err = c.Sort(ctx, tag+"words", keel.SortOptions{})
	wantServerError(t, "Sort(words as numbers)", err, resp.ErrGeneric)
	got, err = c.Sort(ctx, tag+"missing", keel.SortOptions{})
	eqSlice(t, "Sort(missing)", got, err, []string{})
	// A pattern outside the key's slot is refused by every version.
	_, err = c.Sort(ctx, l, keel.SortOptions{By: k("untagged") + "_*"})
	wantServerError(t, "Sort(BY another slot)", err, resp.ErrGeneric)

	n, err := c.SortStore(ctx, l, tag+"dst", keel.SortOptions{Desc: true})
	eq(t, "SortStore", n, err, 3)
	got, err = c.LRange(ctx, tag+"dst", 0, -1)
	eqSlice(t, "LRange(sorted)", got, err, []string{"3", "2", "1"})

	must(t, c.Set(ctx, tag+"str", "v"))
	_, err = c.Sort(ctx, tag+"str", keel.SortOptions{})
	wantServerError(t, "Sort(string)", err, resp.ErrWrongType)

	p := c.Pipeline()
	sorted := keel.Queue(p, keel.Sort(l, keel.SortOptions{Count: 1}))
	p.Exec(ctx)
	eqSlice(t, "queued Sort", sorted.Val(), sorted.Err(), []string{"1"})
}
