"""Smoke test of the training recipe on the CPU: train a few seconds, resume, export, check the manifest.

  /usr/bin/python3 models/train/smoke_test.py        (needs python3-torch and python3-onnx; run by .ci/run when present)
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))


def run(*args):
    r = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'FAILED: {" ".join(args)}\n{r.stdout}\n{r.stderr}')
    return r.stdout


def main():
    from PIL import Image
    import numpy as np
    tmp = tempfile.mkdtemp(prefix='sr-train-smoke-')
    data = os.path.join(tmp, 'data')
    os.makedirs(data)
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(os.path.join(data, f'img{i}.png'))
    run_dir = os.path.join(tmp, 'run')
    common = [os.path.join(HERE, 'train.py'), '--data', data, '--run', run_dir, '--preset', 'fixture',
              '--batch', '4', '--crop', '32', '--threads', '1', '--val-fraction', '0']
    run(*common, '--minutes', '0.05')
    import torch
    first = torch.load(os.path.join(run_dir, 'ckpt.pt'))['counters']
    run(*common, '--minutes', '0.05', '--anneal-minutes', '0.03')  # the lr annealing tail runs too
    second = torch.load(os.path.join(run_dir, 'ckpt.pt'))['counters']
    assert second['steps'] > first['steps'] > 0, (first, second)
    assert len(second['sessions']) == 2, second['sessions']
    assert second['sessions'][1]['anneal_minutes'] == 0.03, second['sessions'][1]
    out = os.path.join(tmp, 'model')
    run(os.path.join(HERE, 'export.py'), '--run', run_dir, '--name', 'smoke', '--out', out, '--fp16-weights', '--ship-checkpoint')
    m = json.load(open(os.path.join(out, 'manifest.json')))
    import hashlib
    assert m['sha256'] == hashlib.sha256(open(os.path.join(out, 'model.onnx'), 'rb').read()).hexdigest()
    assert m['training']['steps'] == second['steps'] and m['multiple'] == 8 and m['prediction'] == 'eps'
    # resume from the shipped float16 checkpoint
    run(*common[:4], os.path.join(tmp, 'run2'), '--preset', 'fixture', '--batch', '4', '--crop', '32', '--threads', '1',
        '--val-fraction', '0', '--minutes', '0.05', '--resume', os.path.join(out, 'checkpoint'))
    third = torch.load(os.path.join(tmp, 'run2', 'ckpt.pt'))['counters']
    assert third['steps'] > second['steps'], (second, third)
    # the sampler rules agree with the committed golden file that the TypeScript test checks too
    sys.path.insert(0, HERE)
    from schedule import golden
    committed = json.load(open(os.path.join(HERE, 'sampler-golden.json')))
    assert json.loads(json.dumps(golden())) == committed, 'schedule.py no longer matches sampler-golden.json'
    # the soft-resample family: started from the Gaussian weights, resumed, snapshotted, exported with its family
    soft_run = os.path.join(tmp, 'soft')
    soft_common = [os.path.join(HERE, 'train.py'), '--data', data, '--run', soft_run, '--preset', 'fixture', '--batch', '4',
                   '--crop', '32', '--threads', '1', '--val-fraction', '0', '--family', 'soft-resample',
                   '--snapshot-every', '0.02']
    run(*soft_common, '--minutes', '0.05', '--init-from', os.path.join(out, 'checkpoint'))
    s1 = torch.load(os.path.join(soft_run, 'ckpt.pt'))
    assert s1['config']['family'] == 'soft-resample' and s1['config']['prediction'] == 'residual', s1['config']
    assert s1['counters']['init_from']['steps'] == second['steps'] and s1['counters']['cpu_seconds'] > 0, s1['counters']
    run(*soft_common, '--minutes', '0.05', '--anneal-minutes', '0.03')
    s2 = torch.load(os.path.join(soft_run, 'ckpt.pt'))['counters']
    assert s2['steps'] > s1['counters']['steps'] and len(s2['sessions']) == 2, s2
    assert s2['cpu_seconds'] > s1['counters']['cpu_seconds'], s2
    snaps = sorted(os.listdir(os.path.join(soft_run, 'snapshots')))
    assert snaps and all(n.startswith('cpu-') for n in snaps), snaps
    r = subprocess.run([sys.executable, *common[:3], '--run', soft_run, '--preset', 'fixture', '--minutes', '0.01',
                        '--family', 'gaussian'], capture_output=True, text=True)
    assert r.returncode != 0 and 'family soft-resample, not gaussian' in r.stderr + r.stdout, r.stderr
    soft_out = os.path.join(tmp, 'soft-model')
    run(os.path.join(HERE, 'export.py'), '--run', soft_run, '--name', 'soft-smoke', '--out', soft_out)
    sm = json.load(open(os.path.join(soft_out, 'manifest.json')))
    assert sm['family']['kind'] == 'soft-resample' and sm['prediction'] == 'residual', sm['family']
    assert sm['training']['family'] == 'soft-resample' and sm['training']['steps'] == s2['steps'], sm['training']
    import soft
    assert json.loads(json.dumps(soft.golden())) == json.load(open(os.path.join(HERE, 'soft-golden.json'))), \
        'soft.py no longer matches soft-golden.json'
    print(f"training recipe smoke test: 5 passed, 0 failed (steps {first['steps']} -> {second['steps']} -> {third['steps']}; "
          f"soft-resample {s1['counters']['steps']} -> {s2['steps']})")


if __name__ == '__main__':
    main()
