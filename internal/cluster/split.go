package cluster

import (
	"cmp"
	"context"
	"slices"

	"github.com/keel-go/keel/resp"
)

// split runs a multi-key command whose keys span several slots as one
// sub-command per slot and merges the replies as cmd.Split says. The
// sub-commands go out as a pipeline: those for one node share a write, and
// each is redirected and retried as Do would. Like the commands it stands
// for, the whole is not atomic across slots: when a part fails, the others
// may have run.
func (e *Engine) split(ctx context.Context, cmd Command, args []string, obs *Observation) (resp.Value, error) {
	step := max(cmd.KeyStep, 1)
	head := args[:cmd.FirstKey] // the name and any arguments before the keys
	keys := args[cmd.FirstKey:]

	// Order the key groups (a key, or a key and its value) by slot; stable,
	// so each slot's keys keep the caller's order.
	type group struct{ slot, index int }
	groups := make([]group, (len(keys)+step-1)/step)
	for k := range groups {
		groups[k] = group{Slot(keys[k*step]), k}
	}
	slices.SortStableFunc(groups, func(a, b group) int { return cmp.Compare(a.slot, b.slot) })
	slots := 0
	for k := range groups {
		if k == 0 || groups[k].slot != groups[k-1].slot {
			slots++
		}
	}

	// One sub-command per slot, all cut from one backing array.
	cmds := make([][]string, 0, slots)
	starts := make([]int, 0, slots+1) // where each sub-command's groups begin in groups
	backing := make([]string, 0, slots*len(head)+len(keys))
	for k, g := range groups {
		if k == 0 || g.slot != groups[k-1].slot {
			if k > 0 {
				cmds = append(cmds, backing[:len(backing):len(backing)])
				backing = backing[len(backing):]
			}
			starts = append(starts, k)
			backing = append(backing, head...)
		}
		backing = append(backing, keys[g.index*step:min(g.index*step+step, len(keys))]...)
	}
	cmds = append(cmds, backing)
	starts = append(starts, len(groups))

	results := e.pipeline(ctx, cmds, obs)
	for _, r := range results {
		if r.Err != nil {
			return r.Value, r.Err
		}
	}

	switch cmd.Split {
	case SplitConcat:
		out := make([]resp.Value, len(groups))
		for p, r := range results {
			for j, g := range groups[starts[p]:starts[p+1]] {
				if j < len(r.Value.Elems) {
					out[g.index] = r.Value.Elems[j]
				}
			}
		}
		return resp.Value{Kind: resp.KindArray, Elems: out}, nil
	case SplitSum:
		var sum int64
		for _, r := range results {
			sum += r.Value.Int
		}
		return resp.Value{Kind: resp.KindInteger, Int: sum}, nil
	default: // SplitAllOK
		return resp.Value{Kind: resp.KindSimpleString, Str: "OK"}, nil
	}
}
