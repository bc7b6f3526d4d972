package resp_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/keel-go/keel/resp"
)

// fuzzLimits are small so the fuzzer reaches the limits quickly.
var fuzzLimits = resp.Limits{MaxBulkLen: 4096, MaxAggregateLen: 64, MaxDepth: 8}

// fuzzSeeds are added in code; testdata/fuzz/FuzzReader holds more.
var fuzzSeeds = []string{
	"+OK\r\n",
	"-ERR unknown command\r\n",
	":-9223372036854775808\r\n",
	"$5\r\nhello\r\n$-1\r\n",
	"*2\r\n$3\r\nfoo\r\n*-1\r\n",
	"_\r\n,1.5\r\n,-inf\r\n,nan\r\n",
	"#t\r\n#f\r\n",
	"(3492890328409238509324850943850943825024385\r\n",
	"=15\r\ntxt:Some string\r\n",
	"!21\r\nSYNTAX invalid syntax\r\n",
	"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
	"~2\r\n+a\r\n:1\r\n",
	">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n",
	"|1\r\n+key\r\n:1\r\n+OK\r\n",
	"+a\rb\r\n-c\rd\r\n",
	"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
	"$536870000\r\nabc",
}

func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		values, err := readUntilError(resp.NewReader(bytes.NewReader(data), fuzzLimits))
		if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, resp.ErrProtocol) {
			t.Fatalf("Read error %#v: want io.EOF, io.ErrUnexpectedEOF or ErrProtocol", err)
		}

		// Short reads from the connection change nothing.
		values2, err2 := readUntilError(resp.NewReader(iotest.OneByteReader(bytes.NewReader(data)), fuzzLimits))
		if !equalSlices(values, values2) || (err == io.EOF) != (err2 == io.EOF) ||
			(err == io.ErrUnexpectedEOF) != (err2 == io.ErrUnexpectedEOF) ||
			errors.Is(err, resp.ErrProtocol) != errors.Is(err2, resp.ErrProtocol) {
			t.Fatalf("one byte at a time: %v, %v; all at once: %v, %v", values2, err2, values, err)
		}

		for _, v := range values {
			checkWellFormed(t, v, 0)
			// Re-encode and read back. The re-read uses the default limits:
			// AppendValue merges the attributes that the Reader gathered from
			// several attribute frames, and writes a simple string holding
			// CR as a bulk string, either of which can exceed fuzzLimits.
			enc := resp.AppendValue(nil, v)
			got, err := resp.NewReader(bytes.NewReader(enc), resp.Limits{}).Read()
			if err != nil {
				t.Fatalf("reading back %#v from %q: %v", v, enc, err)
			}
			if want := encoded(v); !equal(got, want) {
				t.Fatalf("read back %#v\nwant %#v\nfrom %q", got, want, enc)
			}
			if again := resp.AppendValue(nil, got); !bytes.Equal(again, enc) {
				t.Fatalf("encoding is not stable: %q then %q", enc, again)
			}
		}
	})
}

func readUntilError(r *resp.Reader) ([]resp.Value, error) {
	var values []resp.Value
	for {
		v, err := r.Read()
		if err != nil {
			if !equal(v, resp.Value{}) {
				return nil, errors.New("a value returned with an error")
			}
			return values, err
		}
		values = append(values, v)
	}
}

// checkWellFormed checks what the Reader promises about the values it returns.
func checkWellFormed(t *testing.T, v resp.Value, depth int) {
	t.Helper()
	if depth > fuzzLimits.MaxDepth+1 {
		t.Fatalf("value nested %d deep, limit %d", depth, fuzzLimits.MaxDepth)
	}
	switch v.Kind {
	case resp.KindSimpleString, resp.KindError, resp.KindInteger, resp.KindBulkString,
		resp.KindNull, resp.KindDouble:
	case resp.KindBoolean:
		if v.Int != 0 && v.Int != 1 {
			t.Fatalf("boolean with Int %d", v.Int)
		}
	case resp.KindBigNumber:
		if !validBigNumber(v.Str) {
			t.Fatalf("invalid big number %q", v.Str)
		}
	case resp.KindVerbatim:
		if len(v.Str) < 4 || v.Str[3] != ':' {
			t.Fatalf("verbatim string without format: %q", v.Str)
		}
	case resp.KindMap:
		if len(v.Elems)%2 != 0 {
			t.Fatalf("map with %d elements", len(v.Elems))
		}
	case resp.KindArray, resp.KindSet, resp.KindPush:
	default:
		t.Fatalf("value of kind %v", v.Kind)
	}
	if int64(len(v.Str)) > fuzzLimits.MaxBulkLen && v.Kind != resp.KindSimpleString &&
		v.Kind != resp.KindError && v.Kind != resp.KindBigNumber {
		t.Fatalf("%v of %d bytes, limit %d", v.Kind, len(v.Str), fuzzLimits.MaxBulkLen)
	}
	if n := int64(len(v.Elems)); v.Kind == resp.KindMap && n > 2*fuzzLimits.MaxAggregateLen ||
		v.Kind != resp.KindMap && n > fuzzLimits.MaxAggregateLen {
		t.Fatalf("%v of %d elements, limit %d", v.Kind, n, fuzzLimits.MaxAggregateLen)
	}
	if v.Attrs != nil && (len(v.Attrs) == 0 || len(v.Attrs)%2 != 0) {
		t.Fatalf("%d attributes", len(v.Attrs))
	}
	for _, e := range v.Elems {
		checkWellFormed(t, e, depth+1)
	}
	for _, a := range v.Attrs {
		checkWellFormed(t, a, depth+1)
	}
}
