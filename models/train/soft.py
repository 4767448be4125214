"""The soft-resample family: a prior trained on the corruption Boomerang hands it (issue 27).

Forward process (Soft/Cold Diffusion with a deterministic corruption, Daras et al. 2022, Bansal et al. 2022): at level
tau in [0, 1] the clean image x is shrunk by s(tau) = 8**tau with MATLAB's antialiased bicubic (Keys a = -0.5), stored
as 8-bit (and, for part of each batch, through a JPEG round trip of the small image), enlarged back with the product's
centre-aligned bicubic, and Gaussian noise of std sigma(tau) = SIGMA_MAX * tau is added:

    x_tau = U_s(Q(D_s(x))) + sigma(tau) * eps

so an input upsampled by factor f is exactly the corruption at tau_f = log(f) / log(8) (x2 1/3, x4 2/3, x8 1): the
level is tied to the factor. The model sees t = 1000 * tau (the contract's t input) and predicts the residual
x - x_tau ('residual', InDI's direction of travel), so x0_hat = x_tau + out; a network started from the Gaussian
prior's weights begins near the identity.

The resizes are the product's (src/image/upsample.ts axisWeights): output pixel i samples input coordinate
(i + 0.5) / scale - 0.5, weights normalised per pixel, edges replicated; here as dense matrices per (in, out) size.
"""
import io
import math

import numpy as np
import torch

SIGMA_MAX = 0.04  # noise std at tau = 1 in [-1, 1] units (5 grey levels at x8, 3.4 at x4, 1.7 at x2)
FACTOR_LEVELS = (2, 3, 4, 8)


def level_of_factor(f: float) -> float:
    return min(1.0, math.log(f) / math.log(8))


def sigma(tau):
    return SIGMA_MAX * tau


