"""The diffusion schedule and the sampler's timestep and x0 rules, shared by training, validation and the manifest.

These must agree with the TypeScript sampler (src/diffusion/schedule.ts, predictions.ts): both sides are checked
against one golden file, models/train/sampler-golden.json (the TypeScript test test/sampler-parity.test.ts and the
training smoke test). Regenerate it only on purpose:  python3 models/train/schedule.py --golden models/train/sampler-golden.json
"""
import json
import math
import sys


def linear_alphas_cumprod(T: int = 1000, start: float = 1e-4, end: float = 0.02):
    import torch
    betas = torch.linspace(start, end, T, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)


def linear_alphas_cumprod_list(T: int = 1000, start: float = 1e-4, end: float = 0.02) -> list:
    """The same table in plain Python (float64), beta_i = start + (end - start) i / (T - 1)."""
    out, p = [], 1.0
    for i in range(T):
        p *= 1.0 - (start + (end - start) * i / (T - 1))
        out.append(p)
    return out


def round_half_up(x: float) -> int:
    """JavaScript's Math.round for the non-negative values used here (Python's round() rounds half to even)."""
    return math.floor(x + 0.5)


def set_timesteps(t_start: int, steps=None) -> list:
    """Jumps (k, prev) of the reverse pass from t_start: every step, or `steps` evenly spaced ones (FastDPM STEP),
    k_i = round_half_up(i * t_start / S) for i = S..1, prev = k_{i-1}; as setTimesteps in schedule.ts."""
    S = t_start if steps is None or steps >= t_start else steps
    return [(round_half_up(i * t_start / S), round_half_up((i - 1) * t_start / S)) for i in range(S, 0, -1)]


def x0_coefficients(kind: str, alpha_bar: float):
    """x0_hat = p * x_t + q * model_out for a model predicting `kind` (before clipping); as x0Coefficients in TS."""
    sa, s1 = math.sqrt(alpha_bar), math.sqrt(1 - alpha_bar)
    if kind == 'eps':
        return 1 / sa, -s1 / sa
    if kind == 'x0':
        return 0.0, 1.0
    if kind == 'v':
        return sa, -s1
    raise ValueError(f'unknown prediction kind {kind}')


def golden() -> dict:
    ab = linear_alphas_cumprod_list()
    cases = [(50, 20), (50, 10), (25, 10), (5, 5), (5, 2), (100, 3), (7, 4), (999, 7), (30, None)]
    return {
        'about': 'the sampler rules both sides must agree on; see models/train/schedule.py',
        'alphas_cumprod': {str(t): ab[t] for t in (0, 1, 5, 50, 100, 400, 999)},
        'timesteps': [{'t': t, 'steps': s, 'pairs': set_timesteps(t, s)} for t, s in cases],
        'x0_coefficients': [{'kind': k, 't': t, 'pq': x0_coefficients(k, ab[t])} for k in ('eps', 'x0', 'v') for t in (1, 50, 400)],
    }


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--golden':
        with open(sys.argv[2], 'w') as f:
            json.dump(golden(), f, indent=1)
            f.write('\n')
    else:
        raise SystemExit('usage: python3 models/train/schedule.py --golden FILE')
