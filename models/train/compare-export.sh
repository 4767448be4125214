#!/usr/bin/env bash
# The end of a training session: export the campaign's checkpoint into a model folder beside the shipped one (its
# presets and manifest history carried over), then score both on the validation crops at each shipped preset with
# the product's own sampler (sr eval, MATLAB-bicubic LR, x4, seed 0). Prints a table and writes it as JSON; the
# export replaces the shipped model only if it wins (README "Training"), which this script never does itself.
#
#   bash models/train/compare-export.sh [CHECKPOINT] [OUT]
#     CHECKPOINT  default models/train/runs/campaign/ckpt.pt
#     OUT         default /tmp/m-new (the exported model folder)
#   VAL=/tmp/val128all (validation crops; made with val_crops.py --count 98 if missing), PRESETS="fidelity default"
set -euo pipefail
cd "$(dirname "$0")/../.."
ckpt=${1:-models/train/runs/campaign/ckpt.pt}
out=${2:-/tmp/m-new}
val=${VAL:-/tmp/val128all}
presets=${PRESETS:-fidelity default}
py=/usr/bin/python3

[ -f "$ckpt" ] || { echo "compare-export: no checkpoint at $ckpt" >&2; exit 2; }
[ -f dist/src/cli/index.js ] || npm run build >/dev/null
if [ ! -d "$val" ]; then
  "$py" models/train/val_crops.py --data ../shared/data/train --out "$val" --count 98
fi
rm -rf "$out"
mkdir -p "$out"
shipped=${SHIPPED:-models/gaussian}  # the Gaussian campaign's shipped model
cp "$shipped/manifest.json" "$out/"
"$py" models/train/export.py --checkpoint "$ckpt" --name default --out "$out" --fp16-weights --ship-checkpoint
results=$(mktemp -d)
for p in $presets; do
  for m in shipped new; do
    dir=$([ "$m" = shipped ] && echo "$shipped" || echo "$out")
    node dist/src/cli/index.js eval --hr "$val" --factor 4 --model "$dir" --preset "$p" --seed 0 --json "$results/$p-$m.json" -q >/dev/null
  done
done
node -e '
  const fs = require("fs");
  const [dir, presets, out] = [process.argv[1], process.argv[2].split(" "), process.argv[3]];
  const read = (p, m) => JSON.parse(fs.readFileSync(`${dir}/${p}-${m}.json`, "utf8")).mean;
  const rows = presets.map((p) => ({ preset: p, shipped: read(p, "shipped"), new: read(p, "new") }));
  const manifest = (d) => JSON.parse(fs.readFileSync(`${d}/manifest.json`, "utf8"));
  const summary = {
    val: process.argv[4], shipped: manifest(process.argv[5]).sha256.slice(0, 12), new: manifest(out).sha256.slice(0, 12),
    rows: rows.map((r) => ({ preset: r.preset, shipped: { psnrY: r.shipped.psnrY, ssimY: r.shipped.ssimY }, new: { psnrY: r.new.psnrY, ssimY: r.new.ssimY } })),
    newWinsEveryPreset: rows.every((r) => r.new.psnrY > r.shipped.psnrY),
  };
  fs.writeFileSync(`${out}/comparison.json`, JSON.stringify(summary, null, 2) + "\n");
  console.log(`validation: ${summary.val} (x4, MATLAB-bicubic LR, seed 0); shipped ${summary.shipped} vs new ${summary.new}`);
  for (const r of rows) console.log(`${r.preset.padEnd(10)} shipped ${r.shipped.psnrY.toFixed(3)} dB / ${r.shipped.ssimY.toFixed(4)}   new ${r.new.psnrY.toFixed(3)} dB / ${r.new.ssimY.toFixed(4)}   ${(r.new.psnrY - r.shipped.psnrY >= 0 ? "+" : "") + (r.new.psnrY - r.shipped.psnrY).toFixed(3)} dB`);
  console.log(summary.newWinsEveryPreset ? "the export wins at every preset" : "the export does not win at every preset: keep the shipped model");
' "$results" "$presets" "$out" "$val" "$shipped"
