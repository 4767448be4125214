"""A folder of training images, held in memory as uint8, with random crops and flips.

A deterministic validation split is held out by file name (a stable hash), so presets can be chosen on images the
model never trained on. Evaluation sets (Set5, Set14) never enter: pass only ../shared/data/train here.
"""
import hashlib
import os

import numpy as np
import torch
from PIL import Image

EXTS = ('.png', '.jpg', '.jpeg', '.webp', '.bmp')


def is_validation(name: str, fraction: float) -> bool:
    h = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return (h % 10000) < fraction * 10000


def list_images(folder: str, split: str, val_fraction: float) -> list:
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(EXTS))
    if split == 'all':
        return names
    keep_val = split == 'val'
    return [n for n in names if is_validation(n, val_fraction) == keep_val]


class ImageBank:
    """All images as one list of uint8 tensors [3, H, W]; `batch` draws random crops with flips."""

    def __init__(self, folder: str, split: str = 'train', val_fraction: float = 0.05, min_size: int = 0):
        self.names = list_images(folder, split, val_fraction)
        if not self.names:
            raise SystemExit(f'no images for split {split!r} in {folder}')
        self.images = []
        for n in self.names:
            with Image.open(os.path.join(folder, n)) as im:
                a = np.asarray(im.convert('RGB'), dtype=np.uint8)
            if min(a.shape[:2]) >= min_size:
                self.images.append(torch.from_numpy(a.copy()).permute(2, 0, 1).contiguous())

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, size: int, crop: int, gen: torch.Generator) -> torch.Tensor:
        out = torch.empty(size, 3, crop, crop, dtype=torch.uint8)
        idx = torch.randint(len(self.images), (size,), generator=gen)
        for i, j in enumerate(idx.tolist()):
            im = self.images[j]
            _, h, w = im.shape
            y = int(torch.randint(h - crop + 1, (1,), generator=gen))
            x = int(torch.randint(w - crop + 1, (1,), generator=gen))
            c = im[:, y:y + crop, x:x + crop]
            if torch.rand(1, generator=gen) < 0.5:
                c = c.flip(2)
            if torch.rand(1, generator=gen) < 0.5:
                c = c.flip(1)
            out[i] = c
        return out.float().div_(127.5).sub_(1.0)
