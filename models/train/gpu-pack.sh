#!/usr/bin/env bash
# Packs what a GPU training run needs into .gpu/ (git-ignored) at the project root, within the 64 MiB that travels:
# the training crops minus the validation split, and the model's EMA weights to resume from (float16, ~12 MB).
#   bash models/train/gpu-pack.sh [model-name]        (default: default)
# Then one device call (see gpu-train.sh):  carry [".gpu"], command "bash models/train/gpu-train.sh 8.5"
# The tracked model files (ONNX, checkpoint parts) would also travel and do not fit beside the data: this script
# removes them from the working tree (the resume weights are in .gpu/resume.pt); put them back after the run with
#   bash models/train/gpu-pack.sh --restore        (= git checkout of those files)
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
big() { git ls-files models | grep -E '/model\.onnx$|/checkpoint/part-[0-9]+\.pt$' || true; }
if [ "${1:-}" = "--restore" ]; then
  files=$(big); [ -z "$files" ] || git checkout -- $files; echo "restored: $(echo $files | wc -w) model files"; exit 0
fi
name=${1:-default}
data=${SR_TRAIN_DATA:-../shared/data/train}
PY=${PYTHON:-/usr/bin/python3}
grep -qxF "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
rm -rf .gpu; mkdir -p .gpu/train .gpu/val
$PY - "$data" "$name" <<'PY'
import os, shutil, sys
sys.path.insert(0, 'models/train')
from data import list_images
src = sys.argv[1]
names = list_images(src, 'train', 0.05)
squeeze = os.path.isdir(f'models/{sys.argv[2]}/checkpoint')  # room for the resume weights: re-encode at q90 (-20%)
if squeeze:
    from PIL import Image
for n in names:
    if squeeze:
        with Image.open(os.path.join(src, n)) as im:
            im.convert('RGB').save(os.path.join('.gpu/train', os.path.splitext(n)[0] + '.jpg'), 'JPEG', quality=90, subsampling=0)
    else:
        shutil.copy(os.path.join(src, n), '.gpu/train')
print(f'{len(names)} training images packed (validation split left out)' + (', re-encoded JPEG q90 4:4:4' if squeeze else ''))
os.makedirs('.gpu/val', exist_ok=True)
val = list_images(src, 'val', 0.05)[:48]
for n in val:
    shutil.copy(os.path.join(src, n), '.gpu/val')
print(f'{len(val)} validation images packed for the evaluation')
PY
if [ -d "models/$name/checkpoint" ]; then
  $PY - "models/$name/checkpoint" <<'PY'
import sys, torch
sys.path.insert(0, 'models/train')
from ckpt import load
s = load(sys.argv[1])
s['model'] = {k: v.half() if v.is_floating_point() else v for k, v in s['ema'].items()}  # raw := EMA for travel
s['ema'] = s['model']
s.pop('opt', None)
torch.save(s, '.gpu/resume.pt')
print('resume checkpoint: EMA weights at step', s['counters']['steps'])
PY
fi
files=$(big); [ -z "$files" ] || rm -f $files
echo "removed from the working tree for the run (restore with --restore): $(echo $files | wc -w) model files"
travel=$( (git ls-files -z | xargs -0 -r du -ck 2>/dev/null | tail -1 | cut -f1; du -sk .gpu | cut -f1) | paste -sd+ | bc)
echo "travels: $((travel / 1024)) MiB (limit 64)"
[ "$travel" -lt $((62 * 1024)) ] || { echo "gpu-pack: $((travel / 1024)) MiB would travel; the limit is 64 MiB" >&2; exit 1; }
