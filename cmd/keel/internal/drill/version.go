package drill

import "runtime/debug"

// ModuleVersion returns the version of module path linked into the running
// binary, for reports. A module built from a local checkout (the main
// module, or one replaced by a directory) is named by the checkout's commit
// when the build recorded it. libVersion, the version a library reports
// about itself, is the answer when the binary records no version for path
// (test binaries carry no dependency list); pass "" when there is none.
func ModuleVersion(path, libVersion string) string {
	info, _ := debug.ReadBuildInfo()
	if info != nil {
		for _, m := range append([]*debug.Module{&info.Main}, info.Deps...) {
			if m.Path != path {
				continue
			}
			v := m.Version
			if m.Replace != nil {
				v = m.Replace.Version
			}
			if v != "" && v != "v0.0.0" && v != "(devel)" {
				return v
			}
			return checkoutVersion(info)
		}
	}
	if libVersion != "" {
		return "v" + libVersion
	}
	return checkoutVersion(info)
}

// checkoutVersion names the checkout the binary was built from.
func checkoutVersion(info *debug.BuildInfo) string {
	rev, dirty := "", ""
	if info != nil {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && len(s.Value) >= 7:
				rev = s.Value[:7]
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "+changes"
			}
		}
	}
	if rev == "" {
		return "local checkout"
	}
	return "checkout " + rev + dirty
}
