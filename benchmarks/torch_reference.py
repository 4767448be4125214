"""PyTorch reference for benchmarks/speed: the same Patched Diffusion UNet and the same sampler, eager, on one device.

  python3 benchmarks/torch_reference.py [--model models/default] [--device cuda|cpu] [--batches 1,2,4,8,16]
                                        [--out FILE.json] [--quick] [--flavours fp32,tf32,fp16]

Weights: the model folder's shipped checkpoint (checkpoint/part-*.pt, EMA weights, loaded with models/train/ckpt.py),
or --checkpoint (a run's ckpt.pt or a parts folder); where neither exists, the EMA weights stored in the folder's
model.onnx (initializers, float16 when the manifest says so), which are the same values the ONNX runtime uses.
Checks: the manifest's golden output (computed at export from the float32 EMA weights) and, where Python's
onnxruntime is installed, the ONNX file's output on a 64×64 input, both reported as max |difference|.

1. Latency of one 256×256 evaluation at each batch, per flavour: fp32 (TF32 off), tf32 (cuDNN and matmul TF32
   on: PyTorch's fastest float32 mode on Ampere/Hopper) and, on CUDA, fp16 (autocast); each run synchronised,
   median of the timed runs (ms per run, ms per image, images/s).
2. The ×8 sampler loop of `sr upscale --factor 8 --t 100 --cascade 3` with the model's default steps: bicubic
   upsampling 32→256 (align_corners=False, centre-aligned), one-shot noising to t, DDPM ancestral jumps on the
   respaced schedule (setTimesteps of src/diffusion/schedule.ts), x̂0 clipped and projected onto the LR image
   (average pooling, DDNM), all on the device; warm-up once, then the median of 3 (seconds, evaluations).
"""
import argparse
import glob
import io
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'models', 'train'))
from ckpt import load  # noqa: E402
from patched_unet import PatchedUNet  # noqa: E402


