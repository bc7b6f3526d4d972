package keel

import "context"

// SortOptions are the options of Sort and SortStore. The zero value sorts
// the elements as numbers, lowest first.
type SortOptions struct {
	// By sorts by the values of other keys: a pattern whose "*" is replaced
	// by each element ("weight_*", or "hash_*->field"); "nosort" skips
	// sorting. In a cluster, Redis 7 refuses any pattern but "nosort";
	// later versions take one whose hash tag names the sorted key's slot.
	By string
	// Offset and Count limit the result (LIMIT): skip Offset elements,
	// return at most Count. A Count of 0 sends no LIMIT.
	Offset, Count int64
	// Get returns, instead of each element, the values of other keys found
	// by these patterns ("#" is the element itself), one per pattern per
	// element, in order; refused in a cluster as By patterns are. A
	// missing key reads as "".
	Get []string
	// Desc sorts highest first.
	Desc bool
	// Alpha sorts the elements as strings rather than numbers.
	Alpha bool
}

func (o SortOptions) args(name, key string) []string {
	args := []string{name, key}
	if o.By != "" {
		args = append(args, "BY", o.By)
	}
	if o.Count != 0 {
		args = append(args, "LIMIT", formatInt(o.Offset), formatInt(o.Count))
	}
	for _, g := range o.Get {
		args = append(args, "GET", g)
	}
	if o.Desc {
		args = append(args, "DESC")
	}
	if o.Alpha {
		args = append(args, "ALPHA")
	}
	return args
}

// Sort builds SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern…]
// [DESC] [ALPHA]: its result is the elements of the list, set or sorted set
// at key, sorted as o says (the read-only form, which replicas may serve). A
// missing key gives an empty slice; an element that is not a number, without
// Alpha, fails with the server's error.
func Sort(key string, o SortOptions) Cmd[[]string] { return argsCmd(toStrings, o.args("SORT_RO", key)) }

// Sort returns the sorted elements of key; see Sort, the command.
func (c *Client) Sort(ctx context.Context, key string, o SortOptions) ([]string, error) {
	return exec(ctx, c, Sort(key, o))
}

// SortStore builds SORT key … STORE dst: Sort, the result stored as a list
// in dst (replacing it; an empty result deletes it); its result is the
// length of that list. Both keys must be in one slot.
func SortStore(key, dst string, o SortOptions) Cmd[int64] {
	return argsCmd(toInt64, append(o.args("SORT", key), "STORE", dst))
}

// SortStore stores the sorted elements of key in dst; see SortStore, the
// command.
func (c *Client) SortStore(ctx context.Context, key, dst string, o SortOptions) (int64, error) {
	return exec(ctx, c, SortStore(key, dst, o))
}
