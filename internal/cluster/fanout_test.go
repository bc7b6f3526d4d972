package cluster

import (
	"errors"
	"testing"

	"github.com/keel-go/keel/resp"
)

func TestKeylessRuleFor(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want keylessKind
	}{
		{[]string{"DBSIZE"}, fanSum},
		{[]string{"KEYS", "*"}, fanConcat},
		{[]string{"FLUSHALL", "ASYNC"}, fanAllOK},
		{[]string{"SCRIPT", "load", "return 1"}, fanSame},
		{[]string{"SCRIPT", "EXISTS", "a", "b"}, fanAnd},
		{[]string{"SCRIPT", "KILL"}, perNode},
		{[]string{"FUNCTION", "RESTORE", "x"}, fanAllOK},
		{[]string{"FUNCTION", "DUMP"}, perNode},
		{[]string{"INFO"}, perNode},
		{[]string{"CLUSTER", "MYID"}, perNode},
		{[]string{"CLUSTER", "nodes"}, anyNode},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "1", "10"}, bySlot},
		{[]string{"CLUSTER"}, anyNode},
		{[]string{"PING"}, anyNode},
		{[]string{"SCAN", "0"}, perNode},
		{[]string{"NOSUCHCOMMAND"}, anyNode},
	} {
		cmd, _ := Lookup(tc.args[0])
		if got := keylessRuleFor(cmd.Name, tc.args).kind; got != tc.want {
			t.Errorf("%v: kind %d, want %d", tc.args, got, tc.want)
		}
	}
}

func TestNamedSlot(t *testing.T) {
	for _, tc := range []struct {
		args []string
		slot int
		ok   bool
	}{
		{[]string{"CLUSTER", "KEYSLOT", "foo"}, Slot("foo"), true},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "42"}, 42, true},
		{[]string{"CLUSTER", "GETKEYSINSLOT", "16383", "5"}, 16383, true},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "16384"}, 0, false},
		{[]string{"CLUSTER", "COUNTKEYSINSLOT", "x"}, 0, false},
		{[]string{"CLUSTER", "KEYSLOT"}, 0, false},
	} {
		s, ok := namedSlot(tc.args)
		if ok != tc.ok || ok && s != tc.slot {
			t.Errorf("namedSlot(%v) = %d, %v; want %d, %v", tc.args, s, ok, tc.slot, tc.ok)
		}
	}
}

func intValue(n int64) resp.Value  { return resp.Value{Kind: resp.KindInteger, Int: n} }
func okStatus(s string) resp.Value { return resp.Value{Kind: resp.KindSimpleString, Str: s} }
func arrayValue(vs ...resp.Value) resp.Value {
	return resp.Value{Kind: resp.KindArray, Elems: vs}
}

func TestMerge(t *testing.T) {
	addrs := []string{"a:1", "b:2", "c:3"}
	results := func(vs ...resp.Value) []resp.Result {
		out := make([]resp.Result, len(vs))
		for i, v := range vs {
			out[i].Value = v
		}
		return out
	}
	v, err := merge(fanSum, addrs, results(intValue(1), intValue(2), intValue(3)), newNodeError)
	if err != nil || v.Int != 6 {
		t.Errorf("sum: %v, %v", v, err)
	}
	v, err = merge(fanConcat, addrs, results(arrayValue(okStatus("x")), arrayValue(), arrayValue(okStatus("y"), okStatus("z"))), newNodeError)
	if got, _ := v.Strings(); err != nil || len(got) != 3 || got[0] != "x" || got[2] != "z" {
		t.Errorf("concat: %v, %v", v, err)
	}
	v, err = merge(fanAnd, addrs, results(arrayValue(intValue(1), intValue(1), intValue(0)), arrayValue(intValue(1), intValue(0), intValue(1)), arrayValue(intValue(1), intValue(1), intValue(1))), newNodeError)
	if err != nil || len(v.Elems) != 3 || v.Elems[0].Int != 1 || v.Elems[1].Int != 0 || v.Elems[2].Int != 0 {
		t.Errorf("and: %v, %v", v, err)
	}
	v, err = merge(fanAllOK, addrs, results(okStatus("OK"), okStatus("OK"), okStatus("OK")), newNodeError)
	if err != nil || v.Str != "OK" {
		t.Errorf("all OK: %v, %v", v, err)
	}
	v, err = merge(fanSame, addrs, results(okStatus("sha"), okStatus("sha"), okStatus("sha")), newNodeError)
	if err != nil || v.Str != "sha" {
		t.Errorf("same: %v, %v", v, err)
	}

	// Disagreements name the node.
	for _, tc := range []struct {
		kind keylessKind
		res  []resp.Result
		bad  string
	}{
		{fanAllOK, results(okStatus("OK"), okStatus("QUEUED"), okStatus("OK")), "b:2"},
		{fanSame, results(okStatus("sha"), okStatus("sha"), okStatus("other")), "c:3"},
		{fanSum, results(intValue(1), okStatus("x"), intValue(1)), "b:2"},
		{fanAnd, results(arrayValue(intValue(1)), arrayValue(intValue(1)), arrayValue(intValue(1), intValue(1))), "c:3"},
	} {
		_, err := merge(tc.kind, addrs, tc.res, newNodeError)
		var ne *NodeError
		if !errors.As(err, &ne) || ne.Addr != tc.bad {
			t.Errorf("kind %d: %v; want a NodeError for %s", tc.kind, err, tc.bad)
		}
	}
}
