"""The diffusion schedule shared by training and the manifest: linear betas over T steps (DDPM)."""
import torch


def linear_alphas_cumprod(T: int = 1000, start: float = 1e-4, end: float = 0.02) -> torch.Tensor:
    betas = torch.linspace(start, end, T, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)
