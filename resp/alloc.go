package resp

import (
	"strings"
	"unsafe"
)

// A bulk string is read into memory the Reader allocates for it, and the
// read overwrites every byte. make would zero that memory first, which for
// large values is a good part of the cost: BenchmarkReadLargeBulk reads a
// 1 MiB value in 120–150 µs without the zeroing and in 370–630 µs with it
// (on a 2-core virtual machine), and zeroing is 11% of a go-redis
// process's CPU in keel bench's GET1MiB. Buffers of noZeroMin bytes or more
// are therefore allocated without zeroing: strings.Builder.Grow is the
// standard library's way to get memory that its caller will overwrite. No
// byte of such a buffer is looked at before the read overwrote it; a failed
// read's buffer is dropped.
const noZeroMin = 4 << 10

// makeNoZero returns a slice of n bytes, which the caller must overwrite
// before reading any.
func makeNoZero(n int) []byte {
	if n < noZeroMin {
		return make([]byte, n)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(0) // String gives the allocation's address only when not empty
	return unsafe.Slice(unsafe.StringData(b.String()), n)
}

// growNoZero returns b with room for extra more bytes, as slices.Grow does,
// without zeroing the new room.
func growNoZero(b []byte, extra int) []byte {
	if cap(b)-len(b) >= extra {
		return b
	}
	grown := makeNoZero(len(b) + extra)[:len(b)]
	copy(grown, b)
	return grown
}