def rel(path: str) -> str:
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def onnx_weights(path: str, model: torch.nn.Module) -> dict:
    """The EMA weights stored in an exported model.onnx, as a state dict for `model`.

    Named initializers map by name (float16 copies, `<name>_fp16`, are cast back). The GroupNorm affine parameters
    are exported as anonymous initializers (onnx::Mul_N, onnx::Add_N) of the Mul and Add that follow each
    InstanceNormalization; they are matched to the model's GroupNorm layers in order (graph order = the order the
    layers run = their registration order in PatchedUNet).
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    g = m.graph
    inits = {}
    for init in g.initializer:
        name = init.name[:-5] if init.name.endswith('_fp16') else init.name
        inits[name] = torch.from_numpy(np.array(numpy_helper.to_array(init), dtype=np.float32))
    out = {k: v for k, v in inits.items() if not k.startswith('onnx::')}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    casts = {n.output[0]: n.input[0][:-5] for n in g.node if n.op_type == 'Cast' and n.input[0].endswith('_fp16')}

    def const(name):
        name = casts.get(name, name)
        return inits.get(name[:-5] if name.endswith('_fp16') else name)

    affine = []
    for n in g.node:
        if n.op_type != 'InstanceNormalization':
            continue
        v, mul, add = n.output[0], None, None
        for _ in range(4):  # InstanceNormalization -> Reshape -> Mul(weight) -> Add(bias)
            nxt = consumers.get(v, [])
            if not nxt:
                break
            c = nxt[0]
            if c.op_type == 'Mul' and mul is None:
                mul = next((const(i) for i in c.input if const(i) is not None), None)
            elif c.op_type == 'Add' and mul is not None:
                add = next((const(i) for i in c.input if const(i) is not None), None)
                break
            v = c.output[0]
        affine.append((mul, add))
    norms = [name for name, mod in model.named_modules() if isinstance(mod, torch.nn.GroupNorm)]
    if len(norms) != len(affine) or any(a is None or b is None for a, b in affine):
        raise SystemExit(f'cannot match {len(affine)} InstanceNormalization nodes of {path} to {len(norms)} GroupNorm layers')
    for name, (w, b) in zip(norms, affine):
        out[f'{name}.weight'] = w.reshape(-1)
        out[f'{name}.bias'] = b.reshape(-1)
    return out


def load_model(folder: str, checkpoint: str | None):
    manifest = json.load(open(os.path.join(folder, 'manifest.json')))
    arch = {k: manifest['architecture'][k] for k in ('patch', 'base', 'mults', 'blocks')}
    model = PatchedUNet(**arch)
    src = checkpoint or (os.path.join(folder, 'checkpoint') if glob.glob(os.path.join(folder, 'checkpoint', 'part-*.pt')) else None)
    weights = None
    if src:
        try:
            state = load(src)
            weights, source = state['ema'], f'checkpoint {rel(src)} (EMA, via models/train/ckpt.py)'
        except Exception as e:  # e.g. a newer torch.load refusing the file: the ONNX file holds the same weights
            print(f'torch_reference: cannot load {src} ({str(e).splitlines()[0][:200]}); using the ONNX weights', flush=True)
    if weights is None:
        weights = onnx_weights(os.path.join(folder, 'model.onnx'), model)
        source = f'{rel(os.path.join(folder, "model.onnx"))} initializers (the EMA weights as exported; no usable checkpoint)'
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise SystemExit(f'weights do not fit the architecture: missing {missing[:4]}, unexpected {unexpected[:4]}')
    return model.eval(), manifest, source


def golden_input(shape):
    n = math.prod(shape)
    return (0.9 * torch.sin(0.37 * torch.arange(n, dtype=torch.float64))).float().reshape(shape)


def checks(model, manifest, folder, device):
    out = {}
    g = manifest.get('golden') or {}
    with torch.no_grad():
        if g.get('shape') and str(g.get('input', '')).startswith('x_i = 0.9 sin(0.37 i)'):
            y = model(golden_input(g['shape']).to(device), torch.tensor([float(g['t'])], device=device)).double().cpu()
            out['golden'] = {'out_sum': float(y.sum()), 'manifest_out_sum': g.get('out_sum'),
                             'max_abs_first8': max(abs(a - b) for a, b in zip(y.flatten()[:8].tolist(), g.get('out_first', [])[:8])) if g.get('out_first') else None}
        try:
            import numpy as np
            import onnxruntime as ort
            sess = ort.InferenceSession(os.path.join(folder, 'model.onnx'), providers=['CPUExecutionProvider'])
            x = golden_input([1, 3, 64, 64])
            ref = sess.run(None, {'x': x.numpy(), 't': np.array([100.0], dtype=np.float32)})[0]
            y = model(x.to(device), torch.tensor([100.0], device=device)).cpu().numpy()
            out['onnx'] = {'onnxruntime': ort.__version__, 'max_abs_diff_64x64': float(np.abs(ref - y).max()), 'max_abs_ref': float(np.abs(ref).max())}
        except ImportError as e:
            out['onnx'] = {'skipped': str(e)}
    return out


def set_flavour(flavour: str):
    tf32 = flavour == 'tf32'
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def autocast(flavour: str, device: str):
    if flavour == 'fp16':
        return torch.autocast(device_type=device, dtype=torch.float16)
    return torch.autocast(device_type='cpu', enabled=False)


def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def latency(model, device, flavour, batch, budget_s, size=256):
    x = torch.randn(batch, 3, size, size, device=device)
    t = torch.full((batch,), 100.0, device=device)
    times = []
    with torch.no_grad(), autocast(flavour, device):
        for _ in range(3):
            model(x, t)
        sync(device)
        t0 = time.perf_counter()
        model(x, t)
        sync(device)
        est = time.perf_counter() - t0
        n = max(3, min(200, int(budget_s / max(est, 1e-4))))
        for _ in range(n):
            t0 = time.perf_counter()
            model(x, t)
            sync(device)
            times.append(time.perf_counter() - t0)
    ms = 1000 * statistics.median(times)
    return {'batch': batch, 'msPerRun': round(ms, 3), 'msPerImage': round(ms / batch, 3),
            'imagesPerSecond': round(1000 * batch / ms, 1), 'runs': len(times), 'minMsPerRun': round(1000 * min(times), 3)}


def schedule(manifest, device):
    b = manifest['betas']
    T = manifest['T']
    if b['kind'] == 'linear':
        betas = torch.tensor([b['start'] + (b['end'] - b['start']) * i / (T - 1) for i in range(T)], dtype=torch.float64)
        return torch.cumprod(1 - betas, 0)
    if b['kind'] == 'table':
        return torch.tensor(b['alphasCumprod'], dtype=torch.float64)
    raise SystemExit(f"schedule kind {b['kind']} is not implemented here")


def set_timesteps(t_start, steps):
    s = t_start if steps is None or steps >= t_start else steps
    rnd = lambda v: math.floor(v + 0.5)  # JavaScript's Math.round
    return [(rnd(i * t_start / s), rnd((i - 1) * t_start / s)) for i in range(s, 0, -1)]


def boomerang_x8(model, manifest, lr, ac, flavour, device, passes=(100, 100, 100), factor=8):
    """The sampler loop of upscale(): ancestral, DDNM (avg-pool) consistency, clip; returns (image, evaluations)."""
    steps = manifest['defaults']['steps']
    pred = manifest['prediction']
    x = F.interpolate(lr, scale_factor=factor, mode='bicubic', align_corners=False).clamp(-1, 1)
    evals = 0
    with torch.no_grad(), autocast(flavour, device):
        for t in passes:
            a = float(ac[t])
            x = math.sqrt(a) * x + math.sqrt(1 - a) * torch.randn_like(x)
            for k, prev in set_timesteps(t, steps):
                out = model(x, torch.full((x.shape[0],), float(k), device=device)).float()
                evals += 1
                ab = float(ac[k])
                ab_prev = 1.0 if prev == 0 else float(ac[prev])
                sa, s1 = math.sqrt(ab), math.sqrt(1 - ab)
                if pred == 'eps':
                    x0 = (x - s1 * out) / sa
                elif pred == 'v':
                    x0 = sa * x - s1 * out
                else:
                    x0 = out
                x0 = x0.clamp(-1, 1)
                err = F.avg_pool2d(x0, factor) - lr
                x0 = x0 - F.interpolate(err, scale_factor=factor, mode='nearest')
                alpha = ab / ab_prev
                beta = 1 - alpha
                cx0 = math.sqrt(ab_prev) * beta / (1 - ab)
                cxt = math.sqrt(alpha) * (1 - ab_prev) / (1 - ab)
                var = (1 - ab_prev) / (1 - ab) * beta
                x = cx0 * x0 + cxt * x
                if var > 0:
                    x = x + math.sqrt(var) * torch.randn_like(x)
            x = x.clamp(-1, 1)
    return x, evals


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default=None, help='model folder (default: models/default, else /tmp/probe-model)')
    ap.add_argument('--checkpoint', default=None)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--batches', default='1,2,4,8,16')
    ap.add_argument('--flavours', default=None, help='fp32,tf32[,fp16] (fp16 on CUDA only)')
    ap.add_argument('--out', default=None)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--no-sampler', action='store_true')
    a = ap.parse_args()
    folder = a.model or (os.path.join(ROOT, 'models', 'default') if os.path.exists(os.path.join(ROOT, 'models', 'default', 'manifest.json')) else '/tmp/probe-model')
    device = a.device
    flavours = (a.flavours or ('fp32,tf32,fp16' if device == 'cuda' else 'fp32')).split(',')
    t_all = time.time()
    model, manifest, source = load_model(folder, a.checkpoint)
    model = model.to(device)
    gpu = torch.cuda.get_device_name(0) if device == 'cuda' else None
    res = {
        'benchmark': 'torch_reference', 'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'command': 'python3 ' + ' '.join(sys.argv), 'device': device, 'gpu': gpu, 'torch': torch.__version__,
        'python': platform.python_version(), 'cpu_threads': torch.get_num_threads(),
        'model': {'folder': rel(folder), 'name': manifest['name'],
                  'params': sum(p.numel() for p in model.parameters()), 'architecture': manifest['architecture'], 'weights': source},
        'checks': checks(model, manifest, folder, device),
        'latency': {}, 'sampler': {},
    }
    print(f"torch_reference: {manifest['name']} on {gpu or device}, weights from {source}; checks {json.dumps(res['checks'])}", flush=True)
    budget = 0.3 if a.quick else (1.0 if device == 'cuda' else 3.0)
    for flavour in flavours:
        set_flavour(flavour)
        rows = []
        for b in [int(v) for v in a.batches.split(',')]:
            try:
                rows.append(latency(model, device, flavour, b, budget))
            except RuntimeError as e:  # e.g. out of memory
                rows.append({'batch': b, 'error': str(e).split('\n')[0][:200]})
            print(f'  latency {flavour} batch {b}: {rows[-1]}', flush=True)
        res['latency'][flavour] = [r for r in rows if 'error' not in r]
        if any('error' in r for r in rows):
            res.setdefault('errors', {})[flavour] = [r for r in rows if 'error' in r]
    if not a.no_sampler:
        ac = schedule(manifest, device)
        g = torch.Generator(device='cpu').manual_seed(1)
        lr = (torch.rand(1, 3, 32, 32, generator=g) * 1.8 - 0.9).to(device)
        torch.manual_seed(1)
        for flavour in flavours:
            set_flavour(flavour)
            boomerang_x8(model, manifest, lr, ac, flavour, device, passes=(100,))  # warm-up: one pass
            sync(device)
            times = []
            for _ in range(1 if a.quick else 3):
                t0 = time.perf_counter()
                _, evals = boomerang_x8(model, manifest, lr, ac, flavour, device)
                sync(device)
                times.append(time.perf_counter() - t0)
            s = statistics.median(times)
            res['sampler'][flavour] = {'seconds': round(s, 4), 'evaluations': evals, 'msPerEvaluation': round(1000 * s / evals, 3),
                                       'runs': [round(v, 4) for v in times], 'job': 'x8 32->256, t=100, cascade 3, default steps, ancestral, DDNM'}
            print(f"  sampler x8 {flavour}: {res['sampler'][flavour]}", flush=True)
    res['seconds'] = round(time.time() - t_all, 1)
    text = json.dumps(res, indent=2)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, 'w') as f:
            f.write(text + '\n')
        print(f'torch_reference: wrote {a.out} ({res["seconds"]} s)', flush=True)
    else:
        print(text)


if __name__ == '__main__':
    main()