def keys(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return np.where(a <= 1, 1.5 * a ** 3 - 2.5 * a ** 2 + 1, np.where(a <= 2, -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2, 0.0))


_cache = {}


def resize_matrix(n_in: int, n_out: int, scale: float, antialias: bool = True) -> torch.Tensor:
    """[n_out, n_in] float64: as axisWeights(n_in, n_out, scale, 'bicubic', antialias, 'replicate')."""
    key = (n_in, n_out, round(scale, 9), antialias)
    m = _cache.get(key)
    if m is None:
        ks = scale if antialias and scale < 1 else 1.0
        support = 2.0 / ks
        w = np.zeros((n_out, n_in))
        for i in range(n_out):
            c = (i + 0.5) / scale - 0.5
            js = np.arange(math.floor(c - support), math.ceil(c + support) + 1)
            ws = keys((c - js) * ks)
            ws = ws / ws.sum()
            for j, v in zip(np.clip(js, 0, n_in - 1), ws):
                w[i, j] += v
        m = torch.from_numpy(w)  # float64; cast to the image's dtype per call
        _cache[key] = m
    return m


def resize(x: torch.Tensor, h: int, w: int, scale_y: float, scale_x: float, antialias: bool = True) -> torch.Tensor:
    """[B, C, H, W] -> [B, C, h, w] with the product's separable bicubic."""
    my = resize_matrix(x.shape[-2], h, scale_y, antialias).to(x.device, x.dtype)
    mx = resize_matrix(x.shape[-1], w, scale_x, antialias).to(x.device, x.dtype)
    return torch.einsum('oh,bchw,pw->bcop', my, x, mx)


def jpeg_round_trip(small: torch.Tensor, quality: int) -> torch.Tensor:
    """[3, h, w] in [-1, 1] (8-bit values) through PIL's JPEG at `quality` (4:2:0, as most cameras and PIL write)."""
    from PIL import Image
    a = ((small.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format='JPEG', quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        b = np.asarray(im.convert('RGB'), dtype=np.uint8)
    return torch.from_numpy(b.copy()).permute(2, 0, 1).float().div(127.5).sub(1)


def shrink_size(H: int, W: int, tau: float):
    s = 8.0 ** tau  # sizes rounded half up, as JavaScript's Math.round in corruptTo
    return max(1, math.floor(H / s + 0.5)), max(1, math.floor(W / s + 0.5))


def resample(x: torch.Tensor, tau: float) -> torch.Tensor:
    """D_tau without the 8-bit step: [B, 3, H, W] shrunk to shrink_size and enlarged back (src/diffusion/soft.ts
    corruptTo, checked through soft-golden.json)."""
    H, W = x.shape[-2:]
    h, w = shrink_size(H, W, tau)
    if (h, w) == (H, W):
        return x.clone()
    return resize(resize(x, h, w, h / H, w / W), H, W, H / h, W / w, antialias=False)


def corrupt(x: torch.Tensor, tau: float, jpeg_quality=None) -> torch.Tensor:
    """One image [3, H, W] at level tau, without the noise: U(Q(D(x))) (JPEG round trip of the small image if asked)."""
    _, H, W = x.shape
    h, w = shrink_size(H, W, tau)
    if h == H and w == W:
        small = x
    else:
        small = resize(x[None], h, w, h / H, w / W)[0]
    small = ((small.clamp(-1, 1) + 1) * 127.5).round().div(127.5).sub(1)  # 8-bit, as a file holds it
    if jpeg_quality is not None:
        small = jpeg_round_trip(small, jpeg_quality)
    if h == H and w == W:
        return small
    return resize(small[None], H, W, H / h, W / w, antialias=False)[0]


def sample_levels(n: int, gen: torch.Generator, factor_share: float = 0.5) -> torch.Tensor:
    """Half at the levels of the factors users ask for (x2, x3, x4, x8), half uniform in [0, 1] (the sampler's
    intermediate levels and the cascade's re-corruption)."""
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    pick = torch.randint(len(FACTOR_LEVELS), (n,), generator=gen)
    at_factor = torch.rand(n, generator=gen) < factor_share
    fixed = torch.tensor([level_of_factor(f) for f in FACTOR_LEVELS], dtype=torch.float64)[pick]
    return torch.where(at_factor, fixed, u)


def training_batch(x0: torch.Tensor, gen: torch.Generator, jpeg_share: float = 0.3):
    """(x_tau, t = 1000 tau, target residual) for a batch of clean crops [B, 3, H, W] in [-1, 1]."""
    b = x0.shape[0]
    taus = sample_levels(b, gen)
    use_jpeg = torch.rand(b, generator=gen) < jpeg_share
    qualities = torch.randint(30, 96, (b,), generator=gen)
    xs = []
    for i in range(b):
        tau = float(taus[i])
        q = int(qualities[i]) if bool(use_jpeg[i]) and tau > 0.05 else None
        xs.append(corrupt(x0[i], tau, q))
    y = torch.stack(xs)
    noise = torch.randn(x0.shape, generator=gen)
    xt = y + sigma(taus).float()[:, None, None, None] * noise
    return xt, (1000.0 * taus).float(), x0 - xt


def golden() -> dict:
    """Values the TypeScript side (test/diffusion-soft.test.ts) must reproduce: levels, sizes and D_tau."""
    n = 3 * 12 * 10
    x = (0.9 * torch.sin(0.37 * torch.arange(n, dtype=torch.float64))).reshape(1, 3, 12, 10)
    out = {'about': 'python3 models/train/soft.py --golden models/train/soft-golden.json',
           'input': 'x_i = 0.9 sin(0.37 i), i = 0..n-1, shape [3, 12, 10]',
           'level_of_factor': {str(f): level_of_factor(f) for f in (2, 3, 4, 8, 16)},
           'sigma_max': SIGMA_MAX, 'resample': []}
    for tau in (0.0, 1 / 3, 0.5, 2 / 3, 1.0):
        y = resample(x, tau)[0]
        out['resample'].append({'tau': tau, 'size': list(shrink_size(12, 10, tau)),
                                'sum': float(y.sum()), 'abs_sum': float(y.abs().sum()),
                                'first': [float(v) for v in y.flatten()[:6]]})
    return out


if __name__ == '__main__':
    import json
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == '--golden':
        torch.set_default_dtype(torch.float64)
        with open(sys.argv[2], 'w') as f:
            json.dump(golden(), f, indent=1)
            f.write('\n')
    else:
        raise SystemExit('usage: python3 models/train/soft.py --golden FILE')
