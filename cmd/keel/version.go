package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

// libraryPath is the module of the keel library the tool is built on.
const libraryPath = "github.com/keel-go/keel"

// runVersion prints the tool's version and that of the keel library it was
// built with, as recorded in the binary: "v0.1.0" for both after
// `go install github.com/keel-go/keel/cmd/keel@v0.1.0`, "(devel)" for what
// a checkout builds.
func runVersion(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("keel version", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintln(w, "usage: keel version\n\nprints the tool's version and the keel library version it was built with")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("version takes no arguments, got %q", fs.Args())
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("version: the binary carries no build information")
	}
	tool, library := versions(bi)
	fmt.Fprintf(w, "keel %s\nlibrary %s %s\n%s\n", tool, libraryPath, library, bi.GoVersion)
	return nil
}

// versions returns the tool's module version and the keel library's, each
// "(devel)" when built from a checkout (the workspace, or a replace with a
// directory) rather than from a released module.
func versions(bi *debug.BuildInfo) (tool, library string) {
	tool = moduleVersion(&bi.Main)
	library = "(devel)"
	if bi.Main.Path == libraryPath {
		library = tool
	}
	for _, m := range bi.Deps {
		if m.Path == libraryPath {
			library = moduleVersion(m)
		}
	}
	return tool, library
}

func moduleVersion(m *debug.Module) string {
	if m.Replace != nil {
		m = m.Replace
	}
	return cmp.Or(m.Version, "(devel)")
}
