package resp_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/keel-go/keel/resp"
)

// blob frames s as a RESP blob of type typ, such as a bulk string.
func blob(typ byte, s string) string {
	return fmt.Sprintf("%c%d\r\n%s\r\n", typ, len(s), s)
}

const binary = "a\r\nb\x00\xff\r\n\n\r"

var readTests = []struct {
	name string
	in   string
	want resp.Value
}{
	// RESP2
	{"simple string", "+OK\r\n", simple("OK")},
	{"simple string empty", "+\r\n", simple("")},
	{"simple string spaces", "+hello world \r\n", simple("hello world ")},
	{"error", "-ERR unknown command 'foo'\r\n", errv("ERR unknown command 'foo'")},
	{"error empty", "-\r\n", errv("")},
	{"integer", ":1000\r\n", integer(1000)},
	{"integer zero", ":0\r\n", integer(0)},
	{"integer negative", ":-42\r\n", integer(-42)},
	{"integer plus sign", ":+7\r\n", integer(7)},
	{"integer max", ":9223372036854775807\r\n", integer(math.MaxInt64)},
	{"integer min", ":-9223372036854775808\r\n", integer(math.MinInt64)},
	{"bulk", "$5\r\nhello\r\n", bulk("hello")},
	{"bulk empty", "$0\r\n\r\n", bulk("")},
	{"bulk binary", blob('$', binary), bulk(binary)},
	{"bulk only CRLF", "$2\r\n\r\n\r\n", bulk("\r\n")},
	{"null bulk", "$-1\r\n", null()},
	{"array empty", "*0\r\n", array()},
	{"array", "*3\r\n$3\r\nfoo\r\n:1\r\n+bar\r\n", array(bulk("foo"), integer(1), simple("bar"))},
	{"array nested", "*2\r\n*2\r\n:1\r\n*0\r\n*1\r\n-ERR x\r\n",
		array(array(integer(1), array()), array(errv("ERR x")))},
	{"array with nulls", "*3\r\n$-1\r\n*-1\r\n_\r\n", array(null(), null(), null())},
	{"null array", "*-1\r\n", null()},
	// RESP3
	{"null", "_\r\n", null()},
	{"blob error", "!21\r\nSYNTAX invalid syntax\r\n", errv("SYNTAX invalid syntax")},
	{"blob error binary", blob('!', "ERR "+binary), errv("ERR " + binary)},
	{"double", ",1.5\r\n", double(1.5)},
	{"double integral", ",10\r\n", double(10)},
	{"double negative", ",-2.25\r\n", double(-2.25)},
	{"double negative zero", ",-0\r\n", double(math.Copysign(0, -1))},
	{"double exponent", ",1.23e+4\r\n", double(12300)},
	{"double exponent upper", ",6.02E23\r\n", double(6.02e23)},
	{"double exponent negative", ",5e-3\r\n", double(0.005)},
	{"double inf", ",inf\r\n", double(math.Inf(1))},
	{"double -inf", ",-inf\r\n", double(math.Inf(-1))},
	{"double nan", ",nan\r\n", double(math.NaN())},
	{"double overflow is inf", ",1e400\r\n", double(math.Inf(1))},
	{"boolean true", "#t\r\n", boolean(true)},
	{"boolean false", "#f\r\n", boolean(false)},
	{"big number", "(3492890328409238509324850943850943825024385\r\n",
		bignum("3492890328409238509324850943850943825024385")},
	{"big number negative", "(-3492890328409238509324850943850943825024385\r\n",
		bignum("-3492890328409238509324850943850943825024385")},
	{"verbatim", "=15\r\ntxt:Some string\r\n", verbatim("txt:Some string")},
	{"verbatim empty text", "=4\r\nmkd:\r\n", verbatim("mkd:")},
	{"verbatim binary", blob('=', "txt:"+binary), verbatim("txt:" + binary)},
	{"map", "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
		rmap(simple("first"), integer(1), simple("second"), integer(2))},
	{"map empty", "%0\r\n", rmap()},
	{"map nested", "%1\r\n*1\r\n:1\r\n%1\r\n+a\r\n#t\r\n",
		rmap(array(integer(1)), rmap(simple("a"), boolean(true)))},
	{"set", "~3\r\n+a\r\n+b\r\n:1\r\n", set(simple("a"), simple("b"), integer(1))},
	{"set empty", "~0\r\n", set()},
	{"push", ">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n",
		push(bulk("message"), bulk("chan"), bulk("hello"))},
	{"attributes", "|1\r\n+key\r\n:1\r\n+OK\r\n", withAttrs(simple("OK"), simple("key"), integer(1))},
	{"attributes on aggregate",
		"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
		withAttrs(array(integer(2039123), integer(9543892)),
			simple("key-popularity"), rmap(bulk("a"), double(0.1923), bulk("b"), double(0.0012)))},
	{"attributes on element", "*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:2\r\n",
		array(withAttrs(bulk("v"), simple("ttl"), integer(3600)), integer(2))},
	{"attributes twice", "|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n_\r\n",
		withAttrs(null(), simple("a"), integer(1), simple("b"), integer(2))},
	{"attributes empty", "|0\r\n+OK\r\n", simple("OK")},
}

