"""Training-step time of the shipped architecture in float32 and under bfloat16 autocast, side by side on this CPU.

  /usr/bin/python3 benchmarks/train-precision.py [--threads 2] [--steps 8] [--rounds 3] [--label NAME]

One step as models/train/train.py takes it (preset cpu: batch 16, crop 64; forward, MSE, backward, clip, AdamW),
alternating float32 and bf16 rounds so that a busier minute of the machine does not fall on one of them. Writes
benchmarks/results/train-precision-<label>.{json,md}. Say what else ran beside it.
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, 'models', 'train'))
from patched_unet import PatchedUNet  # noqa: E402
from train import PRESETS  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--steps', type=int, default=8, help='timed steps per round (after 2 warm-up steps)')
ap.add_argument('--rounds', type=int, default=3)
ap.add_argument('--label', default=datetime.date.today().isoformat())
ap.add_argument('--note', default='', help='what else ran on the machine')
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
arch, batch, crop, lr = PRESETS['cpu']
model = PatchedUNet(**arch)
opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
x = torch.randn(batch, 3, crop, crop)
t = torch.randint(0, 1000, (batch,)).float()
eps = torch.randn(batch, 3, crop, crop)


def step(amp):
    with amp:
        out = model(x, t)
    loss = F.mse_loss(out.float(), eps)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


times = {'fp32': [], 'bf16': []}
for r in range(a.rounds):
    for mode in ('fp32', 'bf16'):
        amp = torch.autocast(device_type='cpu', dtype=torch.bfloat16) if mode == 'bf16' else contextlib.nullcontext()
        for _ in range(2):
            step(amp)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step(amp)
        times[mode].append((time.perf_counter() - t0) / a.steps)
        print(f'round {r + 1} {mode}: {times[mode][-1] * 1000:.0f} ms/step', flush=True)

med = {k: statistics.median(v) for k, v in times.items()}
cpu = platform.processor() or platform.machine()
try:
    with open('/proc/cpuinfo') as f:
        cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
except (OSError, StopIteration):
    pass
result = {'label': a.label, 'cpu': cpu, 'threads': a.threads, 'torch': torch.__version__, 'batch': batch, 'crop': crop,
          'arch': arch, 'steps_per_round': a.steps, 'rounds': a.rounds, 'seconds_per_step': times,
          'median_seconds_per_step': med, 'speedup': med['fp32'] / med['bf16'], 'note': a.note}
out = os.path.join(root, 'benchmarks', 'results')
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, f'train-precision-{a.label}.json'), 'w') as f:
    json.dump(result, f, indent=2)
md = [f'# Training step: float32 vs bfloat16 autocast ({a.label})', '',
      f'`/usr/bin/python3 benchmarks/train-precision.py --threads {a.threads} --steps {a.steps} --rounds {a.rounds}` '
      f'on {cpu}, {a.threads} threads, torch {torch.__version__}; preset cpu (batch {batch}, crop {crop}, {arch}).'
      + (f' Beside it: {a.note}.' if a.note else ''), '',
      '| precision | ms/step per round | median ms/step | crops/s |', '|---|---|---:|---:|']
for k in ('fp32', 'bf16'):
    md.append(f"| {k} | {', '.join(f'{v * 1000:.0f}' for v in times[k])} | {med[k] * 1000:.0f} | {batch / med[k]:.1f} |")
md += ['', f"bf16 autocast takes {result['speedup']:.2f}x the steps per second of float32.", '']
with open(os.path.join(out, f'train-precision-{a.label}.md'), 'w') as f:
    f.write('\n'.join(md))
print('\n'.join(md))
