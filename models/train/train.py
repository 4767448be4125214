"""Train (or resume) the Patched Diffusion UNet within a wall-clock budget, with EMA.

Runs unchanged on this machine's CPU (Debian's python3-torch 1.13) and on the GPU machine (PyTorch 2.x, CUDA, bf16).
Example (CPU, one hour):
  python3 models/train/train.py --data ../shared/data/train --run models/train/runs/default --minutes 60
Resume: the same command again (it picks up <run>/ckpt.pt), or --resume models/<name>/checkpoint for the shipped one.
Then export: python3 models/train/export.py --run models/train/runs/default --name default
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckpt import load, save_run  # noqa: E402
from data import ImageBank  # noqa: E402
from patched_unet import PatchedUNet  # noqa: E402
from schedule import linear_alphas_cumprod  # noqa: E402
import soft  # noqa: E402

PRESETS = {
    # name: (architecture, batch, crop, lr)
    'fixture': (dict(patch=4, base=16, mults=(1, 2), blocks=1), 16, 64, 1e-3),
    'cpu': (dict(patch=4, base=64, mults=(1, 2, 2), blocks=2), 16, 64, 3e-4),
    'gpu': (dict(patch=4, base=64, mults=(1, 2, 2), blocks=2), 64, 128, 3e-4),
}


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='folder of training images')
    ap.add_argument('--run', required=True, help='run folder: ckpt.pt and log.jsonl live here')
    ap.add_argument('--preset', choices=sorted(PRESETS), default='cpu')
    ap.add_argument('--resume', help='checkpoint file or shipped checkpoint folder to start from')
    ap.add_argument('--family', choices=['gaussian', 'soft-resample'], default='gaussian',
                    help="gaussian: the DDPM prior (noise to t); soft-resample: the prior trained on the corruption it "
                         "undoes (bicubic down/up at 8**tau, JPEG, noise; models/train/soft.py), predicting the residual")
    ap.add_argument('--init-from', help='start a new run from these EMA weights (another family or prediction '
                                        'allowed; counters and optimizer start afresh, the source is recorded)')
    ap.add_argument('--jpeg-share', type=float, default=0.3, help='soft-resample: share of each batch through JPEG')
    ap.add_argument('--snapshot-every', type=float, default=0.0,
                    help='CPU-minutes (process time) between EMA snapshots in <run>/snapshots/ for learning curves')
    ap.add_argument('--minutes', type=float, required=True, help='wall-clock training budget')
    ap.add_argument('--batch', type=int)
    ap.add_argument('--crop', type=int)
    ap.add_argument('--lr', type=float)
    ap.add_argument('--prediction', choices=['eps', 'x0', 'v', 'residual'],
                    help='default eps (gaussian), residual (soft-resample)')
    ap.add_argument('--low-t', type=int, default=400, help='upper end of the emphasised step range')
    ap.add_argument('--low-t-share', type=float, default=0.5, help='share of samples drawn from [0, low-t)')
    ap.add_argument('--val-fraction', type=float, default=0.05)
    ap.add_argument('--ema', type=float, default=0.999)
    ap.add_argument('--anneal-minutes', type=float, default=0.0,
                    help='over the last M minutes of the budget, lower lr along a cosine to --anneal-floor x lr '
                         '(the checkpoint that ends a session is then a settled one; the next session resumes at lr)')
    ap.add_argument('--anneal-floor', type=float, default=0.1)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--cpu-bf16', action='store_true',
                    help='on the CPU, run forward and backward under bfloat16 autocast (weights and optimizer stay '
                         'float32); about 1.5x the steps per second where the CPU has AVX512-BF16 '
                         '(benchmarks/train-precision.py); CUDA always uses it'),
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--save-every', type=float, default=5.0, help='minutes between checkpoints')
    return ap.parse_args()


def target(kind, x0, eps, ab):
    if kind == 'eps':
        return eps
    if kind == 'x0':
        return x0
    return ab.sqrt() * eps - (1 - ab).sqrt() * x0  # v


def main():
    a = parse()
    a.prediction = a.prediction or ('residual' if a.family == 'soft-resample' else 'eps')
    if (a.family == 'soft-resample') != (a.prediction == 'residual'):
        raise SystemExit(f'--family {a.family} does not train --prediction {a.prediction}')
    t_start = time.time()
    cpu_start = time.process_time()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    arch, batch, crop, lr = PRESETS[a.preset]
    batch, crop, lr = a.batch or batch, a.crop or crop, a.lr or lr
    os.makedirs(a.run, exist_ok=True)
    ckpt_path = os.path.join(a.run, 'ckpt.pt')
    resume = a.resume or (ckpt_path if os.path.exists(ckpt_path) else None)
    state = load(resume) if resume else None
    if state:
        arch = state['config']['arch']
        if state['config'].get('family', 'gaussian') != a.family:
            raise SystemExit(f"checkpoint is family {state['config'].get('family', 'gaussian')}, not {a.family} "
                             f"(start a new run with --init-from)")
        if state['config']['prediction'] != a.prediction:
            raise SystemExit(f"checkpoint predicts {state['config']['prediction']}, not {a.prediction}")
    init = None
    if a.init_from and not state:
        init = load(a.init_from)
        arch = init['config']['arch']
    model = PatchedUNet(**arch).to(dev)
    ema = PatchedUNet(**arch).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    counters = {'steps': 0, 'images_seen': 0, 'train_seconds': 0.0, 'cpu_seconds': 0.0, 'sessions': []}
    if state:
        model.load_state_dict(state['model'])
        ema.load_state_dict(state['ema'])
        if 'opt' in state:
            opt.load_state_dict(state['opt'])
        else:
            print('resuming from a shipped checkpoint: optimizer moments restart', flush=True)
        counters = state['counters']
    elif init:
        model.load_state_dict(init['ema'])
        ema.load_state_dict(init['ema'])
        counters['init_from'] = {'path': os.path.relpath(os.path.abspath(a.init_from)),
                                 'family': init['config'].get('family', 'gaussian'),
                                 'prediction': init['config']['prediction'], 'steps': init['counters']['steps'],
                                 'train_seconds': round(init['counters']['train_seconds'], 1)}
    else:
        ema.load_state_dict(model.state_dict())
    counters.setdefault('cpu_seconds', 0.0)  # runs from before CPU time was counted
    ema.eval().requires_grad_(False)
    for g in opt.param_groups:
        g['lr'] = lr
    n_params = sum(p.numel() for p in model.parameters())
    bank = ImageBank(a.data, 'train', a.val_fraction, min_size=crop)
    ab_table = linear_alphas_cumprod().float().to(dev)
    T = ab_table.numel()
    gen = torch.Generator().manual_seed(a.seed + counters['steps'])
    use_bf16 = dev.type == 'cuda' or a.cpu_bf16
    device_name = torch.cuda.get_device_name(0) if dev.type == 'cuda' else f'cpu x{torch.get_num_threads()}'
    if dev.type == 'cpu' and use_bf16:
        device_name += ' bf16'
    print(f'{n_params / 1e6:.2f}M params {arch} on {device_name}; {len(bank)} training images; '
          f'batch {batch} crop {crop} lr {lr}; resume from {resume or "scratch"} at step {counters["steps"]}', flush=True)
    log = open(os.path.join(a.run, 'log.jsonl'), 'a')
    budget = a.minutes * 60
    session = {'device': device_name, 'start_step': counters['steps'], 'seconds': 0.0, 'cpu_seconds': 0.0,
               'anneal_minutes': a.anneal_minutes, 'anneal_floor': a.anneal_floor}
    snap_dir = os.path.join(a.run, 'snapshots')
    next_snap = (math.floor(counters['cpu_seconds'] / (a.snapshot_every * 60)) + 1) * a.snapshot_every * 60 \
        if a.snapshot_every > 0 else math.inf
    train_t0 = time.time()
    last_save = time.time()
    running = None

    def cpu_now():
        return counters['cpu_seconds'] + time.process_time() - cpu_start

    def snapshot(final=False):
        session['seconds'] = time.time() - train_t0
        session['cpu_seconds'] = time.process_time() - cpu_start
        c = dict(counters)
        c['train_seconds'] = counters['train_seconds'] + session['seconds']
        c['cpu_seconds'] = counters['cpu_seconds'] + session['cpu_seconds']
        c['sessions'] = counters['sessions'] + [dict(session, end_step=counters['steps'])]
        save_run(ckpt_path, {'config': {'arch': arch, 'prediction': a.prediction, 'T': T, 'family': a.family,
                                        'jpeg_share': a.jpeg_share if a.family == 'soft-resample' else None,
                                        'betas': {'kind': 'linear', 'start': 1e-4, 'end': 0.02},
                                        'train_crop': crop, 'batch': batch, 'lr': lr,
                                        'low_t': a.low_t, 'low_t_share': a.low_t_share,
                                        'val_fraction': a.val_fraction, 'data': os.path.abspath(a.data)},
                             'params': n_params, 'counters': c,
                             'model': model.state_dict(), 'ema': ema.state_dict(), 'opt': opt.state_dict()})
        return c

    while time.time() - train_t0 < budget:
        x0 = bank.batch(batch, crop, gen)
        if a.family == 'soft-resample':
            xt, t, tgt = (v.to(dev) for v in soft.training_batch(x0, gen, a.jpeg_share))
        else:
            x0 = x0.to(dev)
            n_low = int(round(batch * a.low_t_share))
            t = torch.cat([torch.randint(0, a.low_t, (n_low,), generator=gen),
                           torch.randint(0, T, (batch - n_low,), generator=gen)]).to(dev)
            eps = torch.randn(x0.shape, generator=gen).to(dev)
            ab = ab_table[t][:, None, None, None]
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
            tgt = target(a.prediction, x0, eps, ab)
        amp = torch.autocast(device_type=dev.type, dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
        with amp:
            out = model(xt, t.float())
        loss = F.mse_loss(out.float(), tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        warm = min(1.0, (counters['steps'] + 1) / 500)
        left = budget - (time.time() - train_t0)
        anneal = 1.0
        if a.anneal_minutes > 0 and left < a.anneal_minutes * 60:
            done = 1 - max(0.0, left) / (a.anneal_minutes * 60)
            anneal = a.anneal_floor + (1 - a.anneal_floor) * 0.5 * (1 + math.cos(math.pi * done))
        for g in opt.param_groups:
            g['lr'] = lr * warm * anneal
        opt.step()
        counters['steps'] += 1
        counters['images_seen'] += batch
        decay = min(a.ema, (1 + counters['steps']) / (10 + counters['steps']))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if counters['steps'] % 50 == 0:
            rec = {'step': counters['steps'], 'loss': round(running, 5), 'elapsed': round(time.time() - train_t0, 1),
                   'cpu_seconds': round(cpu_now(), 1),
                   'img_per_s': round(counters['images_seen'] / max(1e-9, counters['train_seconds'] + time.time() - train_t0), 1)}
            log.write(json.dumps(rec) + '\n')
            log.flush()
            print(rec, flush=True)
        if cpu_now() >= next_snap:  # EMA weights at a CPU-time mark, for learning curves at equal CPU time
            os.makedirs(snap_dir, exist_ok=True)
            snap = os.path.join(snap_dir, f'cpu-{int(round(next_snap)):06d}.pt')
            save_run(snap, {'config': {'arch': arch, 'prediction': a.prediction, 'family': a.family},
                            'counters': {'steps': counters['steps'], 'cpu_seconds': cpu_now(),
                                         'images_seen': counters['images_seen']},
                            'ema': {k: v.half() for k, v in ema.state_dict().items()}})
            next_snap += a.snapshot_every * 60
        if time.time() - last_save > a.save_every * 60:
            snapshot()
            last_save = time.time()
    c = snapshot(final=True)
    print(f"done: {c['steps']} steps, {c['images_seen']} images, {c['train_seconds']:.0f} s of training in all "
          f"({c['cpu_seconds']:.0f} CPU-s counted); "
          f"wall {time.time() - t_start:.0f} s; checkpoint {ckpt_path}", flush=True)


if __name__ == '__main__':
    main()
