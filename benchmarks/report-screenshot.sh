#!/usr/bin/env bash
# Screenshot check of a sweep report: renders <dir>/report.html in Debian's headless chromium and writes a PNG
# to look at (a check script, not an npm test: CI has no chromium).
#
#   benchmarks/report-screenshot.sh <sweep-out-dir> [out.png] [width] [height]
#
# Needs `chromium` (apt-get install -y chromium). Fails when the report or chromium is missing, or no PNG came out.
set -euo pipefail
dir=${1:?usage: $0 <sweep-out-dir> [out.png] [width] [height]}
out=${2:-$dir/report-screenshot.png}
width=${3:-1200}
height=${4:-2000}
html=$(cd "$dir" && pwd)/report.html
[ -f "$html" ] || { echo "no report at $html (run sr sweep first)" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium not found (apt-get install -y chromium)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --screenshot="$out" --window-size="$width,$height" "file://$html" >/dev/null 2>&1 || true
[ -s "$out" ] || { echo "chromium wrote no screenshot" >&2; exit 1; }
echo "$out"
