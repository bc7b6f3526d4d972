package resp_test

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/keel-go/keel/resp"
)

func TestAppendCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "*1\r\n$4\r\nPING\r\n"},
		{[]string{"SET", "key", "value"}, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"},
		{[]string{"SET", "k", ""}, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"},
		{[]string{"SET", "k", "a\r\nb\x00"}, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\nb\x00\r\n"},
		{[]string{}, "*0\r\n"},
		{nil, "*0\r\n"},
		{[]string{"ECHO", strings.Repeat("x", 1234)}, "*2\r\n$4\r\nECHO\r\n$1234\r\n" + strings.Repeat("x", 1234) + "\r\n"},
	}
	for _, tt := range tests {
		if got := string(resp.AppendCommand(nil, tt.args)); got != tt.want {
			t.Errorf("AppendCommand(nil, %q)\n got %q\nwant %q", tt.args, got, tt.want)
		}
		// It appends, keeping what dst already holds.
		if got := string(resp.AppendCommand([]byte("prefix"), tt.args)); got != "prefix"+tt.want {
			t.Errorf("AppendCommand(prefix, %q) = %q", tt.args, got)
		}
		// What it writes is an array of bulk strings.
		v := readOne(t, tt.want)
		got, err := v.Strings()
		if err != nil || v.Kind != resp.KindArray || len(got) != len(tt.args) {
			t.Errorf("AppendCommand(%q) reads back as %v", tt.args, v)
		}
	}
}

func TestAppendCommandAllocs(t *testing.T) {
	args := []string{"SET", "key:0001", "0123456789abcdef", "EX", "60"}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		buf = resp.AppendCommand(buf[:0], args)
	})
	if allocs != 0 {
		t.Errorf("AppendCommand into a pre-sized buffer: %v allocations, want 0", allocs)
	}
}

func TestAppendValueAllocs(t *testing.T) {
	v := array(bulk("message"), simple("OK"), integer(-1), double(1.5), bignum("123"),
		rmap(verbatim("txt:x"), boolean(true)), withAttrs(null(), simple("a"), errv("ERR x")))
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		buf = resp.AppendValue(buf[:0], v)
	})
	if allocs != 0 {
		t.Errorf("AppendValue into a pre-sized buffer: %v allocations, want 0", allocs)
	}
}

func TestAppendValueBytes(t *testing.T) {
	tests := []struct {
		v    resp.Value
		want string
	}{
		{simple("OK"), "+OK\r\n"},
		{simple("a\r\nb"), "$4\r\na\r\nb\r\n"},
		{simple("a\nb"), "$3\r\na\nb\r\n"},
		{errv("ERR x"), "-ERR x\r\n"},
		{errv("ERR\rx"), "!5\r\nERR\rx\r\n"},
		{integer(math.MinInt64), ":-9223372036854775808\r\n"},
		{bulk(""), "$0\r\n\r\n"},
		{verbatim("txt:Some string"), "=15\r\ntxt:Some string\r\n"},
		{verbatim("abc"), "$3\r\nabc\r\n"},
		{bignum("-12345678901234567890"), "(-12345678901234567890\r\n"},
		{bignum("12\r\n:3"), "$6\r\n12\r\n:3\r\n"},
		{bignum(""), "$0\r\n\r\n"},
		{double(1.5), ",1.5\r\n"},
		{double(1e300), ",1e+300\r\n"},
		{double(math.Inf(1)), ",inf\r\n"},
		{double(math.Inf(-1)), ",-inf\r\n"},
		{double(math.NaN()), ",nan\r\n"},
		{boolean(true), "#t\r\n"},
		{boolean(false), "#f\r\n"},
		{null(), "_\r\n"},
		{array(), "*0\r\n"},
		{array(integer(1), null()), "*2\r\n:1\r\n_\r\n"},
		{set(simple("a")), "~1\r\n+a\r\n"},
		{push(bulk("x")), ">1\r\n$1\r\nx\r\n"},
		{rmap(simple("k"), integer(1)), "%1\r\n+k\r\n:1\r\n"},
		{rmap(simple("k"), integer(1), simple("odd")), "%1\r\n+k\r\n:1\r\n"},
		{withAttrs(simple("OK"), simple("key"), integer(1)), "|1\r\n+key\r\n:1\r\n+OK\r\n"},
		{withAttrs(simple("OK"), simple("key"), integer(1), simple("odd")), "|1\r\n+key\r\n:1\r\n+OK\r\n"},
		{withAttrs(simple("OK"), simple("odd")), "+OK\r\n"},
		{resp.Value{}, ""},
		{withAttrs(resp.Value{}, simple("key"), integer(1)), ""},
		{resp.Value{Kind: resp.Kind(99), Str: "x"}, ""},
	}
	for _, tt := range tests {
		if got := string(resp.AppendValue(nil, tt.v)); got != tt.want {
			t.Errorf("AppendValue(%#v)\n got %q\nwant %q", tt.v, got, tt.want)
		}
	}
}

