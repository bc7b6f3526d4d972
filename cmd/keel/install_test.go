package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// `go install github.com/keel-go/keel/cmd/keel@<version>` works for the
// newest version in CHANGELOG.md: scripts/install-from-proxy.sh builds a
// module proxy from the repository's HEAD and installs from it, offline,
// and the installed tool reports that version for itself and the library.
// The first run builds the tool and its dependencies (a minute or more):
// skipped with -short.
func TestInstallFromProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tool from a module proxy: skipped with -short")
	}
	if err := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Run(); err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	changelog, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\]`).FindSubmatch(changelog)
	if m == nil {
		t.Fatal("CHANGELOG.md has no released version")
	}
	version := "v" + string(m[1])

	out, err := exec.Command("../../scripts/install-from-proxy.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("install-from-proxy.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"\nkeel " + version + "\n", "\nlibrary github.com/keel-go/keel " + version + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", strings.TrimSpace(want), out)
		}
	}
}
