#!/usr/bin/env bash
# The GPU measurements in one call (≈ 4–6 minutes of GPU time, each step bounded by `timeout`):
#   1. PyTorch reference of the same model and sampler (benchmarks/torch_reference.py): fp32 / tf32 / fp16-autocast
#      latency at batch 1..16 and the ×8 t=100 cascade-3 sampler loop, eager;
#   2. a float16-compute ONNX of the model (benchmarks/gpu-fp16.py), for the fp16 lever;
#   3. node dist/benchmarks/speed.js --device webgpu: latency per variant (EP defaults, NCHW, Dawn validation off,
#      fp16, fp16 + validation off) and batch, GPU-resident IO binding and graph capture, the ×8 and tiled ×4 jobs,
#      the CLI, and the ratios webgpu_vs_pytorch_latency_b1 / webgpu_vs_pytorch_throughput against step 1;
#   4. node dist/benchmarks/speed.js --device cpu (all the machine's cores; --quick).
# A step that fails is recorded in the log and the next one runs. Everything lands in $OUT (6 files + this log).
#
# Here, first:  bash benchmarks/gpu-prepare.sh   (build, kit, size check; prints the device call)
# Device call:  run(command="bash benchmarks/gpu-run.sh", carry=[".devicekit", "dist"], timeout_s=600)
# CPU test here: OUT=/tmp/gpu-out MODEL=/tmp/probe-model QUICK=1 bash benchmarks/gpu-run.sh
#   (webgpu then fails with a DeviceError, recorded, and the rest runs)
# Then copy $OUT/speed-*.json/.md and torch-*.json into benchmarks/results/ and commit them with this command.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-run.log") 2>&1
t0=$(date +%s)
PY=${PYTHON:-python3}
QUICK=${QUICK:-}
step() { echo "gpu-run: [$(( $(date +%s) - t0 )) s] $*"; }
step "start $(date -u +%FT%TZ) on $(hostname)"
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
echo "gpu: ${gpu:-none found}"
label=$(echo "${gpu%%,*}" | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
label=${LABEL:-${label:-local}}
if [ -n "${MODEL:-}" ]; then model=$MODEL
elif [ -f models/default/model.onnx ]; then model=models/default
else model=models/fixture; echo "gpu-run: models/default is missing: the fixture stands in (not representative)"; fi
echo "model: $model ($(du -sh "$model/model.onnx" | cut -f1)); checkpoint: $(ls "$model"/checkpoint/part-*.pt 2>/dev/null | wc -l) parts"

# 0. Node.js, node_modules and the Vulkan loader from the kit (see benchmarks/gpu-kit.sh or ../shared/tools/device-kit.sh)
# (only where node is missing or a GPU is present: env.sh unpacks the loaders into /)
if [ -f .devicekit/env.sh ] && { ! command -v node >/dev/null || [ -n "$gpu" ]; }; then source .devicekit/env.sh; fi
node --version || echo "gpu-run: no node: the node steps will fail"
[ -f dist/benchmarks/speed.js ] || echo "gpu-run: dist/ is missing: build here (npx tsc -p .) and carry dist"

# 1. PyTorch reference
step "torch_reference"
torch_json="$OUT/torch-$label.json"
if [ -n "$QUICK" ]; then targs=(--batches 1,2 --quick); else targs=(--batches 1,2,4,8,16); fi
PYTHONUNBUFFERED=1 timeout 150 $PY benchmarks/torch_reference.py --model "$model" --out "$torch_json" "${targs[@]}" \
  || echo "gpu-run: torch_reference failed (exit $?)"

# 2. float16-compute ONNX
step "gpu-fp16"
fp16=/tmp/sr-fp16/model.fp16.onnx; mkdir -p /tmp/sr-fp16
fp16args=()
timeout 40 $PY benchmarks/gpu-fp16.py "$model/model.onnx" "$fp16" && fp16args=(--fp16-onnx "$fp16") \
  || echo "gpu-run: gpu-fp16 failed (exit $?): no fp16 variants"

# 3. webgpu (batch up to 16; jobs with the EP defaults and the best variant at batch 1)
step "speed webgpu"
q=(); [ -n "$QUICK" ] && q=(--quick)
timeout 240 node dist/benchmarks/speed.js --device webgpu --model "$model" --out "$OUT" --label "$label" \
  --torch "$torch_json" "${fp16args[@]}" "${q[@]}" --note "GPU machine: ${gpu:-?}" \
  || echo "gpu-run: speed webgpu failed or could not open the device (exit $?); see its JSON"

# 4. CPU EP on the same machine (all cores)
step "speed cpu"
timeout 100 node dist/benchmarks/speed.js --device cpu --model "$model" --out "$OUT" --label "$label" --quick \
  "${fp16args[@]}" --note "GPU machine's CPU, ${gpu:-?}" || echo "gpu-run: speed cpu failed (exit $?)"
step "done"
ls -la "$OUT"