func TestRead(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			r := resp.NewReader(strings.NewReader(tt.in), resp.Limits{})
			got, err := r.Read()
			if err != nil {
				t.Fatalf("Read(%q): %v", tt.in, err)
			}
			if !equal(got, tt.want) {
				t.Fatalf("Read(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
			if _, err := r.Read(); err != io.EOF {
				t.Fatalf("second Read(%q) = %v, want io.EOF", tt.in, err)
			}
		})
	}
}

func TestReadEmptyAttributesAreNil(t *testing.T) {
	for _, in := range []string{"+OK\r\n", "|0\r\n+OK\r\n", "*1\r\n|0\r\n:1\r\n"} {
		v, err := resp.NewReader(strings.NewReader(in), resp.Limits{}).Read()
		if err != nil {
			t.Fatalf("Read(%q): %v", in, err)
		}
		if len(v.Elems) > 0 {
			v = v.Elems[0]
		}
		if v.Attrs != nil {
			t.Errorf("Read(%q).Attrs = %#v, want nil", in, v.Attrs)
		}
	}
}

func TestReadVerbatimText(t *testing.T) {
	v, err := resp.NewReader(strings.NewReader("=15\r\ntxt:Some string\r\n"), resp.Limits{}).Read()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := v.Text(); err != nil || s != "Some string" {
		t.Fatalf("Text() = %q, %v; want %q", s, err, "Some string")
	}
}

// streamReaders wrap a reader in the ways a network connection can behave.
var streamReaders = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"plain", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data with EOF", iotest.DataErrReader},
	{"tiny bufio", func(r io.Reader) io.Reader { return bufio.NewReaderSize(r, 16) }},
}

// TestReadStream reads every value of readTests back to back from one stream.
func TestReadStream(t *testing.T) {
	var in strings.Builder
	for _, tt := range readTests {
		in.WriteString(tt.in)
	}
	for _, sr := range streamReaders {
		t.Run(sr.name, func(t *testing.T) {
			r := resp.NewReader(sr.wrap(strings.NewReader(in.String())), resp.Limits{})
			for _, tt := range readTests {
				got, err := r.Read()
				if err != nil {
					t.Fatalf("reading %s: %v", tt.name, err)
				}
				if !equal(got, tt.want) {
					t.Fatalf("reading %s\n got %#v\nwant %#v", tt.name, got, tt.want)
				}
			}
			if v, err := r.Read(); err != io.EOF {
				t.Fatalf("Read at end = %v, %v; want io.EOF", v, err)
			}
		})
	}
}

func TestReadUnderlyingError(t *testing.T) {
	boom := errors.New("boom")
	for _, tail := range []string{"", "*2\r\n:1\r\n", "$5\r\nab", "+O"} {
		r := resp.NewReader(io.MultiReader(strings.NewReader("+OK\r\n"+tail), iotest.ErrReader(boom)), resp.Limits{})
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(); !errors.Is(err, boom) {
			t.Errorf("tail %q: Read() error = %v, want %v", tail, err, boom)
		}
	}
}

