package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/keel-go/keel/resp"
)

// ownPath reports whether a keyless command must not be batched with others
// to one node: it is sent to every primary, refused, or routed by a slot it
// names.
func ownPath(cmd Command, args []string) bool {
	return keylessRuleFor(cmd.Name, args).kind != anyNode
}

// keyless runs a command without keys by its rule (see keylessRules). done
// is false for a command any node may answer, which takes the ordinary path.
func (e *Engine) keyless(ctx context.Context, cmd Command, args []string, obs *Observation) (v resp.Value, err error, done bool) {
	r := keylessRuleFor(cmd.Name, args)
	switch r.kind {
	case anyNode:
		return resp.Value{}, nil, false
	case perNode:
		if cmd.Name == "SCAN" {
			return resp.Value{}, fmt.Errorf("%w: SCAN: its cursor belongs to one node; Client.Scan walks every shard", ErrNeedsNode), true
		}
		return resp.Value{}, fmt.Errorf("%w: %s", ErrNeedsNode, commandName(cmd, args)), true
	case bySlot:
		s, ok := namedSlot(args)
		if !ok {
			return resp.Value{}, nil, false // malformed: the server says why
		}
		cmd.Idempotent = true // it only reads
		v, err = e.run(ctx, cmd, args, s, true, obs)
		return v, err, true
	}
	// A copy: fanOut hands args to goroutines, and without it escape
	// analysis would move every routed command's arguments to the heap.
	v, err = e.fanOut(ctx, r, slices.Clone(args))
	return v, err, true
}

// commandName is the command's name, with its subcommand when it has one.
func commandName(cmd Command, args []string) string {
	if _, ok := subRules[cmd.Name]; ok && len(args) > 1 {
		return cmd.Name + " " + strings.ToUpper(args[1])
	}
	return cmd.Name
}

// namedSlot returns the slot a CLUSTER KEYSLOT key, COUNTKEYSINSLOT slot or
// GETKEYSINSLOT slot count is about.
func namedSlot(args []string) (int, bool) {
	if len(args) < 3 {
		return 0, false
	}
	if strings.EqualFold(args[1], "KEYSLOT") {
		return Slot(args[2]), true
	}
	s, err := strconv.Atoi(args[2])
	return s, err == nil && s >= 0 && s < SlotCount
}

// fanOut sends args to every primary of the current topology at once and
// merges their replies as r says. It fails when any primary failed, with an
// error joining one Options.NodeError per failed primary; a write may then
// have run on the others.
func (e *Engine) fanOut(ctx context.Context, r keylessRule, args []string) (resp.Value, error) {
	t := e.topo.Load()
	if len(t.Shards) == 0 {
		return resp.Value{}, ErrNoNode
	}
	addrs := make([]string, len(t.Shards))
	for i, sh := range t.Shards {
		addrs[i] = sh.Primary.Addr
	}
	retryUnknown := e.opts.RetryUnknownOutcome || r.idempotent
	results := make([]resp.Result, len(addrs))
	runAll(len(addrs), func(k int) {
		results[k].Value, results[k].Err = e.runOn(ctx, addrs[k], args, retryUnknown, nil)
	})
	var errs []error
	for k, res := range results {
		if res.Err != nil {
			errs = append(errs, e.opts.NodeError(addrs[k], res.Err))
		}
	}
	if len(errs) > 0 {
		return resp.Value{}, errors.Join(errs...)
	}
	return merge(r.kind, addrs, results, e.opts.NodeError)
}

// merge combines the replies of every primary; nodeError wraps each reply
// it cannot use.
func merge(kind keylessKind, addrs []string, results []resp.Result, nodeError func(string, error) error) (resp.Value, error) {
	var errs []error
	fail := func(k int, err error) { errs = append(errs, nodeError(addrs[k], err)) }
	var out resp.Value
	switch kind {
	case fanSum:
		out.Kind = resp.KindInteger
		for k, r := range results {
			n, err := r.Value.Int64()
			if err != nil {
				fail(k, err)
			}
			out.Int += n
		}
	case fanConcat:
		out.Kind = resp.KindArray
		out.Elems = []resp.Value{}
		for k, r := range results {
			elems, err := r.Value.Slice()
			if err != nil {
				fail(k, err)
			}
			out.Elems = append(out.Elems, elems...)
		}
	case fanAllOK:
		out = resp.Value{Kind: resp.KindSimpleString, Str: "OK"}
		for k, r := range results {
			if s, err := r.Value.Text(); err != nil || s != "OK" {
				fail(k, fmt.Errorf("%w: %v, want OK", resp.ErrType, r.Value))
			}
		}
	case fanSame:
		out = results[0].Value
		for k, r := range results[1:] {
			if r.Value.String() != out.String() {
				fail(k+1, fmt.Errorf("keel: primaries disagree: %s answered %v, %s answered %v", addrs[0], out, addrs[k+1], r.Value))
			}
		}
	case fanAnd:
		out = resp.Value{Kind: resp.KindArray}
		for k, r := range results {
			elems, err := r.Value.Slice()
			switch {
			case err != nil:
				fail(k, err)
			case k == 0:
				out.Elems = make([]resp.Value, len(elems))
				for i := range out.Elems {
					out.Elems[i] = resp.Value{Kind: resp.KindInteger, Int: 1}
				}
				fallthrough
			case len(elems) == len(out.Elems):
				for i, el := range elems {
					if el.Int == 0 {
						out.Elems[i].Int = 0
					}
				}
			default:
				fail(k, fmt.Errorf("keel: %d replies, want %d", len(elems), len(out.Elems)))
			}
		}
	}
	if len(errs) > 0 {
		return resp.Value{}, errors.Join(errs...)
	}
	return out, nil
}
