package keel

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/keel-go/keel/resp"
)

func bulk(s string) Value      { return Value{Kind: resp.KindBulkString, Str: s} }
func double(f float64) Value   { return Value{Kind: resp.KindDouble, Float: f} }
func array(e ...Value) Value   { return Value{Kind: resp.KindArray, Elems: e} }
func respMap(e ...Value) Value { return Value{Kind: resp.KindMap, Elems: e} }

var null = Value{Kind: resp.KindNull}

// TestConvertCommandReplies covers the reply shapes of both protocols that
// the cluster under test (RESP3) does not send.
func TestConvertCommandReplies(t *testing.T) {
	for _, v := range []Value{
		respMap(bulk("a"), bulk("1"), bulk("b"), bulk("2")), // RESP3
		array(bulk("a"), bulk("1"), bulk("b"), bulk("2")),   // RESP2
	} {
		m, err := toStringMap(v, nil)
		if err != nil || fmt.Sprint(m) != "map[a:1 b:2]" {
			t.Errorf("toStringMap(%v) = %v, %v", v, m, err)
		}
	}
	if _, err := toStringMap(array(bulk("a")), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toStringMap(odd) err = %v, want ErrType", err)
	}

	want := []Z{{"a", 1.5}, {"b", math.Inf(1)}}
	for _, v := range []Value{
		array(array(bulk("a"), double(1.5)), array(bulk("b"), double(math.Inf(1)))), // RESP3
		array(bulk("a"), bulk("1.5"), bulk("b"), bulk("inf")),                       // RESP2
	} {
		zs, err := toZs(v, nil)
		if err != nil || fmt.Sprint(zs) != fmt.Sprint(want) {
			t.Errorf("toZs(%v) = %v, %v; want %v", v, zs, err, want)
		}
	}
	for _, v := range []Value{array(bulk("a")), array(array(bulk("a")))} {
		if _, err := toZs(v, nil); !errors.Is(err, resp.ErrType) {
			t.Errorf("toZs(%v) err = %v, want ErrType", v, err)
		}
	}

	ns, err := toNullStrings(array(bulk("x"), null), nil)
	if err != nil || fmt.Sprint(ns) != "[{x true} { false}]" {
		t.Errorf("toNullStrings = %v, %v", ns, err)
	}
	if _, err := toString(null, nil); !errors.Is(err, ErrNil) {
		t.Errorf("toString(null) err = %v, want ErrNil", err)
	}
	if f, err := toFloat(bulk("2.5"), nil); err != nil || f != 2.5 {
		t.Errorf("toFloat(bulk) = %v, %v", f, err)
	}
	ok, err := toWritten(null, nil)
	if err != nil || ok {
		t.Errorf("toWritten(null) = %v, %v", ok, err)
	}
	ok, err = toWritten(Value{Kind: resp.KindSimpleString, Str: "OK"}, nil)
	if err != nil || !ok {
		t.Errorf("toWritten(OK) = %v, %v", ok, err)
	}
	if err := toOK(bulk("nope"), nil); !errors.Is(err, resp.ErrType) {
		t.Errorf("toOK(bulk) err = %v, want ErrType", err)
	}
	sentinel := errors.New("transport")
	if _, err := toInt64(Value{}, sentinel); err != sentinel {
		t.Errorf("toInt64 passed err %v, want %v", err, sentinel)
	}

	for d, want := range map[time.Duration]string{
		0: "0", 300 * time.Microsecond: "1", 1500 * time.Microsecond: "1", 2 * time.Second: "2000", -time.Second: "-1000",
	} {
		if got := formatMs(d); got != want {
			t.Errorf("formatMs(%v) = %s, want %s", d, got, want)
		}
	}
	for f, want := range map[float64]string{1.5: "1.5", math.Inf(1): "+inf", math.Inf(-1): "-inf", 1e21: "1e+21"} {
		if got := formatFloat(f); got != want {
			t.Errorf("formatFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
