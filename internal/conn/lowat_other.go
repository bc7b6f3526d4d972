//go:build !linux || !(amd64 || arm || arm64 || loong64 || riscv64 || s390x)

package conn

import "syscall"

// lowWaterSupported is false where the mark is not known to hold readers
// back in the network poller too, or its ioctl numbers differ, and on
// linux/386, whose reader-behind check (behind_unix.go) cannot tell bytes
// the mark holds back from bytes the reader is late for: reads there take
// what arrives.
func lowWaterSupported() bool { return false }

func setLowWater(uintptr, int) (int, error) { return 0, nil }

func queuedBytes(syscall.RawConn) (int, bool) { return 0, false }
