// Command modproxy writes a file-based Go module proxy (for GOPROXY=file://…)
// holding keel's modules at one version, built from a git revision of the
// repository: for each module its .info, .mod and .zip under
// <out>/<module>/@v/, and its list. It is how scripts/install-from-proxy.sh
// shows that `go install github.com/keel-go/keel/cmd/keel@<version>` works
// once the repository is tagged, without the network.
//
//	go run . -repo ../.. -rev HEAD -version v0.1.0 -out /tmp/proxy
package main

import (
	"archive/tar"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// modules are keel's modules: path, and directory in the repository.
var modules = []struct{ path, dir string }{
	{"github.com/keel-go/keel", ""},
	{"github.com/keel-go/keel/cmd/keel", "cmd/keel"},
}

func main() {
	repo := flag.String("repo", ".", "the repository's root directory")
	rev := flag.String("rev", "HEAD", "the git revision to build the modules from")
	version := flag.String("version", "", "the version to give every module, such as v0.1.0")
	out := flag.String("out", "", "the proxy's directory (created)")
	flag.Parse()
	if err := run(*repo, *rev, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

func run(repo, rev, version, out string) error {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("-version %q is not a canonical semantic version such as v0.1.0", version)
	}
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	root, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	when, err := commitTime(root, rev)
	if err != nil {
		return err
	}
	// zip.CreateFromVCS would do, but it does not recognise a git worktree:
	// the revision is exported to a directory instead.
	tree, err := os.MkdirTemp("", "modproxy-tree-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tree)
	if err := export(root, rev, tree); err != nil {
		return err
	}
	for _, m := range modules {
		if err := write(filepath.Join(tree, filepath.FromSlash(m.dir)), m.path, version, when, out); err != nil {
			return fmt.Errorf("%s@%s: %w", m.path, version, err)
		}
	}
	return nil
}

// write adds one module version, from its directory dir, to the proxy in
// out. Nested modules (cmd/keel in the root module) are left out of the
// zip, as the go command leaves them out.
func write(dir, path, version string, when time.Time, out string) error {
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(vdir, version)

	f, err := os.Create(base + ".zip")
	if err != nil {
		return err
	}
	err = zip.CreateFromDir(f, module.Version{Path: path, Version: version}, dir)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".mod", goMod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, when.UTC()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	list, err := os.OpenFile(filepath.Join(vdir, "list"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(list, version)
	if cerr := list.Close(); err == nil {
		err = cerr
	}
	return err
}

// export writes the files of rev into dir, as git archive gives them.
func export(root, rev, dir string) error {
	cmd := exec.Command("git", "archive", "--format=tar", rev)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	err = untar(stdout, dir)
	_, _ = io.Copy(io.Discard, stdout)
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("git archive %s: %w", rev, werr)
	}
	return err
}

// untar writes the directories and regular files of a tar stream into
// dir; anything else (symbolic links) is skipped, as module zips hold
// neither.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, dir+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q leaves the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			err = writeFile(name, tr, h.FileInfo().Mode().Perm())
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(name string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// commitTime is when rev was committed: the version's time in .info.
func commitTime(root, rev string) (time.Time, error) {
	out, err := git(root, "log", "-1", "--format=%cI", rev)
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, strings.TrimSpace(string(out)))
}

func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, stderr)
	}
	return out, nil
}
