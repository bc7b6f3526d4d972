package testutil

import "testing"

// SkipIfShort skips a slow test under go test -short: one that starts its
// own cluster and breaks it (failovers, migrations, restarts), taking
// seconds where a test on the shared cluster takes milliseconds.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow (starts its own cluster and breaks it): skipped under -short")
	}
}
