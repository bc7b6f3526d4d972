package drill

import "runtime/debug"

// moduleVersion returns the version of module path in the running binary.
// A module built from a local checkout (the main module, or one replaced by
// a directory) is named by the checkout's commit when the build recorded it.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	version := ""
	if info.Main.Path == path {
		version = info.Main.Version
	}
	for _, m := range info.Deps {
		if m.Path == path {
			version = m.Version
			if m.Replace != nil {
				version = m.Replace.Version
			}
		}
	}
	if version != "" && version != "v0.0.0" && version != "(devel)" {
		return version
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 7:
			rev = s.Value[:7]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+changes"
		}
	}
	if rev == "" {
		return "local checkout"
	}
	return "checkout " + rev + dirty
}
