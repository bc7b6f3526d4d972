package resp

import (
	"bytes"
	"runtime"
	"testing"
)

// TestMakeNoZeroKeepsItsMemory checks that a buffer from makeNoZero is as
// long as asked, and that the collector keeps it whole while it is in use,
// however much is allocated and collected meanwhile.
func TestMakeNoZeroKeepsItsMemory(t *testing.T) {
	for _, n := range []int{0, 1, noZeroMin - 1, noZeroMin, 16 << 10, 1 << 20} {
		bufs := make([][]byte, 4)
		for i := range bufs {
			bufs[i] = makeNoZero(n)
			if len(bufs[i]) != n || cap(bufs[i]) < n {
				t.Fatalf("makeNoZero(%d): len %d, cap %d", n, len(bufs[i]), cap(bufs[i]))
			}
			for j := range bufs[i] {
				bufs[i][j] = byte(i + j)
			}
		}
		for range 3 {
			runtime.GC()
			for range 16 {
				garbage := makeNoZero(n + 1)
				clear(garbage)
			}
		}
		for i, b := range bufs {
			want := make([]byte, n)
			for j := range want {
				want[j] = byte(i + j)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("makeNoZero(%d): buffer %d changed after collections", n, i)
			}
		}
	}
}

func TestGrowNoZeroKeepsTheBytes(t *testing.T) {
	b := append(makeNoZero(noZeroMin)[:0], "abc"...)
	grown := growNoZero(b, 1<<20)
	if string(grown) != "abc" || cap(grown)-len(grown) < 1<<20 {
		t.Fatalf("growNoZero: %q, room %d", grown, cap(grown)-len(grown))
	}
	if same := growNoZero(grown, 10); &same[:1][0] != &grown[:1][0] {
		t.Fatal("growNoZero reallocated a slice with room enough")
	}
}
