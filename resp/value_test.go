package resp_test

import (
	"errors"
	"math"
	"math/big"
	"slices"
	"testing"

	"github.com/keel-go/keel/resp"
)

// checkErr checks an accessor's error against want, which is nil, ErrNil,
// ErrType, or an *resp.Error that the returned error must be.
func checkErr(t *testing.T, what string, v resp.Value, err, want error) {
	t.Helper()
	switch want := want.(type) {
	case nil:
		if err != nil {
			t.Errorf("%s of %v: unexpected error %v", what, v, err)
		}
	case *resp.Error:
		var got *resp.Error
		if !errors.As(err, &got) || got.Msg != want.Msg || got.Code != want.Code {
			t.Errorf("%s of %v: error %#v, want the server error %#v", what, v, err, want)
		}
	default:
		if !errors.Is(err, want) {
			t.Errorf("%s of %v: error %v, want %v", what, v, err, want)
		}
		if want == resp.ErrNil && err != resp.ErrNil {
			t.Errorf("%s of %v: error %v, want ErrNil itself", what, v, err)
		}
	}
}

var serverErr = errv("WRONGTYPE Operation against a key holding the wrong kind of value")
var serverErrWant = &resp.Error{Code: "WRONGTYPE", Msg: serverErr.Str}

func TestText(t *testing.T) {
	tests := []struct {
		v       resp.Value
		want    string
		wantErr error
	}{
		{simple("OK"), "OK", nil},
		{bulk("a\r\nb"), "a\r\nb", nil},
		{bulk(""), "", nil},
		{verbatim("txt:Some string"), "Some string", nil},
		{verbatim("mkd:"), "", nil},
		{verbatim("ab"), "ab", nil},
		{bignum("-123456789012345678901234567890"), "-123456789012345678901234567890", nil},
		{integer(-42), "-42", nil},
		{integer(math.MinInt64), "-9223372036854775808", nil},
		{double(1.5), "1.5", nil},
		{double(1e21), "1e+21", nil},
		{double(math.Inf(1)), "+Inf", nil},
		{double(math.Inf(-1)), "-Inf", nil},
		{double(math.NaN()), "NaN", nil},
		{null(), "", resp.ErrNil},
		{serverErr, "", serverErrWant},
		{boolean(true), "", resp.ErrType},
		{array(bulk("a")), "", resp.ErrType},
		{rmap(), "", resp.ErrType},
		{set(), "", resp.ErrType},
		{push(), "", resp.ErrType},
		{resp.Value{}, "", resp.ErrType},
	}
	for _, tt := range tests {
		got, err := tt.v.Text()
		checkErr(t, "Text", tt.v, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("Text of %v = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestInt64(t *testing.T) {
	tests := []struct {
		v       resp.Value
		want    int64
		wantErr error
	}{
		{integer(7), 7, nil},
		{integer(math.MaxInt64), math.MaxInt64, nil},
		{integer(math.MinInt64), math.MinInt64, nil},
		{boolean(true), 1, nil},
		{boolean(false), 0, nil},
		{simple("12"), 12, nil},
		{bulk("-5"), -5, nil},
		{bignum("123"), 123, nil},
		{bignum("123456789012345678901234567890"), 0, resp.ErrType},
		{bulk("abc"), 0, resp.ErrType},
		{bulk("1.5"), 0, resp.ErrType},
		{bulk(""), 0, resp.ErrType},
		{verbatim("txt:1"), 0, resp.ErrType},
		{double(1), 0, resp.ErrType},
		{array(integer(1)), 0, resp.ErrType},
		{null(), 0, resp.ErrNil},
		{serverErr, 0, serverErrWant},
	}
	for _, tt := range tests {
		got, err := tt.v.Int64()
		checkErr(t, "Int64", tt.v, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("Int64 of %v = %d, want %d", tt.v, got, tt.want)
		}
	}
}

func TestFloat64(t *testing.T) {
	tests := []struct {
		v       resp.Value
		want    float64
		wantErr error
	}{
		{double(1.5), 1.5, nil},
		{double(math.Inf(-1)), math.Inf(-1), nil},
		{double(math.NaN()), math.NaN(), nil},
		{integer(-3), -3, nil},
		{bulk("2.5"), 2.5, nil},
		{simple("1e3"), 1000, nil},
		{bulk("inf"), math.Inf(1), nil},
		{bignum("12"), 12, nil},
		{bulk("x"), 0, resp.ErrType},
		{boolean(true), 0, resp.ErrType},
		{verbatim("txt:1"), 0, resp.ErrType},
		{set(), 0, resp.ErrType},
		{null(), 0, resp.ErrNil},
		{serverErr, 0, serverErrWant},
	}
	for _, tt := range tests {
		got, err := tt.v.Float64()
		checkErr(t, "Float64", tt.v, err, tt.wantErr)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("Float64 of %v = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		v       resp.Value
		want    bool
		wantErr error
	}{
		{boolean(true), true, nil},
		{boolean(false), false, nil},
		{integer(1), true, nil},
		{integer(0), false, nil},
		{integer(-5), true, nil},
		{simple("OK"), true, nil},
		{simple("QUEUED"), false, nil},
		{bulk("1"), false, resp.ErrType},
		{double(1), false, resp.ErrType},
		{array(), false, resp.ErrType},
		{null(), false, resp.ErrNil},
		{serverErr, false, serverErrWant},
	}
	for _, tt := range tests {
		got, err := tt.v.Bool()
		checkErr(t, "Bool", tt.v, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("Bool of %v = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestBigInt(t *testing.T) {
	huge, _ := new(big.Int).SetString("-3492890328409238509324850943850943825024385", 10)
	tests := []struct {
		v       resp.Value
		want    *big.Int
		wantErr error
	}{
		{bignum(huge.String()), huge, nil},
		{integer(math.MinInt64), big.NewInt(math.MinInt64), nil},
		{bulk("42"), big.NewInt(42), nil},
		{simple("-1"), big.NewInt(-1), nil},
		{bulk("4x"), nil, resp.ErrType},
		{bulk(""), nil, resp.ErrType},
		{double(1), nil, resp.ErrType},
		{boolean(true), nil, resp.ErrType},
		{push(), nil, resp.ErrType},
		{null(), nil, resp.ErrNil},
		{serverErr, nil, serverErrWant},
	}
	for _, tt := range tests {
		got, err := tt.v.BigInt()
		checkErr(t, "BigInt", tt.v, err, tt.wantErr)
		if (got == nil) != (tt.want == nil) || got != nil && got.Cmp(tt.want) != 0 {
			t.Errorf("BigInt of %v = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestSlice(t *testing.T) {
	elems := []resp.Value{bulk("a"), integer(1)}
	for _, v := range []resp.Value{array(elems...), set(elems...), push(elems...), rmap(elems...)} {
		got, err := v.Slice()
		if err != nil || !equalSlices(got, elems) {
			t.Errorf("Slice of %v = %v, %v; want %v", v, got, err, elems)
		}
	}
	for _, tt := range []struct {
		v       resp.Value
		wantErr error
	}{
		{null(), resp.ErrNil},
		{serverErr, serverErrWant},
		{bulk("a"), resp.ErrType},
		{integer(1), resp.ErrType},
		{resp.Value{}, resp.ErrType},
	} {
		got, err := tt.v.Slice()
		checkErr(t, "Slice", tt.v, err, tt.wantErr)
		if got != nil {
			t.Errorf("Slice of %v = %v with an error", tt.v, got)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		v       resp.Value
		want    []string
		wantErr error
	}{
		{array(bulk("a"), null(), integer(1), simple("s"), verbatim("txt:v")), []string{"a", "", "1", "s", "v"}, nil},
		{rmap(bulk("k"), double(2.5)), []string{"k", "2.5"}, nil},
		{set(), []string{}, nil},
		{push(bulk("message"), bulk("ch")), []string{"message", "ch"}, nil},
		{array(bulk("a"), array()), nil, resp.ErrType},
		{array(bulk("a"), boolean(true)), nil, resp.ErrType},
		{array(bulk("a"), serverErr), nil, serverErrWant},
		{bulk("a"), nil, resp.ErrType},
		{null(), nil, resp.ErrNil},
		{serverErr, nil, serverErrWant},
	}
	for _, tt := range tests {
		got, err := tt.v.Strings()
		checkErr(t, "Strings", tt.v, err, tt.wantErr)
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("Strings of %v = %#v, want %#v", tt.v, got, tt.want)
		}
	}
}

func TestErrAndIsNull(t *testing.T) {
	for _, v := range []resp.Value{simple("OK"), bulk("ERR x"), integer(1), null(), array(serverErr), {}} {
		if err := v.Err(); err != nil {
			t.Errorf("Err of %v = %#v, want nil", v, err)
		}
	}
	err := serverErr.Err()
	if !errors.Is(err, resp.ErrWrongType) || errors.Is(err, resp.ErrGeneric) {
		t.Errorf("Err of %v = %v: want it to match ErrWrongType only", serverErr, err)
	}
	if err.Error() != serverErr.Str {
		t.Errorf("Err().Error() = %q, want %q", err.Error(), serverErr.Str)
	}
	for _, v := range []resp.Value{simple("OK"), bulk(""), integer(0), array(), serverErr, {}} {
		if v.IsNull() {
			t.Errorf("IsNull of %v = true", v)
		}
	}
	if !null().IsNull() {
		t.Error("IsNull of null = false")
	}
}

func TestKindString(t *testing.T) {
	want := map[resp.Kind]string{
		resp.KindInvalid: "invalid", resp.KindSimpleString: "simple-string", resp.KindError: "error",
		resp.KindInteger: "integer", resp.KindBulkString: "bulk-string", resp.KindArray: "array",
		resp.KindNull: "null", resp.KindDouble: "double", resp.KindBoolean: "boolean",
		resp.KindBigNumber: "big-number", resp.KindVerbatim: "verbatim-string", resp.KindMap: "map",
		resp.KindSet: "set", resp.KindPush: "push", resp.Kind(200): "kind(200)",
	}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), k.String(), s)
		}
	}
}

func TestValueString(t *testing.T) {
	v := array(
		simple("OK"),
		bulk("a\nb"),
		integer(-42),
		null(),
		rmap(bulk("k"), double(1.5), simple("n"), bignum("12345678901234567890")),
		set(boolean(true), boolean(false)),
		push(verbatim("txt:hi"), array()),
		errv("ERR x"),
		double(math.Inf(-1)),
		resp.Value{},
	)
	want := `[OK "a\nb" -42 (nil) {"k": 1.5 n: 12345678901234567890} ~[true false] >["hi" []] (error) ERR x -Inf (invalid)]`
	if got := v.String(); got != want {
		t.Errorf("String()\n got %s\nwant %s", got, want)
	}
	if got := withAttrs(simple("OK"), simple("a"), integer(1)).String(); got != "OK" {
		t.Errorf("String() of a value with attributes = %q, want %q", got, "OK")
	}
}
