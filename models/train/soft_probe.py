"""Quick PyTorch probe of a soft-resample checkpoint on the validation LR sets (for choosing what the product's sampler
should try; the published figures come from the TypeScript pipeline, benchmarks/prior-ab.ts).

  python3 models/train/soft_probe.py --checkpoint models/train/runs/soft-ft/snapshots/cpu-000900.pt \
      --hr /tmp/ab/val --factor 4 [--jpeg 75] [--limit 24]

Reads HR crops and the LR made by val_crops.py (<hr>-lr/x<f>[-jpeg<q>]), enlarges with the product's bicubic, and
scores (PSNR-Y, shave = factor) variants: 1 step with/without noise, back-projection iterations after the model,
K-sample means, flips (self-ensemble), and multi-step soft-DDIM.
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soft  # noqa: E402
from ckpt import load  # noqa: E402
from evaluate import y_psnr  # noqa: E402
from patched_unet import PatchedUNet  # noqa: E402


def read(path):
    with Image.open(path) as im:
        a = np.asarray(im.convert('RGB'), dtype=np.float32)
    return torch.from_numpy(a.copy()).permute(2, 0, 1).div(127.5).sub(1)


def up(lr, f):
    h, w = lr.shape[-2:]
    return soft.resize(lr, h * f, w * f, f, f, antialias=False)


def down(x, f):
    h, w = x.shape[-2:]
    return soft.resize(x, h // f, w // f, 1 / f, 1 / f)


def back_project(x, lr, f, n):
    for _ in range(n):
        x = x - up(down(x, f) - lr, f)
    return x


@torch.no_grad()
def sample(model, xup, lr, f, steps=1, eta=0.0, noise=True, bp=1, gen=None, final_bp=0):
    tau0 = soft.level_of_factor(f)
    x = xup + (soft.sigma(tau0) * torch.randn(xup.shape, generator=gen) if noise else 0)
    for i in range(steps, 0, -1):
        tau, prev = tau0 * i / steps, tau0 * (i - 1) / steps
        x0 = (x + model(x, torch.full((x.shape[0],), 1000 * tau))).clamp(-1, 1)
        x0 = back_project(x0, lr, f, bp)
        if prev == 0:
            return back_project(x0, lr, f, final_bp).clamp(-1, 1)
        st, sp = soft.sigma(tau), soft.sigma(prev)
        eps = (x - soft.resample(x0, tau)) / st
        z = torch.randn(x.shape, generator=gen)
        x = soft.resample(x0, prev) + sp * ((1 - eta ** 2) ** 0.5 * eps + eta * z)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checkpoint', required=True)
    ap.add_argument('--hr', required=True)
    ap.add_argument('--factor', type=int, default=4)
    ap.add_argument('--jpeg', type=int)
    ap.add_argument('--limit', type=int, default=24)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    state = load(a.checkpoint)
    model = PatchedUNet(**state['config']['arch'])
    model.load_state_dict({k: v.float() for k, v in state['ema'].items()})
    model.eval()
    f = a.factor
    lr_dir = f"{a.hr.rstrip('/')}-lr/x{f}" + (f'-jpeg{a.jpeg}' if a.jpeg else '')
    names = sorted(os.listdir(a.hr))[:a.limit]
    hr = torch.stack([read(os.path.join(a.hr, n)) for n in names])
    ext = '.jpg' if a.jpeg else '.png'
    lr = torch.stack([read(os.path.join(lr_dir, os.path.splitext(n)[0] + ext)) for n in names])
    xup = up(lr, f).clamp(-1, 1)
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    base = mean(y_psnr(xup, hr, f))
    print(f'{len(names)} crops x{f}{" JPEG " + str(a.jpeg) if a.jpeg else ""}: bicubic {base:.3f} dB; '
          f'bicubic back-projected 20x {mean(y_psnr(back_project(xup, lr, f, 20).clamp(-1, 1), hr, f)) - base:+.3f}')
    variants = {
        '1 step, noise, ibp 1': dict(),
        '1 step, no noise, ibp 1': dict(noise=False),
        '1 step, noise, no consistency': dict(bp=0),
        '1 step, noise, ibp 1 + 10 more': dict(final_bp=10),
        '1 step, no noise, ibp 1 + 10 more': dict(noise=False, final_bp=10),
        '2 steps eta 0, ibp 1': dict(steps=2),
        '3 steps eta 0, ibp 1': dict(steps=3),
        '3 steps eta 1, ibp 1': dict(steps=3, eta=1.0),
    }
    for name, kw in variants.items():
        gen = torch.Generator().manual_seed(0)
        out = sample(model, xup, lr, f, gen=gen, **kw)
        print(f'  {name:36s} {mean(y_psnr(out, hr, f)) - base:+.3f}')
    gen = torch.Generator().manual_seed(0)
    outs = [sample(model, xup, lr, f, gen=gen) for _ in range(4)]
    print(f'  {"mean of K=4, 1 step each":36s} {mean(y_psnr(torch.stack(outs).mean(0), hr, f)) - base:+.3f}')
    flips = []
    for dims in ([], [3], [2], [2, 3]):
        fl = (lambda t: t.flip(dims)) if dims else (lambda t: t)  # noqa: E731
        flips.append(fl(sample(model, fl(xup), fl(lr), f, noise=False, gen=gen)))
    print(f'  {"mean of 4 flips, no noise":36s} {mean(y_psnr(torch.stack(flips).mean(0), hr, f)) - base:+.3f}')


if __name__ == '__main__':
    main()
