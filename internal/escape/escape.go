// Package escape hides a value from the compiler's escape analysis, so that a
// caller's value boxed into an interface can stay on the caller's stack.
//
// go vet's unsafeptr check flags the conversion below, as it must: the
// Makefile vets this package alone without that check.
package escape

import "unsafe"

// NoEscape returns v, with escape analysis unable to see that it flows
// through (the same trick as the standard library's internal abi.NoEscape).
// Use it only where nothing can keep the interface itself: keel uses it for
// an argument whose MarshalBinary it calls, where a value receiver gets a
// copy of the boxed value and a pointer receiver's pointer is the caller's
// own, not the box.
//
//go:nosplit
func NoEscape(v any) any {
	p := uintptr(unsafe.Pointer(&v))
	//lint:ignore SA4016 the xor hides the pointer's origin from escape analysis
	return *(*any)(unsafe.Pointer(p ^ 0))
}