func TestReadLongLines(t *testing.T) {
	long := strings.Repeat("abcdefgh", 100<<10/8) // 100 KiB, more than the 16 KiB buffer
	tests := []struct {
		in   string
		want resp.Value
	}{
		{"+" + long + "\r\n", simple(long)},
		{"-ERR " + long + "\r\n", errv("ERR " + long)},
		{"(" + strings.Repeat("9", 100<<10) + "\r\n", bignum(strings.Repeat("9", 100<<10))},
		{blob('$', long), bulk(long)},
		{"*2\r\n+" + long + "\r\n:1\r\n", array(simple(long), integer(1))},
	}
	for _, sr := range streamReaders {
		var all strings.Builder
		for _, tt := range tests {
			all.WriteString(tt.in)
		}
		r := resp.NewReader(sr.wrap(strings.NewReader(all.String())), resp.Limits{})
		for i, tt := range tests {
			got, err := r.Read()
			if err != nil {
				t.Fatalf("%s: value %d: %v", sr.name, i, err)
			}
			if !equal(got, tt.want) {
				t.Fatalf("%s: value %d: got %.60q…, want %.60q…", sr.name, i, got.String(), tt.want.String())
			}
		}
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("%s: Read at end: %v, want io.EOF", sr.name, err)
		}
	}
}

