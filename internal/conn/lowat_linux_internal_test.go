//go:build linux && (amd64 || arm || arm64 || loong64 || riscv64 || s390x)

package conn

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for release, want := range map[string]bool{
		"5.10.0":          true,
		"5.10":            true,
		"5.9.16":          false,
		"4.18.0-553.el8":  false,
		"5.15.0-91-aws":   true,
		"6.1.0-13-amd64":  true,
		"6.18.44-fc-v782": true,
		"5.10-rc1":        true,
		"4.14.336":        false,
		"10.0":            true,
		"":                false,
		"linux":           false,
	} {
		if got := kernelAtLeast(release, 5, 10); got != want {
			t.Errorf("kernelAtLeast(%q, 5, 10) = %v, want %v", release, got, want)
		}
	}
}
