package resp

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader hands out its input a few bytes per Read.
type chunkReader struct {
	s     string
	chunk int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.s)
	c.s = c.s[n:]
	return n, nil
}

// TestReadyAgreesWithRead feeds values a few bytes at a time: Ready must say
// no until the whole value is buffered, and then Read must return it without
// reading further.
func TestReadyAgreesWithRead(t *testing.T) {
	values := []string{
		"+OK\r\n",
		"-ERR no\r\n",
		":42\r\n",
		"$5\r\nhello\r\n",
		"$0\r\n\r\n",
		"$-1\r\n",
		"*-1\r\n",
		"*0\r\n",
		"*2\r\n$1\r\na\r\n:1\r\n",
		"*2\r\n*1\r\n+x\r\n$3\r\nabc\r\n",
		"%1\r\n+k\r\n+v\r\n",
		"~2\r\n:1\r\n:2\r\n",
		">2\r\n+message\r\n$1\r\nm\r\n",
		"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n",
		"_\r\n",
		",1.5\r\n",
		"#t\r\n",
		"(12345678901234567890\r\n",
		"!3\r\nERR\r\n",
		"=7\r\ntxt:abc\r\n",
	}
	for _, v := range values {
		for _, chunk := range []int{1, 2, 3, 7} {
			src := &chunkReader{s: v + "+NEXT\r\n", chunk: chunk}
			r := NewReader(bufio.NewReaderSize(src, 64), Limits{})
			fills := 0
			for !r.Ready() {
				if err := r.Fill(); err != nil {
					t.Fatalf("%q chunk %d: Fill: %v", v, chunk, err)
				}
				fills++
				if fills > len(v)+1 {
					t.Fatalf("%q chunk %d: never ready", v, chunk)
				}
			}
			if r.Buffered() < len(v) {
				t.Fatalf("%q chunk %d: ready with %d of %d bytes buffered", v, chunk, r.Buffered(), len(v))
			}
			src.s = "" // nothing more to read: Read must use the buffer alone
			if _, err := r.Read(); err != nil {
				t.Fatalf("%q chunk %d: Read after Ready: %v", v, chunk, err)
			}
		}
	}
}

func TestReadyWaitsForTheRestOfAValue(t *testing.T) {
	for _, v := range []string{"", "+OK", "$5\r\nhel", "*2\r\n:1\r\n", "|1\r\n+a\r\n:1\r\n"} {
		r := NewReader(bufio.NewReaderSize(strings.NewReader(v), 64), Limits{})
		_ = r.Fill()
		if r.Ready() {
			t.Errorf("%q: ready", v)
		}
	}
}

// TestReadyOnWhatReadRefuses: a value Read refuses from its first bytes is
// ready, so that the refusal comes at once instead of a wait for more.
func TestReadyOnWhatReadRefuses(t *testing.T) {
	limits := Limits{MaxBulkLen: 1000, MaxAggregateLen: 1000}
	for _, v := range []string{"+OK\n", "$x\r\n", "$-2\r\n", "$5000\r\n", "*5000\r\n", "*1\r\n$-7\r\n"} {
		r := NewReader(bufio.NewReaderSize(strings.NewReader(v), 64), limits)
		_ = r.Fill()
		if !r.Ready() {
			t.Errorf("%q: not ready", v)
			continue
		}
		if _, err := r.Read(); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: Read = %v, want a protocol error", v, err)
		}
	}
}

func TestFillReportsAFullBuffer(t *testing.T) {
	big := "$100\r\n" + strings.Repeat("x", 100) + "\r\n"
	r := NewReader(bufio.NewReaderSize(strings.NewReader(big), 16), Limits{})
	var err error
	for range 20 {
		if err = r.Fill(); err != nil {
			break
		}
	}
	if !errors.Is(err, bufio.ErrBufferFull) || r.Ready() {
		t.Fatalf("Fill = %v, Ready %v; want ErrBufferFull, not ready", err, r.Ready())
	}
	v, err := r.Read()
	if err != nil || len(v.Str) != 100 {
		t.Fatalf("Read after a full buffer: %d bytes, %v", len(v.Str), err)
	}
}

// TestFillKeepsTheBufferAfterAnError: a stream error (the direct reader's
// cancelled wait) loses none of the bytes already buffered.
func TestFillKeepsTheBufferAfterAnError(t *testing.T) {
	errWait := errors.New("wait cancelled")
	parts := []string{"$5\r\nhe", "", "llo\r\n"}
	i := 0
	src := readerFunc(func(p []byte) (int, error) {
		part := parts[i]
		i++
		if part == "" {
			return 0, errWait
		}
		return copy(p, part), nil
	})
	r := NewReader(bufio.NewReaderSize(src, 64), Limits{})
	if err := r.Fill(); err != nil || r.Ready() {
		t.Fatalf("first Fill: %v, ready %v", err, r.Ready())
	}
	if err := r.Fill(); !errors.Is(err, errWait) {
		t.Fatalf("second Fill = %v, want the stream's error", err)
	}
	if err := r.Fill(); err != nil || !r.Ready() {
		t.Fatalf("third Fill: %v, ready %v", err, r.Ready())
	}
	if v, err := r.Read(); err != nil || v.Str != "hello" {
		t.Fatalf("Read = %q, %v", v.Str, err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
