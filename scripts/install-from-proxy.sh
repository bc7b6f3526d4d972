#!/usr/bin/env bash
# Shows that `go install github.com/keel-go/keel/cmd/keel@<version>` works
# for a release, without the network: builds a file-based module proxy
# holding keel's two modules at <version> from a git revision of this
# repository (scripts/modproxy), then installs the tool from it into a
# temporary GOBIN, with its dependencies taken from the local module cache
# (as a second file:// proxy), and runs `keel version`.
#
#   scripts/install-from-proxy.sh [version]   # default: the newest version in CHANGELOG.md
#   REV=<git revision> scripts/install-from-proxy.sh   # default HEAD: committed work only
#
# Nothing outside a temporary directory is written: the install uses a
# module cache of its own, so a version built here never shadows the real
# release in yours.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/v\1/p' "$root/CHANGELOG.md" | head -n 1)}"
rev="${REV:-HEAD}"
if [ -z "$version" ]; then
  echo "install-from-proxy: no version given and none found in CHANGELOG.md" >&2
  exit 1
fi
cache="$(go env GOMODCACHE)/cache/download"

tmp="$(mktemp -d)"
cleanup() {
  chmod -R u+w "$tmp" 2>/dev/null || true # the module cache is read-only
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "install-from-proxy: keel $version from $rev"
(cd "$root/scripts/modproxy" &&
  GOPROXY=off GOFLAGS= GOTOOLCHAIN=local go run . -repo "$root" -rev "$rev" -version "$version" -out "$tmp/proxy")

# Outside the repository (no go.work or go.mod applies), with no network:
# keel's modules from the proxy just built, the rest from the module cache.
(cd "$tmp" &&
  env GOWORK=off GOPROXY="file://$tmp/proxy,file://$cache" GOSUMDB=off GOFLAGS="-mod=mod -trimpath" \
    GONOPROXY= GOPRIVATE= GONOSUMDB= GOTOOLCHAIN=local \
    GOMODCACHE="$tmp/modcache" GOBIN="$tmp/bin" \
    go install "github.com/keel-go/keel/cmd/keel@$version")

out="$("$tmp/bin/keel" version)"
echo "$out"
# Here-strings, not pipes: grep -q stops reading at the first match, and
# under pipefail the writer's SIGPIPE would fail the check.
if ! grep -qx "keel $version" <<<"$out" ||
  ! grep -qx "library github.com/keel-go/keel $version" <<<"$out"; then
  echo "install-from-proxy: keel version does not report $version for the tool and the library" >&2
  exit 1
fi
echo "install-from-proxy: ok"
