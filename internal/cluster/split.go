package cluster

import (
	"context"
	"sync"

	"github.com/keel-go/keel/resp"
)

// split runs a multi-key command whose keys span several slots as one
// sub-command per slot, concurrently, and merges the replies as cmd.Split
// says. Like the commands it stands for, the whole is not atomic across
// slots: when a part fails, the others may have run.
func (e *Engine) split(ctx context.Context, cmd Command, args []string) (resp.Value, error) {
	step := max(cmd.KeyStep, 1)
	type part struct {
		slot    int
		args    []string
		indexes []int // for SplitConcat: each key's position in the caller's list
		reply   resp.Value
		err     error
	}
	var parts []*part
	bySlot := map[int]*part{}
	for i, k := 0, 0; cmd.FirstKey+i < len(args); i, k = i+step, k+1 {
		group := args[cmd.FirstKey+i : min(cmd.FirstKey+i+step, len(args))]
		s := Slot(group[0])
		p := bySlot[s]
		if p == nil {
			p = &part{slot: s, args: append([]string{args[0]}, args[1:cmd.FirstKey]...)}
			bySlot[s] = p
			parts = append(parts, p)
		}
		p.args = append(p.args, group...)
		p.indexes = append(p.indexes, k)
	}

	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.reply, p.err = e.run(ctx, cmd, p.args, p.slot, true)
		}()
	}
	wg.Wait()
	for _, p := range parts {
		if p.err != nil {
			return p.reply, p.err
		}
	}

	switch cmd.Split {
	case SplitConcat:
		n := 0
		for _, p := range parts {
			n += len(p.indexes)
		}
		out := make([]resp.Value, n)
		for _, p := range parts {
			for j, idx := range p.indexes {
				if j < len(p.reply.Elems) {
					out[idx] = p.reply.Elems[j]
				}
			}
		}
		return resp.Value{Kind: resp.KindArray, Elems: out}, nil
	case SplitSum:
		var sum int64
		for _, p := range parts {
			sum += p.reply.Int
		}
		return resp.Value{Kind: resp.KindInteger, Int: sum}, nil
	default: // SplitAllOK
		return resp.Value{Kind: resp.KindSimpleString, Str: "OK"}, nil
	}
}
