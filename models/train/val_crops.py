"""Write the validation crops that presets and model comparisons are chosen on (never Set5/Set14).

  python3 models/train/val_crops.py --data ../shared/data/train --out /tmp/val128 [--size 128] [--count 48]

  python3 models/train/val_crops.py ... --lr-factors 2,4,8 --jpeg 75
also writes <out>-lr/x<f>/ (LR made by the product's MATLAB-style antialiased bicubic, Keys a = -0.5, 8-bit PNG) and
<out>-lr/x<f>-jpeg<q>/ (the same LR saved as JPEG at quality q, 4:2:0, as PIL and most cameras write it).

Takes the held-out validation split of data.py (the same name hash the trainer leaves out), sorted by name, and
writes the centre size x size crop of the first `count` images as PNG. Deterministic: the same folder gives the same
crops, so sweeps on them can be repeated and compared across models.
"""
import argparse
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import list_images  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--count', type=int, default=48)
    ap.add_argument('--val-fraction', type=float, default=0.05)
    ap.add_argument('--lr-factors', default='', help='e.g. 2,4,8: also write LR inputs per factor')
    ap.add_argument('--jpeg', type=int, action='append', default=[], help='also write the LR as JPEG at this quality')
    a = ap.parse_args()
    names = list_images(a.data, 'val', a.val_fraction)[:a.count]
    os.makedirs(a.out, exist_ok=True)
    for n in names:
        with Image.open(os.path.join(a.data, n)) as im:
            im = im.convert('RGB')
            w, h = im.size
            if min(w, h) < a.size:
                raise SystemExit(f'{n} is {w}x{h}, smaller than {a.size}')
            x, y = (w - a.size) // 2, (h - a.size) // 2
            im.crop((x, y, x + a.size, y + a.size)).save(os.path.join(a.out, os.path.splitext(n)[0] + '.png'))
    print(f'{len(names)} crops of {a.size}x{a.size} in {a.out}')
    if a.lr_factors:
        write_lr(a.out, [int(f) for f in a.lr_factors.split(',')], a.jpeg)


def write_lr(hr_dir, factors, qualities):
    import numpy as np
    import torch
    import soft
    for f in factors:
        for q in [None] + qualities:
            d = f"{hr_dir.rstrip('/')}-lr/x{f}" + (f'-jpeg{q}' if q else '')
            os.makedirs(d, exist_ok=True)
            for n in sorted(os.listdir(hr_dir)):
                with Image.open(os.path.join(hr_dir, n)) as im:
                    x = torch.from_numpy(np.asarray(im.convert('RGB'), dtype=np.float32).copy()).permute(2, 0, 1)
                h, w = x.shape[1] // f, x.shape[2] // f
                y = soft.resize(x[None], h, w, 1 / f, 1 / f)[0].round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
                stem = os.path.splitext(n)[0]
                if q:
                    Image.fromarray(y).save(os.path.join(d, stem + '.jpg'), quality=q)
                else:
                    Image.fromarray(y).save(os.path.join(d, stem + '.png'))
            print(f'LR x{f}{" JPEG " + str(q) if q else ""} in {d}')


if __name__ == '__main__':
    main()
