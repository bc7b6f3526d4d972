package bench

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestWriteRESP(t *testing.T) {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	writeRESP(w, "SET", "k", "")
	writeRESP(w, "GET", "ké")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$3\r\nké\r\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestSkipReply(t *testing.T) {
	// OK, a bulk string, a null, a RESP3 null, then one more bulk string:
	// each skipped exactly, so the next starts where it should.
	r := bufio.NewReader(strings.NewReader("+OK\r\n$5\r\nhe\r\no\r\n$-1\r\n_\r\n$0\r\n\r\n"))
	for i := range 5 {
		if err := skipReply(r); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
	}
	if _, err := r.ReadByte(); err == nil {
		t.Error("bytes left after the last reply")
	}
	for _, bad := range []string{"-MOVED 1 127.0.0.1:1\r\n", "$x\r\n", ":1\r\n", "$5\r\nab"} {
		if err := skipReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