func TestReadProtocolErrors(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("*1\r\n", n) + ":1\r\n" }
	tests := []struct {
		name   string
		in     string
		limits resp.Limits
	}{
		{"unknown type byte", "?foo\r\n", resp.Limits{}},
		{"unknown type byte NUL", "\x00\r\n", resp.Limits{}},
		{"unknown type byte in array", "*2\r\n:1\r\n@x\r\n", resp.Limits{}},
		{"empty line", "\r\n", resp.Limits{}},
		{"missing CR simple", "+OK\n", resp.Limits{}},
		{"missing CR integer", ":1\n", resp.Limits{}},
		{"missing CR header", "$3\nfoo\r\n", resp.Limits{}},
		{"missing CR in array", "*1\r\n+OK\n", resp.Limits{}},
		{"bulk bad terminator", "$3\r\nfooXY", resp.Limits{}},
		{"bulk LF CR terminator", "$3\r\nfoo\n\r", resp.Limits{}},
		{"bulk too short", "$3\r\nfo\r\n+OK\r\n", resp.Limits{}},
		{"bulk -2", "$-2\r\n", resp.Limits{}},
		{"array -2", "*-2\r\n", resp.Limits{}},
		{"blob error -1", "!-1\r\n", resp.Limits{}},
		{"verbatim -1", "=-1\r\n", resp.Limits{}},
		{"map -1", "%-1\r\n", resp.Limits{}},
		{"set -1", "~-1\r\n", resp.Limits{}},
		{"push -1", ">-1\r\n", resp.Limits{}},
		{"attribute -1", "|-1\r\n", resp.Limits{}},
		{"bulk over limit", "$9\r\n123456789\r\n", resp.Limits{MaxBulkLen: 8}},
		{"blob error over limit", "!9\r\n123456789\r\n", resp.Limits{MaxBulkLen: 8}},
		{"verbatim over limit", "=9\r\ntxt:56789\r\n", resp.Limits{MaxBulkLen: 8}},
		{"bulk over default limit", fmt.Sprintf("$%d\r\n", resp.DefaultMaxBulkLen+1), resp.Limits{}},
		{"nested bulk over limit", "*2\r\n$1\r\na\r\n$9\r\n", resp.Limits{MaxBulkLen: 8}},
		{"array over limit", "*3\r\n:1\r\n:2\r\n:3\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"set over limit", "~3\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"push over limit", ">3\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"map over limit", "%3\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"attribute over limit", "|3\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"array over default limit", fmt.Sprintf("*%d\r\n", resp.DefaultMaxAggregateLen+1), resp.Limits{}},
		{"too deep", deep(3), resp.Limits{MaxDepth: 2}},
		{"too deep map", "%1\r\n+k\r\n%1\r\n+k\r\n%1\r\n", resp.Limits{MaxDepth: 2}},
		{"too deep mixed", "*1\r\n~1\r\n>1\r\n%0\r\n", resp.Limits{MaxDepth: 3}},
		{"too deep attributes", "|1\r\n+a\r\n|1\r\n+b\r\n|1\r\n", resp.Limits{MaxDepth: 2}},
		{"too deep attribute chain", strings.Repeat("|0\r\n", 100) + "+OK\r\n", resp.Limits{}},
		{"too deep default", deep(resp.DefaultMaxDepth + 1), resp.Limits{}},
		{"far too deep default", deep(1 << 20), resp.Limits{}},
		{"length letters", "$abc\r\n", resp.Limits{}},
		{"length trailing letter", "*1x\r\n", resp.Limits{}},
		{"length empty", "$\r\n", resp.Limits{}},
		{"array length empty", "*\r\n", resp.Limits{}},
		{"length sign only", "$-\r\n", resp.Limits{}},
		{"length leading space", "$ 3\r\nfoo\r\n", resp.Limits{}},
		{"length trailing space", "$3 \r\nfoo\r\n", resp.Limits{}},
		{"length float", "*1.0\r\n", resp.Limits{}},
		{"length overflow", "$99999999999999999999\r\n", resp.Limits{}},
		{"streamed string", "$?\r\n;0\r\n", resp.Limits{}},
		{"streamed aggregate", "*?\r\n.\r\n", resp.Limits{}},
		{"integer empty", ":\r\n", resp.Limits{}},
		{"integer sign only", ":-\r\n", resp.Limits{}},
		{"integer letters", ":12a\r\n", resp.Limits{}},
		{"integer space", ": 1\r\n", resp.Limits{}},
		{"integer double sign", ":--1\r\n", resp.Limits{}},
		{"integer overflow", ":9223372036854775808\r\n", resp.Limits{}},
		{"integer underflow", ":-9223372036854775809\r\n", resp.Limits{}},
		{"integer overflow 20 digits", ":99999999999999999999\r\n", resp.Limits{}},
		{"integer overflow uint64", ":18446744073709551616\r\n", resp.Limits{}},
		{"integer 21 digits", ":100000000000000000000\r\n", resp.Limits{}},
		{"integer very long", ":" + strings.Repeat("9", 10000) + "\r\n", resp.Limits{}},
		{"double very long", "," + strings.Repeat("x\x00", 10000) + "\r\n", resp.Limits{}},
		{"over-long line", "+" + strings.Repeat("a", 2<<20) + "\r\n", resp.Limits{}},
		{"over-long line without LF", "+" + strings.Repeat("a", 2<<20), resp.Limits{}},
		{"over-long header", "$" + strings.Repeat("1", 2<<20) + "\r\n", resp.Limits{}},
		{"line longer than small MaxBulkLen", "+" + strings.Repeat("a", 64<<10) + "\r\n", resp.Limits{MaxBulkLen: 1024}},
		{"boolean other letter", "#x\r\n", resp.Limits{}},
		{"boolean upper case", "#T\r\n", resp.Limits{}},
		{"boolean empty", "#\r\n", resp.Limits{}},
		{"boolean long", "#tt\r\n", resp.Limits{}},
		{"boolean word", "#true\r\n", resp.Limits{}},
		{"null payload", "_x\r\n", resp.Limits{}},
		{"null space", "_ \r\n", resp.Limits{}},
		{"verbatim without format", "=3\r\nabc\r\n", resp.Limits{}},
		{"verbatim without colon", "=8\r\ntxtxSome\r\n", resp.Limits{}},
		{"verbatim colon misplaced", "=5\r\nab:cd\r\n", resp.Limits{}},
		{"verbatim empty", "=0\r\n\r\n", resp.Limits{}},
		{"double empty", ",\r\n", resp.Limits{}},
		{"double letters", ",abc\r\n", resp.Limits{}},
		{"double trailing garbage", ",1.5x\r\n", resp.Limits{}},
		{"big number empty", "(\r\n", resp.Limits{}},
		{"big number sign only", "(-\r\n", resp.Limits{}},
		{"big number letters", "(12a\r\n", resp.Limits{}},
		{"big number fraction", "(1.5\r\n", resp.Limits{}},
		{"error inside attribute", "|1\r\n+a\r\n#x\r\n+OK\r\n", resp.Limits{}},
		{"error after attribute", "|1\r\n+a\r\n:1\r\n?\r\n", resp.Limits{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resp.NewReader(strings.NewReader(tt.in), tt.limits)
			v, err := r.Read()
			if !errors.Is(err, resp.ErrProtocol) {
				t.Fatalf("Read(%.40q) = %v, %v; want an error wrapping ErrProtocol", tt.in, v, err)
			}
			if !equal(v, resp.Value{}) {
				t.Fatalf("Read(%.40q) returned a value with its error: %#v", tt.in, v)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error message of %d bytes: hostile input must be clipped", len(err.Error()))
			}
		})
	}
}

