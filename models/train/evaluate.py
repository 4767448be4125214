"""Quick PyTorch evaluation of a checkpoint on the held-out validation split (never Set5/Set14): x4 super-resolution
with Boomerang (+ DDNM consistency or vanilla) against bicubic, Y-PSNR (BT.601, shave = scale).

For monitoring training and for the GPU run, where Node.js is not needed. Its timesteps and x0 rule are the
product's (schedule.py's set_timesteps and x0_coefficients, checked against the TypeScript sampler through
sampler-golden.json); its consistency step is DDNM's average-pooling projection and its LR torch's antialiased bicubic
downscale (close to MATLAB's imresize), so its figures are for monitoring; presets and the published figures come from
`sr sweep` / `sr eval` / benchmarks/learning-curve.ts, the TypeScript pipeline itself.

  python3 models/train/evaluate.py --checkpoint models/train/runs/default/ckpt.pt --data ../shared/data/train
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckpt import load  # noqa: E402
from data import ImageBank  # noqa: E402
from patched_unet import PatchedUNet  # noqa: E402
from schedule import linear_alphas_cumprod, set_timesteps, x0_coefficients  # noqa: E402


def y_psnr(a, b, shave):
    w = torch.tensor([65.481, 128.553, 24.966], dtype=torch.float64).view(1, 3, 1, 1) / 255
    ya = ((a.double() + 1) * 127.5).round().clamp(0, 255)
    yb = ((b.double() + 1) * 127.5).round().clamp(0, 255)
    ya = 16 + (ya * w).sum(1)
    yb = 16 + (yb * w).sum(1)
    d = (ya - yb)[:, shave:-shave, shave:-shave]
    mse = d.pow(2).mean(dim=(1, 2))
    return (10 * torch.log10(255 ** 2 / mse)).tolist()


@torch.no_grad()
def boomerang(model, ab, x, t, steps, y, factor, gen, consistency=True, prediction='eps'):
    a = ab[t]
    xt = a.sqrt() * x + (1 - a).sqrt() * torch.randn(x.shape, generator=gen).to(x.device)
    for k, prev in set_timesteps(t, steps):
        a_k, a_p = ab[k], (ab[prev] if prev > 0 else torch.tensor(1.0, dtype=ab.dtype, device=ab.device))
        out = model(xt, torch.full((x.shape[0],), float(k), device=x.device))
        p, q = x0_coefficients(prediction, float(a_k))
        x0 = (p * xt + q * out).clamp(-1, 1)
        if consistency:
            x0 = x0 - F.interpolate(F.avg_pool2d(x0, factor) - y, scale_factor=factor, mode='nearest')
        if prev == 0:
            return x0.clamp(-1, 1)
        eps = (xt - a_k.sqrt() * x0) / (1 - a_k).sqrt()
        beta = 1 - a_k / a_p
        var = (1 - a_p) / (1 - a_k) * beta
        mean = (a_p.sqrt() * beta / (1 - a_k)) * x0 + ((1 - beta).sqrt() * (1 - a_p) / (1 - a_k)) * xt
        xt = mean + var.sqrt() * torch.randn(x.shape, generator=gen).to(x.device)
    return xt


def evaluate(model, data, val_fraction, ts=(50, 100, 200), steps=20, factor=4, limit=24, crop=128, device='cpu', prediction='eps'):
    bank = ImageBank(data, 'val', val_fraction)
    hr = torch.stack([im[:, :crop, :crop] for im in bank.images[:limit]]).float().div(127.5).sub(1).to(device)
    lr = F.interpolate(hr, scale_factor=1 / factor, mode='bicubic', antialias=True, align_corners=False).clamp(-1, 1)
    lr = ((lr + 1) * 127.5).round().div(127.5).sub(1)  # 8-bit LR, as a user's file would be
    up = F.interpolate(lr, scale_factor=factor, mode='bicubic', align_corners=False).clamp(-1, 1)
    ab = linear_alphas_cumprod().to(device)
    res = {'images': hr.shape[0], 'crop': crop, 'factor': factor, 'steps': steps,
           'bicubic': sum(y_psnr(up, hr, factor)) / hr.shape[0]}
    for cons in (True, False):
        for t in ts:
            gen = torch.Generator().manual_seed(0)
            out = torch.cat([boomerang(model, ab, up[i:i + 8], t, steps, lr[i:i + 8], factor, gen, cons, prediction)
                             for i in range(0, hr.shape[0], 8)])
            res[f"{'ddnm' if cons else 'vanilla'}_t{t}"] = sum(y_psnr(out, hr, factor)) / hr.shape[0]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--limit', type=int, default=24)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--json')
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    state = load(a.checkpoint)
    model = PatchedUNet(**state['config']['arch']).to(dev)
    model.load_state_dict(state['ema'])
    model.eval()
    t0 = time.time()
    res = evaluate(model, a.data, state['config']['val_fraction'], steps=a.steps, limit=a.limit, device=dev,
                   prediction=state['config']['prediction'])
    res['checkpoint_steps'] = state['counters']['steps']
    res['seconds'] = round(time.time() - t0, 1)
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()}))
    if a.json:
        json.dump(res, open(a.json, 'w'), indent=1)


if __name__ == '__main__':
    main()
