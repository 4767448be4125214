"""Export a trained checkpoint's EMA weights to ONNX + manifest.json (the model contract in DESIGN.md).

  python3 models/train/export.py --run models/train/runs/default --name default [--fp16-weights] [--ship-checkpoint]

Writes models/<name>/model.onnx and models/<name>/manifest.json; with --ship-checkpoint also the resumable float16
checkpoint parts in models/<name>/checkpoint/. The manifest records the architecture, schedule, prediction,
training counters and the ONNX file's sha256. Evaluation figures are added by the evaluator (`--eval-json`).
"""
import argparse
import hashlib
import inspect
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ckpt import load, save_shipped  # noqa: E402
from patched_unet import PatchedUNet  # noqa: E402
import soft  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def fp16_initializers(path: str) -> None:
    """Store float32 weights as float16 with a Cast back to float32 in the graph (halves the file)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(path)
    g = m.graph
    casts, keep = [], []
    for init in g.initializer:
        if init.data_type == onnx.TensorProto.FLOAT and np.prod(init.dims) >= 16:
            arr = numpy_helper.to_array(init).astype(np.float16)
            half = numpy_helper.from_array(arr, init.name + '_fp16')
            keep.append(half)
            casts.append(helper.make_node('Cast', [half.name], [init.name], to=onnx.TensorProto.FLOAT,
                                          name=init.name + '_cast'))
        else:
            keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def export_onnx(model: torch.nn.Module, path: str, multiple: int) -> None:
    x = torch.randn(1, 3, multiple * 4, multiple * 4)
    t = torch.tensor([100.0])
    kwargs = dict(input_names=['x', 't'], output_names=['out'], opset_version=17,
                  dynamic_axes={'x': {0: 'B', 2: 'H', 3: 'W'}, 't': {0: 'B'}, 'out': {0: 'B', 2: 'H', 3: 'W'}})
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        kwargs['dynamo'] = False  # the TorchScript exporter: same graph on PyTorch 1.13 and 2.x
    tmp = path + '.tmp'
    torch.onnx.export(model, (x, t), tmp, **kwargs)
    os.replace(tmp, path)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', help='run folder with ckpt.pt')
    ap.add_argument('--checkpoint', help='or: a checkpoint file / shipped checkpoint folder')
    ap.add_argument('--name', required=True)
    ap.add_argument('--out', help='model folder (default models/<name>)')
    ap.add_argument('--version', default='1')
    ap.add_argument('--fp16-weights', action='store_true')
    ap.add_argument('--ship-checkpoint', action='store_true')
    ap.add_argument('--default-t', type=int, default=100)
    ap.add_argument('--default-steps', type=int, default=20)
    a = ap.parse_args()
    src = a.checkpoint or os.path.join(a.run, 'ckpt.pt')
    state = load(src)
    cfg = state['config']
    model = PatchedUNet(**cfg['arch'])
    model.load_state_dict(state['ema'])
    model.eval()
    out = a.out or os.path.join(ROOT, 'models', a.name)
    os.makedirs(out, exist_ok=True)
    onnx_path = os.path.join(out, 'model.onnx')
    export_onnx(model, onnx_path, model.multiple)
    if a.fp16_weights:
        fp16_initializers(onnx_path)
    with torch.no_grad():  # a golden pair for the runtime test: the ONNX run must match PyTorch
        n = 3 * (model.multiple * 2) ** 2  # input reproducible in any language: x_i = 0.9 sin(0.37 i)
        gx = (0.9 * torch.sin(0.37 * torch.arange(n, dtype=torch.float64))).float().reshape(1, 3, model.multiple * 2, -1)
        gy = model(gx, torch.tensor([50.0]))
    c = dict({'images_seen': 0, 'train_seconds': 0.0, 'sessions': []}, **state['counters'])  # snapshots keep less
    params = state.get('params') or sum(p.numel() for p in model.parameters())
    family = cfg.get('family', 'gaussian')
    manifest_path = os.path.join(out, 'manifest.json')
    old = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    if old.get('family', {}).get('kind', 'gaussian') != family:
        old = {}  # another family's presets and speed record do not carry over
    if family == 'soft-resample':
        family_record = {'kind': 'soft-resample', 'max_scale': 8.0, 'sigma_max': soft.SIGMA_MAX, 'levels': 1000,
                         'corruption': 'x_tau = U(Q(D(x))) + sigma_max*tau*eps: MATLAB-bicubic shrink by 8**tau, 8-bit, '
                                       'centre-aligned bicubic enlarge; JPEG q30-95 of the small image for '
                                       f"{cfg.get('jpeg_share', 0.3):.0%} of each batch in training",
                         'sampler': 'soft-ddim: x_prev = D_prev(x0) + sigma_prev*(sqrt(1-eta^2)*eps_hat + eta*z)'}
        t_sampling = 'half at the levels of x2, x3, x4, x8 (tau = log8 f), half uniform in [0, 1]'
        defaults = {'t': 333, 'cascade': 1, 'steps': 1, 'upsampler': 'bicubic', 'sampler': 'ddim', 'eta': 0,
                    'backProject': 10, 'consistency': 'ibp'}
    else:
        family_record = {'kind': 'gaussian'}
        t_sampling = f"{cfg.get('low_t_share', 0.5):.0%} uniform in [0,{cfg.get('low_t', 400)}), rest uniform in [0,T)"
        defaults = {'t': a.default_t, 'steps': a.default_steps}
    manifest = {
        'name': a.name,
        'version': a.version,
        'format': 'boomerang-sr/model@1',
        'T': cfg.get('T', 1000),
        'betas': cfg.get('betas', {'kind': 'linear', 'start': 1e-4, 'end': 0.02}),
        'family': family_record,
        'prediction': cfg['prediction'],
        'patch': cfg['arch']['patch'],
        'multiple': model.multiple,
        'train_crop': cfg.get('train_crop', 64),
        'architecture': dict(cfg['arch'], kind='patched-unet'),
        'params': params,
        'weights': 'float16' if a.fp16_weights else 'float32',
        'dataset': {'path': os.path.relpath(cfg['data'], ROOT) if os.path.isabs(cfg.get('data', '')) else cfg.get('data', '../shared/data/train'),
                    'validation_split': f"sha256(name) mod 10000 < {cfg.get('val_fraction', 0.05)} * 10000 held out"},
        'training': {'family': family, 'steps': c['steps'], 'images_seen': c['images_seen'],
                     'seconds': round(c['train_seconds'], 1), 'cpu_seconds': round(c.get('cpu_seconds', 0.0), 1),
                     'batch': cfg.get('batch'), 'crop': cfg.get('train_crop'), 'lr': cfg.get('lr'),
                     't_sampling': t_sampling, **({'init_from': c['init_from']} if 'init_from' in c else {}),
                     'sessions': c['sessions'], 'exported': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())},
        'defaults': old.get('defaults', defaults),
        'presets': old.get('presets', {}),
        'inputs': old.get('inputs', {'jpeg': {'consistency': 'none', 'backProject': 0, 'sampler': 'ddim', 'eta': 0, 'steps': 1,
                                           'recorrupt': 80}}
                          if family == 'soft-resample' else {}),
        'golden': {'input': 'x_i = 0.9 sin(0.37 i), i = 0..n-1 in [B, C, H, W] order', 'shape': list(gx.shape), 't': 50.0,
                   'out_sum': float(gy.double().sum()), 'out_abs_sum': float(gy.double().abs().sum()),
                   'out_first': [float(v) for v in gy.flatten()[:8]]},
        'sha256': sha256(onnx_path),
        'bytes': os.path.getsize(onnx_path),
        'evaluation': old.get('evaluation', {}),
    }
    if 'speed' in old:  # measured by the runtime on the same architecture (sr's time estimates); kept
        manifest['speed'] = old['speed']
    with open(manifest_path + '.tmp', 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    os.replace(manifest_path + '.tmp', manifest_path)
    if a.ship_checkpoint:
        parts = save_shipped(os.path.join(out, 'checkpoint'), state)
        print('checkpoint parts:', ', '.join(os.path.relpath(p, ROOT) for p in parts))
    print(f"exported {onnx_path} ({manifest['bytes'] / 1e6:.2f} MB, {params / 1e6:.2f}M params, "
          f"{c['steps']} steps, {c['train_seconds']:.0f} s training)")


if __name__ == '__main__':
    main()
