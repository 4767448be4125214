#!/usr/bin/env bash
# One GPU training run (≈ 9 minutes), prepared to run unchanged on the GPU machine (PyTorch 2.x, no installs):
# trains or resumes within a wall-clock budget, exports ONNX + manifest, evaluates on the held-out validation split,
# and writes the model, the resumable float16 checkpoint parts and the logs to $OUT.
#   local test:  bash models/train/gpu-pack.sh && OUT=/tmp/gpu-out bash models/train/gpu-train.sh 0.2
#   device run:  run(command="bash models/train/gpu-train.sh 8", carry=[".gpu"], timeout_s=600)
#   soft-resample family: bash models/train/gpu-pack.sh soft here, then "bash models/train/gpu-train.sh 8 --family
#   soft-resample" (arguments after the minutes go to train.py; the packed weights resume a run of the same family)
# Afterwards, here: copy $OUT/model.onnx, manifest.json, checkpoint/part-*.pt into models/default/, then
#   /usr/bin/python3 models/train/export.py --checkpoint models/default/checkpoint --name default --fp16-weights
# (re-export locally if the GPU's PyTorch could not export ONNX), and run benchmarks/quality.
set -uo pipefail
minutes=${1:-8}
shift || true
extra=("$@")
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
log="$OUT/train.log"
resume=()
[ -f .gpu/resume.pt ] && resume=(--resume .gpu/resume.pt)
{
  echo "gpu-train: $(date -u +%FT%TZ) budget ${minutes} min"; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
  $PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
  $PY models/train/train.py --data .gpu/train --run /tmp/gpu-run --preset gpu --minutes "$minutes" \
      --save-every 2 "${resume[@]}" "${extra[@]}" || echo "gpu-train: training failed"
  $PY models/train/export.py --checkpoint /tmp/gpu-run/ckpt.pt --name default --out "$OUT/model" --fp16-weights \
      --ship-checkpoint || echo "gpu-train: ONNX export failed here; the checkpoint parts are still written; export locally"
  [ -d "$OUT/model/checkpoint" ] || $PY -c "import sys; sys.path.insert(0,'models/train'); from ckpt import load, save_shipped; save_shipped('$OUT/model/checkpoint', load('/tmp/gpu-run/ckpt.pt'))"
  cp /tmp/gpu-run/log.jsonl "$OUT/log.jsonl" 2>/dev/null
  if printf '%s\n' "${extra[@]}" | grep -qx soft-resample; then
    echo "gpu-train: soft-resample: evaluate here with benchmarks/prior-ab.ts or models/train/soft_probe.py"
  else
    $PY models/train/evaluate.py --checkpoint /tmp/gpu-run/ckpt.pt --data .gpu/val --limit 64 --json "$OUT/val-eval.json" \
      || echo "gpu-train: evaluation failed"
  fi
  echo "gpu-train: done $(date -u +%FT%TZ)"
} 2>&1 | tee "$log"
ls -la "$OUT" "$OUT/model" "$OUT/model/checkpoint" 2>/dev/null
