package resp_test

import (
	"io"
	"math"
	"strings"
	"testing"

	"github.com/keel-go/keel/resp"
)

// Constructors that keep the tables short.

func simple(s string) resp.Value  { return resp.Value{Kind: resp.KindSimpleString, Str: s} }
func errv(s string) resp.Value    { return resp.Value{Kind: resp.KindError, Str: s} }
func integer(n int64) resp.Value  { return resp.Value{Kind: resp.KindInteger, Int: n} }
func bulk(s string) resp.Value    { return resp.Value{Kind: resp.KindBulkString, Str: s} }
func double(f float64) resp.Value { return resp.Value{Kind: resp.KindDouble, Float: f} }
func bignum(s string) resp.Value  { return resp.Value{Kind: resp.KindBigNumber, Str: s} }
func verbatim(s string) resp.Value {
	return resp.Value{Kind: resp.KindVerbatim, Str: s}
}

func boolean(b bool) resp.Value {
	v := resp.Value{Kind: resp.KindBoolean}
	if b {
		v.Int = 1
	}
	return v
}

func null() resp.Value                 { return resp.Value{Kind: resp.KindNull} }
func array(e ...resp.Value) resp.Value { return resp.Value{Kind: resp.KindArray, Elems: e} }
func set(e ...resp.Value) resp.Value   { return resp.Value{Kind: resp.KindSet, Elems: e} }
func push(e ...resp.Value) resp.Value  { return resp.Value{Kind: resp.KindPush, Elems: e} }
func rmap(kv ...resp.Value) resp.Value { return resp.Value{Kind: resp.KindMap, Elems: kv} }

func withAttrs(v resp.Value, kv ...resp.Value) resp.Value {
	v.Attrs = kv
	return v
}

// equal compares two Values field by field. Unlike reflect.DeepEqual it
// treats two NaN doubles as equal and a nil slice as equal to an empty one
// (the Reader returns a non-nil empty slice for "*0\r\n").
func equal(a, b resp.Value) bool {
	if a.Kind != b.Kind || a.Str != b.Str || a.Int != b.Int {
		return false
	}
	if a.Float != b.Float && !(math.IsNaN(a.Float) && math.IsNaN(b.Float)) {
		return false
	}
	// -0 and +0 compare equal with ==; tell them apart.
	if math.Signbit(a.Float) != math.Signbit(b.Float) && !math.IsNaN(a.Float) {
		return false
	}
	return equalSlices(a.Elems, b.Elems) && equalSlices(a.Attrs, b.Attrs)
}

func equalSlices(a, b []resp.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// encoded returns what Read(AppendValue(v)) is documented to give back: v
// itself, except that a simple string holding CR or LF comes back as a bulk
// string (an error holding them stays an error, sent as a blob error), an
// invalid big number or verbatim string comes back as a bulk string, a
// boolean comes back as 0 or 1, and odd elements out of maps and attributes
// are dropped.
func encoded(v resp.Value) resp.Value {
	switch v.Kind {
	case resp.KindSimpleString:
		if strings.ContainsAny(v.Str, "\r\n") {
			v.Kind = resp.KindBulkString
		}
	case resp.KindBigNumber:
		if !validBigNumber(v.Str) {
			v.Kind = resp.KindBulkString
		}
	case resp.KindVerbatim:
		if len(v.Str) < 4 || v.Str[3] != ':' {
			v.Kind = resp.KindBulkString
		}
	case resp.KindBoolean:
		if v.Int != 0 {
			v.Int = 1
		}
	}
	if v.Kind == resp.KindMap {
		v.Elems = v.Elems[:len(v.Elems)/2*2]
	}
	if v.Elems != nil {
		elems := make([]resp.Value, len(v.Elems))
		for i, e := range v.Elems {
			elems[i] = encoded(e)
		}
		v.Elems = elems
	}
	if len(v.Attrs) < 2 {
		v.Attrs = nil
	} else {
		attrs := make([]resp.Value, len(v.Attrs)/2*2)
		for i := range attrs {
			attrs[i] = encoded(v.Attrs[i])
		}
		v.Attrs = attrs
	}
	return v
}

func validBigNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readOne reads the single value that in holds.
func readOne(t testing.TB, in string) resp.Value {
	t.Helper()
	r := resp.NewReader(strings.NewReader(in), resp.Limits{})
	v, err := r.Read()
	if err != nil {
		t.Fatalf("Read(%q): %v", in, err)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("Read(%q): %v after the value, want io.EOF", in, err)
	}
	return v
}
