package main

import (
	stdzip "archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// The proxy holds both modules at the version, each zip valid for the go
// command and the root one without cmd/keel (a module of its own), with
// .mod, .info and list beside them.
func TestProxyHoldsBothModules(t *testing.T) {
	if err := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Run(); err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	out := t.TempDir()
	if err := run("../..", "HEAD", "v0.1.0", out); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, has, lacks string
	}{
		{"github.com/keel-go/keel", "keel.go", "cmd/keel/"},
		{"github.com/keel-go/keel/cmd/keel", "main.go", ""},
	} {
		m := module.Version{Path: tc.path, Version: "v0.1.0"}
		base := filepath.Join(out, tc.path, "@v", "v0.1.0")
		if _, err := zip.CheckZip(m, base+".zip"); err != nil {
			t.Errorf("%s: zip invalid: %v", tc.path, err)
		}
		names := zipNames(t, base+".zip")
		prefix := tc.path + "@v0.1.0/"
		if !names[prefix+"go.mod"] || !names[prefix+tc.has] {
			t.Errorf("%s: zip lacks go.mod or %s", tc.path, tc.has)
		}
		for name := range names {
			if tc.lacks != "" && strings.HasPrefix(name, prefix+tc.lacks) {
				t.Errorf("%s: zip holds %s, which belongs to another module", tc.path, name)
				break
			}
		}
		mod, err := os.ReadFile(base + ".mod")
		if err != nil || !strings.HasPrefix(string(mod), "module "+tc.path+"\n") {
			t.Errorf("%s: .mod = %q, %v", tc.path, mod, err)
		}
		var info struct{ Version string }
		data, err := os.ReadFile(base + ".info")
		if err == nil {
			err = json.Unmarshal(data, &info)
		}
		if err != nil || info.Version != "v0.1.0" {
			t.Errorf("%s: .info = %s, %v", tc.path, data, err)
		}
		if list, err := os.ReadFile(filepath.Join(out, tc.path, "@v", "list")); string(list) != "v0.1.0\n" {
			t.Errorf("%s: list = %q, %v", tc.path, list, err)
		}
	}
}

func TestBadVersionRefused(t *testing.T) {
	for _, v := range []string{"", "0.1.0", "v0.1"} {
		if err := run("../..", "HEAD", v, t.TempDir()); err == nil {
			t.Errorf("version %q accepted", v)
		}
	}
}

func zipNames(t *testing.T, file string) map[string]bool {
	t.Helper()
	zr, err := stdzip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	return names
}
