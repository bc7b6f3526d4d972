package conn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/keel-go/keel/resp"
)

// wireCommands mixes small commands with arguments on both sides of
// bigArgBytes, big ones first, last and side by side.
func wireCommands() [][]string {
	big := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	return [][]string{
		{"SET", "a", big('x', bigArgBytes)},
		{"GET", "a"},
		{"SET", "b", big('y', bigArgBytes-1)},
		{"MSET", "c", big('z', 3*bigArgBytes), "d", big('w', bigArgBytes+7)},
		{"PING"},
		{"SET", big('k', bigArgBytes), big('v', 2*bigArgBytes)},
	}
}

// encode puts cmds in a fresh wireBatch and returns it with each command's
// start, and the encoding AppendCommand gives them (what must go out).
func encode(cmds [][]string) (w *wireBatch, starts []int, want []byte) {
	w = new(wireBatch)
	for _, args := range cmds {
		starts = append(starts, w.appendCommand(args))
		if starts[len(starts)-1] != len(want) {
			panic("start is not the command's wire offset")
		}
		want = resp.AppendCommand(want, args)
	}
	return w, starts, want
}

// A batch with big arguments writes exactly the bytes of its commands
// encoded whole, its offsets count the referenced bytes, and none of the
// big arguments was copied into the buffer.
func TestWireBatchWritesCommandsWhole(t *testing.T) {
	w, _, want := encode(wireCommands())
	if w.size != len(want) {
		t.Fatalf("size %d, want %d", w.size, len(want))
	}
	referenced := 0
	for _, b := range w.bigs {
		referenced += len(b.data)
	}
	if len(w.bigs) != 5 || len(w.buf)+referenced != len(want) {
		t.Fatalf("%d arguments referenced (%d bytes), %d in the buffer; want the 5 of bigArgBytes or more referenced, the rest in the buffer", len(w.bigs), referenced, len(w.buf))
	}
	var got bytes.Buffer
	n, err := w.writeTo(&got)
	if err != nil || n != len(want) || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("wrote %d bytes (%v), equal %v; want the %d bytes of the commands", n, err, bytes.Equal(got.Bytes(), want), len(want))
	}
	w.reset()
	if !w.empty() || len(w.bigs) != 0 || len(w.store) != 0 {
		t.Fatal("reset kept the batch")
	}
}

// Over a TCP socket, where the pieces go out in writev(2), the peer reads
// the commands whole.
func TestWireBatchOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w, _, want := encode(wireCommands())
	got := make(chan []byte, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer nc.Close()
		b, _ := io.ReadAll(io.LimitReader(nc, int64(len(want))))
		got <- b
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if n, err := w.writeTo(nc); err != nil || n != len(want) {
		t.Fatalf("wrote %d, %v; want %d", n, err, len(want))
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("peer read %d bytes, not the %d of the commands", len(b), len(want))
	}
}

// failingWriter takes up to room bytes, then fails.
type failingWriter struct{ room int }

var errFull = errors.New("full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= f.room {
		f.room -= len(p)
		return len(p), nil
	}
	n := f.room
	f.room = 0
	return n, errFull
}

// A write failing at any byte reports exactly the wire bytes written, big
// arguments' included, so the requests starting at or after it, and only
// those, are known unsent (markUnsent).
func TestWireBatchFailedWriteCountsExactly(t *testing.T) {
	w, starts, want := encode(wireCommands())
	cuts := []int{0, 1, len(want) - 1}
	for _, s := range starts {
		cuts = append(cuts, s-1, s, s+1, s+bigArgBytes, s+bigLead, s+bigLead+64, s+3*bigLead)
	}
	for _, cut := range cuts {
		if cut < 0 || cut >= len(want) {
			continue
		}
		n, err := w.writeTo(&failingWriter{room: cut})
		if !errors.Is(err, errFull) || n != cut {
			t.Fatalf("write failing after %d bytes reported %d, %v", cut, n, err)
		}
	}
}
