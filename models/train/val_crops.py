"""Write the validation crops that presets and model comparisons are chosen on (never Set5/Set14).

  python3 models/train/val_crops.py --data ../shared/data/train --out /tmp/val128 [--size 128] [--count 48]

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


if __name__ == '__main__':
    main()
