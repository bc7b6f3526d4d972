package cluster

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/keel-go/keel/resp"
)

// commandInfo is what the server told of one command in its COMMAND INFO
// reply: how to find its keys and the flags that matter for routing.
type commandInfo struct {
	name     string // upper case; for a subcommand, the part after "|"
	known    bool   // false: the server does not know the command either
	readOnly bool   // flagged "readonly": a replica may serve it
	blocking bool   // flagged "blocking"
	// specs find the keys; nil when the command has none, or when they
	// cannot be told from the reply (movable keys without key specs).
	specs []keySpec
	subs  []commandInfo // subcommands (OBJECT ENCODING, a module's …)
}

// keySpec is one Redis 7 key specification: where a run of keys begins in
// the arguments, then how many keys it holds.
type keySpec struct {
	// begin_search: at a fixed index (index > 0), or just after the first
	// occurrence of keyword searched from startFrom (negative: counted from
	// the end, searching backwards).
	index     int
	keyword   string
	startFrom int

	// find_keys: a range (lastKey relative to the beginning, negative from
	// the end; with limit n > 0 and lastKey -1, a 1/n share of what is left)
	// or, with keyNum, a count at keyNumIdx followed at firstKey by that many
	// keys; both relative to where the search began.
	keyNum    bool
	lastKey   int
	keyStep   int
	limit     int
	keyNumIdx int
	firstKey  int
}

// errCommandInfo wraps what is wrong with a COMMAND INFO reply.
var errCommandInfo = errors.New("keel: unexpected COMMAND INFO reply")

// parseCommandInfo reads the reply to COMMAND INFO name: an array with one
// entry, null when the server does not know the command. It reads RESP2 and
// RESP3 alike (maps and flat key/value arrays, sets and arrays).
func parseCommandInfo(v resp.Value) (commandInfo, error) {
	if err := v.Err(); err != nil {
		return commandInfo{}, err
	}
	elems, err := v.Slice()
	if err != nil || len(elems) != 1 {
		return commandInfo{}, fmt.Errorf("%w: %s", errCommandInfo, v)
	}
	if elems[0].Kind == resp.KindNull {
		return commandInfo{}, nil
	}
	return parseCommandEntry(elems[0])
}

// parseCommandEntry reads one command's entry: name, arity, flags, first
// key, last key, step, ACL categories, tips, key specs, subcommands (the
// last four only from Redis 6 and 7 on).
func parseCommandEntry(v resp.Value) (commandInfo, error) {
	f, err := v.Slice()
	if err != nil || len(f) < 6 {
		return commandInfo{}, fmt.Errorf("%w: entry %s", errCommandInfo, v)
	}
	name, err := f[0].Text()
	if err != nil {
		return commandInfo{}, fmt.Errorf("%w: name %s", errCommandInfo, f[0])
	}
	ci := commandInfo{name: strings.ToUpper(name), known: true}
	if _, sub, ok := strings.Cut(ci.name, "|"); ok {
		ci.name = sub
	}
	flags, err := f[2].Strings()
	if err != nil {
		return commandInfo{}, fmt.Errorf("%w: %s flags %s", errCommandInfo, name, f[2])
	}
	movable := false
	for _, fl := range flags {
		switch strings.ToLower(fl) {
		case "readonly":
			ci.readOnly = true
		case "blocking":
			ci.blocking = true
		case "movablekeys":
			movable = true
		}
	}
	if len(f) > 8 {
		specs, err := f[8].Slice()
		if err != nil {
			return commandInfo{}, fmt.Errorf("%w: %s key specs %s", errCommandInfo, name, f[8])
		}
		for _, s := range specs {
			ks, ok, err := parseKeySpec(s)
			if err != nil {
				return commandInfo{}, fmt.Errorf("%w: %s: %w", errCommandInfo, name, err)
			}
			if ok {
				ci.specs = append(ci.specs, ks)
			}
		}
	} else if !movable {
		// Before key specs (Redis 6): first, last and step, which are
		// complete unless the keys move.
		first, err1 := f[3].Int64()
		last, err2 := f[4].Int64()
		step, err3 := f[5].Int64()
		if err := errors.Join(err1, err2, err3); err != nil {
			return commandInfo{}, fmt.Errorf("%w: %s key positions: %w", errCommandInfo, name, err)
		}
		if first > 0 && step > 0 {
			lastKey := int(last)
			if last >= 0 {
				lastKey = int(last - first)
			}
			ci.specs = []keySpec{{index: int(first), lastKey: lastKey, keyStep: int(step)}}
		}
	}
	if len(f) > 9 {
		subs, err := f[9].Slice()
		if err != nil {
			return commandInfo{}, fmt.Errorf("%w: %s subcommands %s", errCommandInfo, name, f[9])
		}
		for _, s := range subs {
			sub, err := parseCommandEntry(s)
			if err != nil {
				return commandInfo{}, err
			}
			ci.subs = append(ci.subs, sub)
		}
	}
	return ci, nil
}

// fieldsOf returns the key/value pairs of a RESP3 map or of the flat array
// RESP2 sends in its place, by key.
func fieldsOf(v resp.Value) (map[string]resp.Value, error) {
	elems, err := v.Slice()
	if err != nil || len(elems)%2 != 0 {
		return nil, fmt.Errorf("not a map: %s", v)
	}
	m := make(map[string]resp.Value, len(elems)/2)
	for i := 0; i < len(elems); i += 2 {
		k, err := elems[i].Text()
		if err != nil {
			return nil, fmt.Errorf("map key %s", elems[i])
		}
		m[strings.ToLower(k)] = elems[i+1]
	}
	return m, nil
}

