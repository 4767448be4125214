"""The Patched Diffusion UNet (Luhman & Luhman 2022): p×p pixel patches stacked into channels, then a DDPM UNet.

x [B, 3, H, W] in [-1, 1] and the training step t [B] (float) -> output [B, 3, H, W] (eps, x0 or v, as the
manifest says). Fully convolutional: H and W must be multiples of `multiple` = patch * 2**(len(mults) - 1).
Patching is written with reshape/permute (not pixel_unshuffle) so the ONNX export is plain and portable.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // p, p, w // p, p)
    x = x.permute(0, 1, 3, 5, 2, 4)  # b, c, py, px, h/p, w/p
    return x.reshape(b, c * p * p, h // p, w // p)


def unpatchify(x: torch.Tensor, p: int, c: int = 3) -> torch.Tensor:
    b, _, hp, wp = x.shape
    x = x.reshape(b, c, p, p, hp, wp)
    x = x.permute(0, 1, 4, 2, 5, 3)  # b, c, h/p, py, w/p, px
    return x.reshape(b, c, hp * p, wp * p)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class Norm(nn.GroupNorm):
    """GroupNorm, computed in float32 when autocast hands it bfloat16 (CUDA's autocast does this by itself, the
    CPU's in PyTorch 1.13 does not and fails). A float32 input, as in the ONNX export, takes the plain path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:
            return super().forward(x)
        return super().forward(x.float()).to(x.dtype)


def norm(ch: int) -> nn.GroupNorm:
    return Norm(min(32, max(1, ch // 8)), ch)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, tdim: int):
        super().__init__()
        self.n1, self.c1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2, self.c2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(temb)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return self.skip(x) + h


class PatchedUNet(nn.Module):
    def __init__(self, patch: int = 4, base: int = 64, mults=(1, 2, 2), blocks: int = 2):
        super().__init__()
        self.patch, self.base, self.mults, self.blocks = patch, base, tuple(mults), blocks
        cin = 3 * patch * patch
        tdim = base * 4
        self.temb = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.inp = nn.Conv2d(cin, base, 3, padding=1)
        self.down = nn.ModuleList()
        chans = [base]
        ch = base
        for i, m in enumerate(self.mults):
            for _ in range(blocks):
                self.down.append(ResBlock(ch, base * m, tdim))
                ch = base * m
                chans.append(ch)
            if i < len(self.mults) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                chans.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, tdim), ResBlock(ch, ch, tdim)])
        self.up = nn.ModuleList()
        for i, m in reversed(list(enumerate(self.mults))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(ch + chans.pop(), base * m, tdim))
                ch = base * m
            if i > 0:
                self.up.append(nn.Upsample(scale_factor=2, mode='nearest'))
                self.up.append(nn.Conv2d(ch, ch, 3, padding=1))
        self.out_norm = norm(ch)
        self.out = nn.Conv2d(ch, cin, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def multiple(self) -> int:
        return self.patch * 2 ** (len(self.mults) - 1)

    def config(self) -> dict:
        return {'patch': self.patch, 'base': self.base, 'mults': list(self.mults), 'blocks': self.blocks}

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.temb(timestep_embedding(t, self.base))
        h = self.inp(patchify(x, self.patch))
        hs = [h]
        for layer in self.down:
            h = layer(h, temb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        for layer in self.mid:
            h = layer(h, temb)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, hs.pop()], dim=1), temb)
            else:
                h = layer(h)
        return unpatchify(self.out(F.silu(self.out_norm(h))), self.patch)
