"""Resumable checkpoints.

Two forms:
- the run checkpoint (`<run>/ckpt.pt`): float32 raw + EMA weights, optimizer state, counters; written during training.
- the shipped checkpoint (`models/<name>/checkpoint/part-NN.pt`): raw + EMA weights in float16 and the counters, split
  into parts of at most 16 MiB so that it travels to and back from the GPU machine and lives in git. Resuming from it
  restarts the optimizer moments (stated in the log), everything else continues.
"""
import glob
import io
import os

import torch

PART_BYTES = 15 * 1024 * 1024


def save_run(path: str, state: dict) -> None:
    tmp = path + '.tmp'
    torch.save(state, tmp)
    os.replace(tmp, path)


def save_shipped(folder: str, state: dict) -> list:
    half = {k: v for k, v in state.items() if k not in ('model', 'ema', 'opt')}
    half['model'] = {k: v.half() if v.is_floating_point() else v for k, v in state['model'].items()}
    half['ema'] = {k: v.half() if v.is_floating_point() else v for k, v in state['ema'].items()}
    buf = io.BytesIO()
    torch.save(half, buf)
    data = buf.getvalue()
    os.makedirs(folder, exist_ok=True)
    for old in glob.glob(os.path.join(folder, 'part-*.pt')):
        os.remove(old)
    paths = []
    for i in range(0, len(data), PART_BYTES):
        p = os.path.join(folder, f'part-{i // PART_BYTES:02d}.pt')
        with open(p, 'wb') as f:
            f.write(data[i:i + PART_BYTES])
        paths.append(p)
    return paths


def load(path: str) -> dict:
    """A run checkpoint file, or a shipped checkpoint folder (parts joined, weights back to float32)."""
    if os.path.isdir(path):
        parts = sorted(glob.glob(os.path.join(path, 'part-*.pt')))
        if not parts:
            raise SystemExit(f'no checkpoint parts in {path}')
        data = b''.join(open(p, 'rb').read() for p in parts)
        state = torch.load(io.BytesIO(data), map_location='cpu')
        for key in ('model', 'ema'):
            state[key] = {k: v.float() if v.is_floating_point() else v for k, v in state[key].items()}
        return state
    return torch.load(path, map_location='cpu')
