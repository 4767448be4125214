#!/usr/bin/env bash
# Prepares the GPU benchmark run here (no GPU needed) and checks that it can travel:
#   bash benchmarks/gpu-prepare.sh [--slim]
# 1. builds dist/ (npx tsc -p .);
# 2. makes .devicekit/ if it is missing (../shared/tools/device-kit.sh, or benchmarks/gpu-kit.sh with --slim);
# 3. adds up what would travel (tracked and untracked-not-ignored files, plus the carried .devicekit and dist)
#    against the 64 MiB limit and says what to do when it does not fit;
# 4. prints the device call.
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
npx tsc -p . >/dev/null 2>&1 || { npx tsc -p .; exit 1; }
if [ ! -f .devicekit/env.sh ]; then
  if [ "${1:-}" = --slim ]; then bash benchmarks/gpu-kit.sh; else bash ../shared/tools/device-kit.sh; fi
fi
files=$( (git ls-files; git ls-files --others --exclude-standard) | sort -u | while read -r f; do [ -f "$f" ] && stat -c %s "$f"; done | awk '{s+=$1} END {print s+0}')
kit=$(du -sb .devicekit | cut -f1)
dist=$(du -sb dist | cut -f1)
total=$((files + kit + dist)); limit=$((64 * 1024 * 1024))
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1e6}'; }
echo "travels: working tree $(mb "$files") + .devicekit $(mb "$kit") + dist $(mb "$dist") = $(mb "$total") (limit $(mb $limit))"
if [ "$total" -gt "$limit" ]; then
  echo "gpu-prepare: TOO LARGE by $(mb $((total - limit)))."
  echo "  - try the slimmer kit: rm -rf .devicekit && bash benchmarks/gpu-prepare.sh --slim (saves ~3.5 MB)"
  echo "  - the largest files that travel:"
  (git ls-files; git ls-files --others --exclude-standard) | sort -u | while read -r f; do [ -f "$f" ] && echo "$(stat -c %s "$f") $f"; done | sort -rn | head -6 | awk '{printf "      %.1f MB %s\n", $1 / 1e6, $2}'
  echo "  - torch_reference.py does not need models/default/checkpoint (it reads the same EMA weights from model.onnx"
  echo "    when the folder has no checkpoint parts), so the checkpoint parts may stay behind for this call, e.g. moved"
  echo "    aside for its duration (mv models/default/checkpoint /tmp/ckpt-aside; … ; mv /tmp/ckpt-aside models/default/checkpoint)"
  exit 1
fi
echo 'device call: run(command="bash benchmarks/gpu-run.sh", carry=[".devicekit", "dist"], timeout_s=600)'