// TestReadLimitsBoundary checks that the limits are inclusive.
func TestReadLimitsBoundary(t *testing.T) {
	tests := []struct {
		in     string
		limits resp.Limits
	}{
		{"$8\r\n12345678\r\n", resp.Limits{MaxBulkLen: 8}},
		{"=8\r\ntxt:5678\r\n", resp.Limits{MaxBulkLen: 8}},
		{"*2\r\n:1\r\n:2\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n", resp.Limits{MaxAggregateLen: 2}},
		{"*1\r\n*1\r\n:1\r\n", resp.Limits{MaxDepth: 2}},
		{"|1\r\n+a\r\n:1\r\n*1\r\n:1\r\n", resp.Limits{MaxDepth: 2}},
		{strings.Repeat("*1\r\n", resp.DefaultMaxDepth) + ":1\r\n", resp.Limits{}},
		{"*2\r\n" + strings.Repeat("*1\r\n", 31) + ":1\r\n" + strings.Repeat("*1\r\n", 31) + "_\r\n", resp.Limits{}},
	}
	for _, tt := range tests {
		if _, err := resp.NewReader(strings.NewReader(tt.in), tt.limits).Read(); err != nil {
			t.Errorf("Read(%.40q) with %+v: %v", tt.in, tt.limits, err)
		}
	}
}

// TestReadUnboundedLimits checks that limits set as high as they go, to mean
// "no limit", still leave lengths that fit an int: a declared length past
// them must not overflow into a panic or a misread.
func TestReadUnboundedLimits(t *testing.T) {
	unbounded := resp.Limits{MaxBulkLen: math.MaxInt64, MaxAggregateLen: math.MaxInt64}
	tests := []string{
		"$3000000000\r\nabc",
		"$9223372036854775807\r\nabc",
		"%4611686018427387904\r\n:1\r\n:2\r\n",
		"%9223372036854775807\r\n:1\r\n:2\r\n",
		"|4611686018427387904\r\n:1\r\n:2\r\n",
		"*9223372036854775807\r\n:1\r\n:2\r\n",
	}
	for _, in := range tests {
		v, err := resp.NewReader(strings.NewReader(in), unbounded).Read()
		if err != io.ErrUnexpectedEOF && !errors.Is(err, resp.ErrProtocol) {
			t.Errorf("Read(%q) = %v, %v; want a truncation or protocol error", in, v, err)
		}
	}
}

// multiPart are valid encodings made of several lines and blobs.
var multiPart = []string{
	"+OK\r\n",
	":-1234\r\n",
	"$12\r\nhello\r\nworld\r\n",
	"$0\r\n\r\n",
	"$-1\r\n",
	"!10\r\nERR a\r\nb\nc\r\n",
	"=15\r\ntxt:Some string\r\n",
	",-1.5e10\r\n",
	"*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n_\r\n*0\r\n",
	"%2\r\n+a\r\n:1\r\n+b\r\n~1\r\n#t\r\n",
	">2\r\n$7\r\nmessage\r\n(12345678901234567890\r\n",
	"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n",
	"*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n|0\r\n:2\r\n",
}

func TestReadTruncated(t *testing.T) {
	for _, full := range multiPart {
		if _, err := resp.NewReader(strings.NewReader(full), resp.Limits{}).Read(); err != nil {
			t.Fatalf("Read(%q): %v", full, err)
		}
		for i := range len(full) {
			prefix := full[:i]
			want := io.ErrUnexpectedEOF
			if i == 0 {
				want = io.EOF
			}
			for _, sr := range streamReaders {
				v, err := resp.NewReader(sr.wrap(strings.NewReader(prefix)), resp.Limits{}).Read()
				if err != want {
					t.Errorf("%s: Read(%q) = %v, %v; want %v", sr.name, prefix, v, err, want)
				}
			}
		}
	}
}

