package peers

import "runtime/debug"

// moduleVersion returns the version of module path linked into this binary,
// as the build recorded it (a replacement's version if it is replaced).
// Binaries without that record — test binaries carry no dependency list —
// fall back to libVersion, the version the library reports about itself, and
// then to "unknown".
func moduleVersion(path, libVersion string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path != path {
				continue
			}
			if m.Replace != nil && m.Replace.Version != "" {
				return m.Replace.Version
			}
			if m.Version != "" {
				return m.Version
			}
		}
	}
	if libVersion != "" {
		return "v" + libVersion
	}
	return "unknown"
}
