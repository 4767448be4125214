"""Static int8 quantisation (QDQ) of an exported model, calibrated on training crops (issue 21, item 4).

Re-quantising the shipped model after it is retrained (the int8 file must follow the shipped weights; `sr`
refuses a variant whose model_sha256 is not the manifest's sha256) is one command, from the repository root:

    python3 models/train/quantize.py ship --model models/default --out models/default/model-int8.onnx --update-manifest

It runs steps 1-3 below with the recipe that passed (step 4 is only for choosing a new recipe): `npx tsc -p
tsconfig.json` (skip with --no-build), the float32 export of <model>/checkpoint (which must hold model.onnx's
weights: the export's golden output is compared with the manifest's), 64 training crops of the manifest's dataset
(--data to override), the dump of the model inputs through `upscale` (node), quantisation (percentile 99.999,
/inp, /out, /up.12/c2, /up.12/skip Convs in float), then writes --out and, with --update-manifest, the manifest's
variants.int8 (file, sha256, bytes, model_sha256, recipe, measured). Intermediate files go to --work (default: a new
folder under /tmp, removed at the end unless --keep). It took 81 s (build 12 s, export 2 s, crops 2 s, input dump 16 s,
quantisation 46 s; 72 s with --no-build) on the 2-core machine with the training job beside it (2026-12-07). Run on
the shipped weights it does *not* give the shipped file byte for byte (sha256 f8fa9b41... against
7ba57c3b...): the study dumped its calibration inputs on an earlier state of the pipeline, and today's dump has the
same first-pass inputs but second-pass (t=400) inputs that differ by 0.001 on average, so the percentile ranges move
a little. Its x4 and x8 outputs on fixtures/flowers-64.png were as close to float's as the shipped file's (62.7 and
61.9 dB PSNR against float, shipped 62.3 and 61.9), but it was not scored on the validation crops. It needs:
PyTorch and Pillow in the python that runs it (the system python3, as for training), node with `npm ci` done, and
onnxruntime + onnx in --ort-python (default /tmp/qenv/bin/python), made once with

    python3 -m venv /tmp/qenv && /tmp/qenv/bin/pip install onnxruntime==1.30.0 onnx numpy pillow

The measured figures written to the manifest are the 2026-12-07 study's (benchmarks/results/int8-2026-12-07-decision.md),
for the file they were measured on (7ba57c3b...); for any other file the manifest says that file was not measured:
re-measure with benchmarks/int8.ts
(`node dist/benchmarks/int8.js --int8 new=models/default/model-int8.onnx`, validation crops in /tmp/ab/val).

Four steps, each its own command:

  1. Calibration crops from the *training* split (never the validation split, Set5 or Set14), with their LR made the
     way the validation crops' are (models/train/val_crops.py: the product's MATLAB-style bicubic, 8-bit PNG):

       /usr/bin/python3 models/train/quantize.py crops --data ../shared/data/train --out /tmp/int8/calib \\
           [--count 64] [--size 128] [--lr-factors 4,8]

  2. The model inputs the product feeds the model on those crops (x and t of every evaluation of the default
     settings: the bicubic enlargement at the factor's level, then the t=400 re-corrupted second pass), dumped
     from a TypeScript run through `upscale` (benchmarks/int8.ts):

       node dist/benchmarks/int8.js --dump-calib /tmp/int8/inputs --calib-hr /tmp/int8/calib

  3. Quantise a float32 export (models/train/export.py without --fp16-weights; the shipped model.onnx stores
     float16 weights behind Cast nodes, which the quantiser would not see as weights):

       /tmp/qenv/bin/python models/train/quantize.py quantize --model /tmp/int8/fp32/model.onnx \\
           --inputs /tmp/int8/inputs --out /tmp/int8/model-int8.onnx [--method minmax|entropy|percentile] \\
           [--exclude inp,out] [--ops Conv] [--no-per-channel] [--percentile 99.999]

     Weights int8 per output channel (symmetric), activations uint8 (asymmetric; U8S8, what ORT's x86 kernels,
     VNNI included, run fastest). --exclude keeps the first (patch embedding, /inp/Conv) and/or last (/out/Conv,
     which writes the residual) convolution in float. The step-1 crops need PyTorch (the system python); step 3
     needs onnxruntime and onnx (a venv: python3 -m venv /tmp/qenv && /tmp/qenv/bin/pip install onnxruntime onnx).

  4. Which Convs to keep in float: leave-one-out on the calibration inputs (training crops, not validation), from the
     ranges of a step-3 run with --cache:

       /tmp/qenv/bin/python models/train/quantize.py sensitivity --model /tmp/int8/fp32/model.onnx \
           --inputs /tmp/int8/inputs --cache /tmp/int8/pct.ranges.json --out /tmp/int8/sensitivity.json

The recipe that passed issue 21's rule (benchmarks/results/int8-2026-12-07-decision.md): --method percentile
--exclude inp,out,/up.12/c2/Conv,/up.12/skip/Conv (PSNR-Y drop 0.002 dB at x4 and x8, 2.2-2.5x less CPU on VNNI).
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def crops(a):
    sys.path.insert(0, HERE)
    from PIL import Image
    from data import is_validation, list_images
    from val_crops import write_lr
    names = list_images(a.data, 'train', a.val_fraction)
    # spread over the whole (sorted) training list, not its first images (one source dataset would dominate)
    step = max(1, len(names) // a.count)
    picked = [n for n in names[::step]][:a.count]
    assert not any(is_validation(n, a.val_fraction) for n in picked)
    os.makedirs(a.out, exist_ok=True)
    kept = 0
    for n in picked:
        with Image.open(os.path.join(a.data, n)) as im:
            im = im.convert('RGB')
            w, h = im.size
            if min(w, h) < a.size:
                continue
            x, y = (w - a.size) // 2, (h - a.size) // 2
            im.crop((x, y, x + a.size, y + a.size)).save(os.path.join(a.out, os.path.splitext(n)[0] + '.png'))
            kept += 1
    print(f'{kept} training crops of {a.size}x{a.size} in {a.out}')
    write_lr(a.out, [int(f) for f in a.lr_factors.split(',')], [])


class NpyReader:
    """The dumped model inputs (x_NNNN.npy [B, 3, H, W], t_NNNN.npy [B]) one evaluation at a time."""

    def __init__(self, folder: str):
        import numpy as np
        self.np = np
        self.files = sorted(glob.glob(os.path.join(folder, 'x_*.npy')))
        if not self.files:
            raise SystemExit(f'no x_*.npy in {folder} (dump them with benchmarks/int8.ts --dump-calib)')
        self.i = 0

    def get_next(self):
        if self.i >= len(self.files):
            return None
        f = self.files[self.i]
        self.i += 1
        x = self.np.load(f).astype(self.np.float32)
        t = self.np.load(f.replace('x_', 't_')).astype(self.np.float32)
        return {'x': x, 't': t}

    def rewind(self):
        self.i = 0


def quantize(a):
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(NpyReader, CalibrationDataReader):
        pass

    m = onnx.load(a.model)
    if any(n.op_type == 'Cast' and n.name.endswith('_cast') for n in m.graph.node):
        raise SystemExit(f'{a.model} stores float16 weights behind Casts (export.py --fp16-weights): export float32 weights')
    convs = [n.name for n in m.graph.node if n.op_type == 'Conv']
    aliases = {'inp': '/inp/Conv', 'out': '/out/Conv'}
    exclude = [aliases.get(e, e) for e in a.exclude.split(',') if e]
    for e in exclude:
        if e not in {n.name for n in m.graph.node}:
            raise SystemExit(f'--exclude {e}: no such node (convolutions: {convs[0]} … {convs[-1]})')
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    pre = a.out + '.pre.onnx'
    # ONNX shape inference and clean-up first, as ORT's quantisation guide asks; its symbolic shape inference stops
    # on this graph's dynamic H and W ("Incomplete symbolic shape inference") and is not needed to quantise Conv
    quant_pre_process(a.model, pre, skip_symbolic_shape=True)
    method = {'minmax': CalibrationMethod.MinMax, 'entropy': CalibrationMethod.Entropy,
              'percentile': CalibrationMethod.Percentile}[a.method]
    extra = {'ActivationSymmetric': False, 'WeightSymmetric': True}
    if a.method == 'percentile':
        extra['CalibPercentile'] = a.percentile
    if a.range_symmetric != 'auto':
        # ORT's default: symmetric ranges for percentile (half of uint8 unused on post-SiLU tensors), not for the others
        extra['CalibTensorRangeSymmetric'] = a.range_symmetric == 'yes'
    reader = Reader(a.inputs)
    started = time.time()
    cache = a.cache
    if cache and os.path.isfile(cache):
        reader = None  # the ranges of an earlier run (same model, method and inputs): only the exclusions differ
    elif a.method == 'entropy':
        # quantize_static does not pass num_bins to the entropy calibrator, whose default (128) equals the quantised
        # bins: the KL search then has one candidate, the full range, and Entropy comes out the same as MinMax (seen:
        # byte-identical files). So collect the histograms here with more bins and hand the ranges over as a cache.
        from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data
        import tempfile
        with tempfile.TemporaryDirectory(prefix='quantize-') as tmp:
            cal = create_calibrator(pre, a.ops.split(','), augmented_model_path=os.path.join(tmp, 'augmented.onnx'),
                                    calibrate_method=method,
                                    extra_options={'num_bins': a.bins, 'num_quantized_bins': 128,
                                                   'symmetric': a.range_symmetric == 'yes'})
            cal.collect_data(reader)
            cache = cache or os.path.join(os.path.dirname(os.path.abspath(a.out)), os.path.basename(a.out) + '.ranges.json')
            save_tensors_data(cal.compute_data(), cache)
        reader = None
    quantize_static(
        pre, a.out, reader,
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=a.ops.split(','),
        per_channel=not a.no_per_channel,
        reduce_range=False,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=exclude,
        calibrate_method=method,
        extra_options=extra,
        calibration_cache_path=cache,
    )
    os.remove(pre)
    q = onnx.load(a.out)
    info = {
        'model': a.model, 'out': a.out, 'method': a.method, 'ops': a.ops, 'exclude': exclude,
        'per_channel': not a.no_per_channel, 'calibration_inputs': len(NpyReader(a.inputs).files),
        'inputs_dir': a.inputs, 'ranges_cache': cache, 'range_symmetric': a.range_symmetric,
        'percentile': a.percentile if a.method == 'percentile' else None,
        'entropy_bins': a.bins if a.method == 'entropy' else None,
        'weights': 'int8 symmetric', 'activations': 'uint8 asymmetric',
        'quantized_convs': sum(1 for n in q.graph.node if n.op_type == 'Conv') - len(exclude),
        'seconds': round(time.time() - started, 1), 'bytes': os.path.getsize(a.out),
    }
    with open(a.out + '.json', 'w') as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info))


def conv_macs(model, h: int, w: int) -> dict:
    """Multiply-accumulates of each Conv for one [1, 3, h, w] input (output shapes from one run with every Conv
    output made a graph output; ONNX shape inference cannot follow the patchify reshapes)."""
    import copy
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
    m = copy.deepcopy(model)
    convs = [n for n in m.graph.node if n.op_type == 'Conv']
    for n in convs:
        m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n.output[0]))
    s = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
    outs = s.run([n.output[0] for n in convs], {'x': np.zeros((1, 3, h, w), np.float32), 't': np.array([400], np.float32)})
    weights = {i.name: numpy_helper.to_array(i).shape for i in m.graph.initializer}
    res = {}
    for n, o in zip(convs, outs):
        co, ci, kh, kw = weights[n.input[1]]
        res[n.name] = int(co * ci * kh * kw * o.shape[2] * o.shape[3])
    return res


def sensitivity(a):
    """Leave-one-out: for each quantised Conv, the int8 model with that one kept in float as well, scored by how far
    its outputs are from the float model's on the calibration inputs (training crops): all inputs, and the flattest
    eighth (lowest input std), where int8's noise floor shows first (the validation drop is concentrated on flat,
    high-PSNR crops). Uses the ranges of --cache (one calibration run for all variants)."""
    import tempfile
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if not (a.cache and os.path.isfile(a.cache)):
        raise SystemExit('sensitivity needs --cache RANGES.json from an earlier quantize run with the same method')
    reader = NpyReader(a.inputs)
    feeds = []
    while (f := reader.get_next()) is not None:
        feeds.append(f)
    feeds = feeds[::a.every]
    stds = np.array([f['x'].std() for f in feeds])
    flat = np.argsort(stds)[:max(1, len(feeds) // 8)]
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    def outputs(path):
        s = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
        return [s.run(None, f)[0] for f in feeds]
    ref = outputs(a.model)
    aliases = {'inp': '/inp/Conv', 'out': '/out/Conv'}
    base = [aliases.get(e, e) for e in a.exclude.split(',') if e]
    method = {'minmax': CalibrationMethod.MinMax, 'entropy': CalibrationMethod.Entropy,
              'percentile': CalibrationMethod.Percentile}[a.method]
    model = onnx.load(a.model)
    macs = conv_macs(model, 256, 256)
    total = sum(macs.values())
    rows = []
    with tempfile.TemporaryDirectory(prefix='sensitivity-') as tmp:
        pre = os.path.join(tmp, 'pre.onnx')
        quant_pre_process(a.model, pre, skip_symbolic_shape=True)
        for keep in [None] + [n for n in macs if n not in base]:
            q = os.path.join(tmp, 'q.onnx')
            quantize_static(pre, q, None, quant_format=QuantFormat.QDQ, op_types_to_quantize=['Conv'],
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=base + ([keep] if keep else []), calibrate_method=method,
                            extra_options={'ActivationSymmetric': False, 'WeightSymmetric': True},
                            calibration_cache_path=a.cache)
            out = outputs(q)
            mse = np.array([float(np.mean((o - r) ** 2)) for o, r in zip(out, ref)])
            row = {'float_too': keep, 'mse': float(mse.mean()), 'mse_flat': float(mse[flat].mean()),
                   'macs_share': (macs[keep] / total) if keep else 0.0}
            rows.append(row)
            print(json.dumps(row), flush=True)
    b = rows[0]
    for r in rows[1:]:
        r['gain'] = 1 - r['mse'] / b['mse']
        r['gain_flat'] = 1 - r['mse_flat'] / b['mse_flat']
    rows[1:] = sorted(rows[1:], key=lambda r: -r['gain_flat'])
    with open(a.out, 'w') as f:
        json.dump({'model': a.model, 'inputs': a.inputs, 'every': a.every, 'base_exclude': base, 'method': a.method,
                   'flat_inputs': len(flat), 'rows': rows}, f, indent=2)
    print(f'wrote {a.out}')


# The recipe that passed issue 21's rule (benchmarks/results/int8-2026-12-07-decision.md), as `ship` runs it
RECIPE_EXCLUDE = 'inp,out,/up.12/c2/Conv,/up.12/skip/Conv'
RECIPE = ('static QDQ (onnxruntime 1.30 quantize_static) of a float32 export of the same checkpoint: Convs only, int8 '
          'per-channel symmetric weights, uint8 activations, Percentile 99.999 ranges from 256 model inputs of 64 '
          'training crops at the default settings; /inp/Conv, /out/Conv, /up.12/c2/Conv, /up.12/skip/Conv kept float '
          '(models/train/quantize.py)')
# The int8 file the figures below were measured on (made from model.onnx 2deb84be...): another file, even from the
# same weights (a re-run dumps its calibration inputs through the current pipeline), is marked as not measured
MEASURED_FOR = '7ba57c3b3e62f4bf4e2ed37f769abca62c68531baff01cf9e966343502386b3f'
MEASURED = ('PSNR-Y 0.0024 dB below float at x4 and 0.0018 dB at x8 (48 validation crops, default settings); 2.2-2.5x '
            'less CPU per evaluation on an AMD EPYC Zen 4 with AVX-512 VNNI (2 vCPUs, measured under load); not '
            'measured on CPUs without VNNI (benchmarks/results/int8-2026-12-07-decision.md)')


def variant_record(manifest: dict, path: str) -> dict:
    """The manifest's variants.int8 for the int8 file at `path` (in the model folder), made from manifest's model.onnx."""
    with open(path, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()  # a few MB
    same = sha == MEASURED_FOR
    return {
        'file': os.path.basename(path),
        'sha256': sha,
        'bytes': os.path.getsize(path),
        'model_sha256': manifest['sha256'],
        'recipe': RECIPE,
        'measured': MEASURED if same else
        f'this file not measured; the same recipe measured on 2026-12-07 (int8 file {MEASURED_FOR[:12]}..., model.onnx 2deb84be0e37...): {MEASURED}',
        'quantization': {'format': 'QDQ', 'ops': ['Conv'], 'weights': 'int8 per-channel symmetric',
                         'activations': 'uint8 asymmetric', 'calibration': 'percentile 99.999', 'calibration_inputs': 256,
                         'float_nodes': ['/inp/Conv', '/out/Conv', '/up.12/c2/Conv', '/up.12/skip/Conv']},
        **({'evaluation': {'x4_psnr_y_drop_db': 0.0024, 'x8_psnr_y_drop_db': 0.0018, 'crops': 48}} if same else {}),
    }


def ship(a):
    """Export, crops, input dump, quantisation and manifest update in one command (the module docstring)."""
    root = os.path.abspath(os.path.join(HERE, '..', '..'))
    model_dir = os.path.abspath(a.model)
    manifest_path = os.path.join(model_dir, 'manifest.json')
    with open(manifest_path) as f:
        manifest = json.load(f)
    out = os.path.abspath(a.out)
    if a.update_manifest and os.path.dirname(out) != model_dir:
        raise SystemExit(f'--update-manifest: --out must be a file in {model_dir} (the manifest names it by file name)')
    if os.path.basename(out) == 'model.onnx':
        raise SystemExit('--out model.onnx would replace the float model')
    if not os.path.isfile(a.ort_python):
        raise SystemExit(f'--ort-python {a.ort_python} not found: python3 -m venv /tmp/qenv && '
                         '/tmp/qenv/bin/pip install onnxruntime==1.30.0 onnx numpy pillow')
    checkpoint = os.path.join(model_dir, 'checkpoint')
    if not os.path.isdir(checkpoint):
        raise SystemExit(f'{checkpoint} not found: export the model with --ship-checkpoint first')
    data = a.data or os.path.join(root, manifest.get('dataset', {}).get('path', '../shared/data/train'))
    work = a.work or tempfile.mkdtemp(prefix='quantize-ship-')
    os.makedirs(work, exist_ok=True)
    times = {}

    def step(name, cmd):
        print(f'[{name}]', ' '.join(cmd), flush=True)
        started = time.time()
        subprocess.run(cmd, check=True, cwd=root)
        times[name] = round(time.time() - started, 1)

    started = time.time()
    if not a.no_build:
        step('build', ['npx', 'tsc', '-p', 'tsconfig.json'])
    fp32 = os.path.join(work, 'fp32')
    step('export', [sys.executable, os.path.join(HERE, 'export.py'), '--checkpoint', checkpoint,
                    '--name', manifest['name'], '--out', fp32])
    with open(os.path.join(fp32, 'manifest.json')) as f:
        golden = json.load(f)['golden']
    g0 = manifest.get('golden', {})
    if g0 and abs(golden['out_abs_sum'] - g0['out_abs_sum']) > 1e-3 * max(1.0, abs(g0['out_abs_sum'])):
        raise SystemExit(f'{checkpoint} does not hold the weights of {model_dir}/model.onnx (golden out_abs_sum '
                         f'{golden["out_abs_sum"]} against the manifest\'s {g0["out_abs_sum"]}): export them together')
    calib = os.path.join(work, 'calib')
    step('crops', [sys.executable, os.path.abspath(__file__), 'crops', '--data', data, '--out', calib])
    inputs = os.path.join(work, 'inputs')
    step('dump', ['node', os.path.join(root, 'dist', 'benchmarks', 'int8.js'), '--dump-calib', inputs,
                  '--calib-hr', calib, '--model', model_dir])
    q = os.path.join(work, 'model-int8.onnx')
    step('quantize', [a.ort_python, os.path.abspath(__file__), 'quantize', '--model', os.path.join(fp32, 'model.onnx'),
                      '--inputs', inputs, '--out', q, '--method', 'percentile', '--exclude', RECIPE_EXCLUDE])
    shutil.copyfile(q, out + '.tmp')
    os.replace(out + '.tmp', out)
    record = variant_record(manifest, out)
    if a.update_manifest:
        manifest['variants'] = {**manifest.get('variants', {}), 'int8': record}
        with open(manifest_path + '.tmp', 'w') as f:
            json.dump(manifest, f, indent=2)
            f.write('\n')
        os.replace(manifest_path + '.tmp', manifest_path)
    if not a.keep and not a.work:
        shutil.rmtree(work)
    print(json.dumps({'out': out, 'sha256': record['sha256'], 'bytes': record['bytes'], 'model_sha256': record['model_sha256'],
                      'manifest_updated': bool(a.update_manifest), 'seconds': round(time.time() - started, 1),
                      'steps': times, 'work': work if (a.keep or a.work) else None}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('crops', help='calibration crops (training split) and their LR')
    c.add_argument('--data', required=True)
    c.add_argument('--out', required=True)
    c.add_argument('--count', type=int, default=64)
    c.add_argument('--size', type=int, default=128)
    c.add_argument('--val-fraction', type=float, default=0.05)
    c.add_argument('--lr-factors', default='4,8')
    q = sub.add_parser('quantize', help='QDQ int8 model from a float32 ONNX and dumped inputs')
    q.add_argument('--model', required=True)
    q.add_argument('--inputs', required=True)
    q.add_argument('--out', required=True)
    q.add_argument('--method', choices=['minmax', 'entropy', 'percentile'], default='minmax')
    q.add_argument('--percentile', type=float, default=99.999)
    q.add_argument('--exclude', default='', help='nodes kept in float: inp, out (first/last conv) or node names')
    q.add_argument('--ops', default='Conv', help='op types to quantise (Conv; Gemm is the tiny time embedding)')
    q.add_argument('--no-per-channel', action='store_true')
    q.add_argument('--range-symmetric', choices=['auto', 'yes', 'no'], default='auto',
                   help="activation ranges symmetric about 0 (auto: ORT's default per method)")
    q.add_argument('--bins', type=int, default=1024, help='entropy: histogram bins (128 of them quantised)')
    q.add_argument('--cache', help='tensor ranges (JSON): read when it exists (no calibration run), else written')
    s = sub.add_parser('sensitivity', help='leave-one-out: which Conv kept in float closes most of the error')
    s.add_argument('--model', required=True)
    s.add_argument('--inputs', required=True)
    s.add_argument('--out', required=True)
    s.add_argument('--cache', required=True)
    s.add_argument('--method', choices=['minmax', 'entropy', 'percentile'], default='percentile')
    s.add_argument('--exclude', default='out')
    s.add_argument('--every', type=int, default=2, help='use every n-th calibration input')
    s.add_argument('--threads', type=int, default=2)
    p = sub.add_parser('ship', help="re-quantise a model folder's weights with the chosen recipe, in one command")
    p.add_argument('--model', default='models/default', help='model folder (manifest.json, model.onnx, checkpoint/)')
    p.add_argument('--out', default='models/default/model-int8.onnx')
    p.add_argument('--update-manifest', action='store_true', help="write the manifest's variants.int8")
    p.add_argument('--data', help="training images (default: the manifest's dataset.path)")
    p.add_argument('--ort-python', default='/tmp/qenv/bin/python', help='a python with onnxruntime and onnx')
    p.add_argument('--work', help='folder for the intermediate files (kept; default: a temporary one)')
    p.add_argument('--keep', action='store_true', help='keep the temporary folder')
    p.add_argument('--no-build', action='store_true', help='skip the TypeScript build (dist/ is current)')
    a = ap.parse_args()
    {'crops': crops, 'quantize': quantize, 'sensitivity': sensitivity, 'ship': ship}[a.cmd](a)


if __name__ == '__main__':
    main()