// roundTripValues covers every kind, nesting, attributes and the values
// AppendValue must write in another form.
var roundTripValues = []resp.Value{
	simple("OK"),
	simple(""),
	simple("with\r\nCRLF"),
	simple("\r"),
	errv("ERR something"),
	errv(""),
	errv("ERR multi\r\nline"),
	integer(0),
	integer(math.MaxInt64),
	integer(math.MinInt64),
	bulk(""),
	bulk(binary),
	bulk(strings.Repeat("long", 10000)),
	null(),
	double(0),
	double(math.Copysign(0, -1)),
	double(1.5),
	double(-1e-300),
	double(math.MaxFloat64),
	double(math.SmallestNonzeroFloat64),
	double(1.0 / 3),
	double(math.Inf(1)),
	double(math.Inf(-1)),
	double(math.NaN()),
	boolean(true),
	boolean(false),
	{Kind: resp.KindBoolean, Int: 7},
	bignum("3492890328409238509324850943850943825024385"),
	bignum("-1"),
	bignum("not a number"),
	verbatim("txt:Some string"),
	verbatim("mkd:"),
	verbatim("txt:" + binary),
	verbatim("no"),
	array(),
	{Kind: resp.KindArray},
	array(bulk("a"), integer(1), null(), array(array(array()))),
	rmap(),
	rmap(bulk("k1"), integer(1), bulk("k2"), rmap(simple("nested"), set(boolean(true)))),
	rmap(bulk("k1"), integer(1), bulk("odd")),
	set(),
	set(simple("a"), double(math.NaN()), null()),
	push(bulk("message"), bulk("channel"), bulk("payload")),
	push(),
	withAttrs(simple("OK"), simple("key"), integer(1)),
	withAttrs(array(integer(1), withAttrs(bulk("x"), simple("ttl"), integer(5))),
		simple("key-popularity"), rmap(bulk("a"), double(0.1923))),
	withAttrs(null(), withAttrs(simple("k"), simple("inner"), null()), simple("v")),
	withAttrs(simple("odd attrs"), simple("key"), integer(1), simple("dropped")),
	withAttrs(simple("empty attrs")),
	array(simple("a\nb"), errv("e\r"), verbatim("x"), bignum("1.5"), withAttrs(integer(1), simple("a"))),
}

func TestAppendValueRoundTrip(t *testing.T) {
	// Each value alone, then all of them back to back on one stream.
	var all []byte
	for _, v := range roundTripValues {
		enc := resp.AppendValue(nil, v)
		all = append(all, enc...)
		got := readOne(t, string(enc))
		if want := encoded(v); !equal(got, want) {
			t.Errorf("Read(AppendValue(%#v)) = %#v\nwant %#v\n(encoding %q)", v, got, want, enc)
		}
		// Encoding what was read gives the same bytes.
		if again := resp.AppendValue(nil, got); !bytes.Equal(again, enc) {
			t.Errorf("re-encoding %#v: %q, first encoding %q", v, again, enc)
		}
	}
	r := resp.NewReader(bytes.NewReader(all), resp.Limits{})
	for _, v := range roundTripValues {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("reading %v from the stream: %v", v, err)
		}
		if !equal(got, encoded(v)) {
			t.Fatalf("stream: got %#v, want %#v", got, encoded(v))
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("stream: %v at the end, want io.EOF", err)
	}
}

// TestAppendValueRoundTripReadTests encodes every value of the reader's table.
func TestAppendValueRoundTripReadTests(t *testing.T) {
	for _, tt := range readTests {
		got := readOne(t, string(resp.AppendValue(nil, tt.want)))
		if !equal(got, tt.want) {
			t.Errorf("%s: Read(AppendValue(v)) = %#v, want %#v", tt.name, got, tt.want)
		}
	}
}