// intField returns m[key] as an int.
func intField(m map[string]resp.Value, key string) (int, error) {
	v, ok := m[key]
	if !ok {
		return 0, fmt.Errorf("no %s", key)
	}
	n, err := v.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return int(n), nil
}

// parseKeySpec reads one key specification. ok is false for a spec keel
// cannot follow (begin_search or find_keys "unknown"): its keys are left
// for the server to find.
func parseKeySpec(v resp.Value) (ks keySpec, ok bool, err error) {
	m, err := fieldsOf(v)
	if err != nil {
		return ks, false, fmt.Errorf("key spec: %w", err)
	}
	bsType, bsSpec, err := typedSpec(m, "begin_search")
	if err != nil {
		return ks, false, err
	}
	switch bsType {
	case "index":
		if ks.index, err = intField(bsSpec, "index"); err != nil {
			return ks, false, fmt.Errorf("begin_search: %w", err)
		}
		if ks.index < 1 {
			return ks, false, fmt.Errorf("begin_search index %d", ks.index)
		}
	case "keyword":
		kw, found := bsSpec["keyword"]
		if !found {
			return ks, false, errors.New("begin_search: no keyword")
		}
		if ks.keyword, err = kw.Text(); err != nil || ks.keyword == "" {
			return ks, false, fmt.Errorf("begin_search keyword %s", kw)
		}
		if ks.startFrom, err = intField(bsSpec, "startfrom"); err != nil {
			return ks, false, fmt.Errorf("begin_search: %w", err)
		}
	default:
		return ks, false, nil
	}
	fkType, fkSpec, err := typedSpec(m, "find_keys")
	if err != nil {
		return ks, false, err
	}
	switch fkType {
	case "range":
		ks.lastKey, err = intField(fkSpec, "lastkey")
		if err == nil {
			ks.keyStep, err = intField(fkSpec, "keystep")
		}
		if err == nil {
			ks.limit, err = intField(fkSpec, "limit")
		}
	case "keynum":
		ks.keyNum = true
		ks.keyNumIdx, err = intField(fkSpec, "keynumidx")
		if err == nil {
			ks.firstKey, err = intField(fkSpec, "firstkey")
		}
		if err == nil {
			ks.keyStep, err = intField(fkSpec, "keystep")
		}
	default:
		return ks, false, nil
	}
	if err != nil {
		return ks, false, fmt.Errorf("find_keys: %w", err)
	}
	if ks.keyStep < 1 || ks.limit < 0 {
		return ks, false, fmt.Errorf("find_keys keystep %d, limit %d", ks.keyStep, ks.limit)
	}
	return ks, true, nil
}

// typedSpec returns the type and spec of the begin_search or find_keys part
// of a key spec.
func typedSpec(m map[string]resp.Value, part string) (string, map[string]resp.Value, error) {
	v, ok := m[part]
	if !ok {
		return "", nil, fmt.Errorf("key spec without %s", part)
	}
	pm, err := fieldsOf(v)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", part, err)
	}
	tv, ok := pm["type"]
	if !ok {
		return "", nil, fmt.Errorf("%s without type", part)
	}
	typ, err := tv.Text()
	if err != nil {
		return "", nil, fmt.Errorf("%s type %s", part, tv)
	}
	spec := map[string]resp.Value{}
	if sv, ok := pm["spec"]; ok {
		if spec, err = fieldsOf(sv); err != nil {
			return "", nil, fmt.Errorf("%s spec: %w", part, err)
		}
	}
	return strings.ToLower(typ), spec, nil
}

// spans finds the keys of args the way the server does with key specs,
// skipping a spec whose arguments don't fit it (the server then reports the
// syntax error itself).
func (ci *commandInfo) spans(args []string) []keySpan {
	var out []keySpan
	for i := range ci.specs {
		if s, ok := ci.specs[i].span(args); ok {
			out = append(out, s)
		}
	}
	return out
}

// span is one spec's run of keys in args.
func (ks *keySpec) span(args []string) (keySpan, bool) {
	argc := len(args)
	first := 0
	if ks.keyword == "" {
		first = ks.index
	} else {
		// As the server searches: forwards up to the second-to-last
		// argument (a keyword at the end has no key after it), or
		// backwards down to the second.
		start, end, dir := ks.startFrom, argc-1, 1
		if start <= 0 {
			start, end, dir = argc+start, 1, -1
		}
		for i := start; i != end && i >= 1 && i < argc; i += dir {
			if strings.EqualFold(args[i], ks.keyword) {
				first = i + 1
				break
			}
		}
		if first == 0 {
			return keySpan{}, false
		}
	}
	var last int
	if !ks.keyNum {
		switch {
		case ks.lastKey >= 0:
			last = first + ks.lastKey
		case ks.limit == 0:
			last = argc + ks.lastKey
		default:
			last = first + (argc-first)/ks.limit + ks.lastKey
		}
	} else {
		if ks.keyNumIdx >= argc-first {
			return keySpan{}, false
		}
		n, err := strconv.Atoi(args[first+ks.keyNumIdx])
		if err != nil || n < 0 {
			return keySpan{}, false
		}
		first += ks.firstKey
		last = first + n - 1
	}
	if last >= argc || last < first || first >= argc {
		return keySpan{}, false
	}
	return keySpan{first, last + 1, ks.keyStep}, true
}
