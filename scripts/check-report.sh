#!/usr/bin/env bash
# Renders a drill HTML report in headless Chromium and checks that the page
# really renders: the screenshot must not be blank and must show the shard
# colours of the timeline charts.
#
#   scripts/check-report.sh [report.html]
#
# With no argument it checks the synthetic report of drill's tests. It
# installs Debian's chromium when it is missing. The screenshot is left in
# $OUT (default: a new temporary directory) and its path printed.
set -euo pipefail

cd "$(dirname "$0")/.."

# The first shard colours (cmd/keel/internal/drill/report/html.go, rptShardColors); the test
# TestReportColoursInCheckScript keeps them in step.
COLOURS="#1f77b4,#ff7f0e,#9467bd"

OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/keel-report-check.XXXXXX")}"
mkdir -p "$OUT"

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then
    browser="$b"
    break
  fi
done
if [ -z "$browser" ]; then
  echo "check-report: installing chromium"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  browser=chromium
fi

if [ $# -ge 1 ]; then
  report="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  [ -f "$report" ] || { echo "check-report: no such file: $1" >&2; exit 1; }
else
  report="$OUT/sample-report.html"
  (cd cmd/keel && KEEL_DRILL_SAMPLE_HTML="$report" go test -count=1 -run '^TestWriteSampleHTML$' ./internal/drill/report/ >/dev/null)
  [ -s "$report" ] || { echo "check-report: the test wrote no report to $report" >&2; exit 1; }
fi

shot="$OUT/report.png"
rm -f "$shot"
profile="$(mktemp -d "${TMPDIR:-/tmp}/keel-chromium.XXXXXX")"
trap 'rm -rf "$profile"' EXIT
# --virtual-time-budget lets the page finish laying out before the shot;
# the page loads nothing from the network, so nothing else is awaited.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --window-size=1280,2400 \
  --virtual-time-budget=2000 --screenshot="$shot" "file://$report" >"$OUT/chromium.log" 2>&1 || {
  echo "check-report: $browser failed; its output:" >&2
  cat "$OUT/chromium.log" >&2
  exit 1
}
[ -s "$shot" ] || { echo "check-report: $browser wrote no screenshot; see $OUT/chromium.log" >&2; exit 1; }

go run ./scripts/pngcheck -colours "$COLOURS" "$shot"
echo "check-report: ok: $report renders; screenshot: $shot"
