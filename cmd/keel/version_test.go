package main

import (
	"bytes"
	"regexp"
	"runtime/debug"
	"testing"
)

func TestVersionPrintsToolAndLibrary(t *testing.T) {
	var out bytes.Buffer
	if err := runVersion(&out, nil); err != nil {
		t.Fatalf("keel version: %v", err)
	}
	want := regexp.MustCompile(`^keel \S+\nlibrary github\.com/keel-go/keel \S+\ngo\S+\n$`)
	if !want.MatchString(out.String()) {
		t.Errorf("keel version printed %q, want it to match %s", out.String(), want)
	}
	if err := runVersion(&out, []string{"extra"}); err == nil {
		t.Error("keel version extra: no error")
	}
}

func TestVersionsFromBuildInfo(t *testing.T) {
	const tool = "github.com/keel-go/keel/cmd/keel"
	for _, tc := range []struct {
		name                string
		bi                  debug.BuildInfo
		wantTool, wantLibIs string
	}{
		{"go install @v0.1.0", debug.BuildInfo{
			Main: debug.Module{Path: tool, Version: "v0.1.0"},
			Deps: []*debug.Module{{Path: "go.uber.org/goleak", Version: "v1.3.0"}, {Path: libraryPath, Version: "v0.1.0"}},
		}, "v0.1.0", "v0.1.0"},
		{"a newer library than the tool's own", debug.BuildInfo{
			Main: debug.Module{Path: tool, Version: "v0.1.0"},
			Deps: []*debug.Module{{Path: libraryPath, Version: "v0.2.0"}},
		}, "v0.1.0", "v0.2.0"},
		{"workspace checkout", debug.BuildInfo{
			Main: debug.Module{Path: tool, Version: "(devel)"},
			Deps: []*debug.Module{{Path: libraryPath, Version: "(devel)"}},
		}, "(devel)", "(devel)"},
		{"replaced by a directory", debug.BuildInfo{
			Main: debug.Module{Path: tool, Version: "(devel)"},
			Deps: []*debug.Module{{Path: libraryPath, Version: "v0.1.0", Replace: &debug.Module{Path: "../.."}}},
		}, "(devel)", "(devel)"},
		{"test binary", debug.BuildInfo{Main: debug.Module{Path: tool}}, "(devel)", "(devel)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotTool, gotLib := versions(&tc.bi)
			if gotTool != tc.wantTool || gotLib != tc.wantLibIs {
				t.Errorf("versions = %q, %q; want %q, %q", gotTool, gotLib, tc.wantTool, tc.wantLibIs)
			}
		})
	}
}