func TestReadTruncatedAfterValue(t *testing.T) {
	r := resp.NewReader(strings.NewReader("+OK\r\n*2\r\n:1\r\n"), resp.Limits{})
	if v, err := r.Read(); err != nil || !equal(v, simple("OK")) {
		t.Fatalf("first Read = %v, %v", v, err)
	}
	if _, err := r.Read(); err != io.ErrUnexpectedEOF {
		t.Fatalf("second Read error = %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestReadHugeDeclaredLengths checks that a peer announcing a huge value and
// sending only a few bytes costs little memory: the Reader must not allocate
// by the declared length.
func TestReadHugeDeclaredLengths(t *testing.T) {
	few := strings.Repeat(":1\r\n", 5)
	tests := []struct{ name, in string }{
		{"bulk", "$536870000\r\nabc"},
		{"bulk header only", "$536870000\r\n"},
		{"blob error", "!536870000\r\nERR abc"},
		{"verbatim", "=536870000\r\ntxt:abc"},
		{"array", "*16000000\r\n" + few},
		{"set", "~16000000\r\n" + few},
		{"push", ">16000000\r\n" + few},
		{"map", "%16000000\r\n" + few},
		{"attribute", "|16000000\r\n" + few},
		{"nested arrays", strings.Repeat("*16000000\r\n", resp.DefaultMaxDepth) + few},
		{"array of bulks", "*16000000\r\n$536870000\r\nabc"},
	}
	const maxAlloc = 8 << 20
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			// The reply size is not what stops these.
			unbounded := resp.Limits{MaxReplyBytes: math.MaxInt64}
			v, err := resp.NewReader(strings.NewReader(tt.in), unbounded).Read()
			runtime.ReadMemStats(&after)
			if err != io.ErrUnexpectedEOF {
				t.Fatalf("Read = %v, %v; want io.ErrUnexpectedEOF", v, err)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > maxAlloc {
				t.Fatalf("Read allocated %d bytes for a %d-byte input; want at most %d", d, len(tt.in), maxAlloc)
			}
		})
	}
}

func TestReadRefusesRepliesOverMaxReplyBytes(t *testing.T) {
	limits := resp.Limits{MaxReplyBytes: 1 << 20}
	tests := []struct{ name, in string }{
		{"declared elements", "*16000000\r\n:1\r\n"},
		{"declared map pairs", "%8000000\r\n"},
		{"declared elements near MaxInt", "*" + strconv.Itoa(math.MaxInt/2) + "\r\n"},
		{"bulks adding up", "*3\r\n" + strings.Repeat(blob('$', strings.Repeat("x", 400<<10)), 3)},
		{"simple strings adding up", "*1000\r\n" + strings.Repeat("+"+strings.Repeat("y", 2000)+"\r\n", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := limits
			l.MaxAggregateLen = math.MaxInt64
			v, err := resp.NewReader(strings.NewReader(tt.in), l).Read()
			if !errors.Is(err, resp.ErrProtocol) || !strings.Contains(err.Error(), "reply larger than") {
				t.Fatalf("Read = %v, %v; want a reply-size protocol error", v, err)
			}
		})
	}
	// Each Read has its own budget: many small replies in a row are fine.
	r := resp.NewReader(strings.NewReader(strings.Repeat(blob('$', strings.Repeat("z", 300<<10)), 10)), limits)
	for i := range 10 {
		if _, err := r.Read(); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
}

// TestReadLargeBulk reads a bulk string bigger than the size the Reader
// trusts for its first allocation, so it must grow as the bytes arrive.
func TestReadLargeBulk(t *testing.T) {
	s := strings.Repeat("0123456789abcdef", (3<<20+5)/16)
	for _, sr := range streamReaders[:3] {
		r := resp.NewReader(sr.wrap(strings.NewReader(blob('$', s)+"+OK\r\n")), resp.Limits{})
		v, err := r.Read()
		if err != nil {
			t.Fatalf("%s: %v", sr.name, err)
		}
		if v.Kind != resp.KindBulkString || v.Str != s {
			t.Fatalf("%s: got %v of %d bytes, want bulk of %d", sr.name, v.Kind, len(v.Str), len(s))
		}
		if v, err := r.Read(); err != nil || !equal(v, simple("OK")) {
			t.Fatalf("%s: next Read = %v, %v", sr.name, v, err)
		}
	}
}

// TestReadValuesSurviveNextRead checks that a value's strings do not alias
// the Reader's buffers.
func TestReadValuesSurviveNextRead(t *testing.T) {
	var in strings.Builder
	for range 2000 {
		in.WriteString("*3\r\n+simple\r\n$4\r\nbulk\r\n-ERR e\r\n")
	}
	r := resp.NewReader(strings.NewReader(in.String()), resp.Limits{})
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Read(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	want := array(simple("simple"), bulk("bulk"), errv("ERR e"))
	if !equal(first, want) {
		t.Fatalf("first value changed after later reads: %v", first)
	}
}
