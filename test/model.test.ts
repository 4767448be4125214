import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest } from '../src/model/manifest.js';
import { loadModel } from '../src/model/session.js';
import { resolveModelDir } from '../src/model/locate.js';
import { DeviceError, ModelError, UsageError } from '../src/errors.js';
import { upscaleInputs } from '../src/batch/upscale-inputs.js';
import { manifestFields } from './fake-model.js';

const fixtureDir = resolveModelDir('fixture');
const fixtureInput = 'fixtures/flowers-32.png';

test('a complete manifest validates, with defaults filled in', () => {
  const m = validateManifest(manifestFields(), 'x.json');
  assert.equal(m.T, 1000);
  assert.deepEqual(m.defaults, { t: 100, steps: 20 });
  assert.deepEqual(m.betas, { kind: 'linear', start: 1e-4, end: 0.02 });
});

test('manifest validation names the file and the field', () => {
  const cases: Array<[(m: Record<string, unknown>) => void, string]> = [
    [
      (m) => {
        m.prediction = 'score';
      },
      'Invalid model manifest x.json: expected prediction to be one of eps, x0, v for a gaussian model but received "score"',
    ],
    [
      (m) => {
        m.family = { kind: 'soft-resample', max_scale: 8, sigma_max: 0.04, levels: 1000 };
      },
      'Invalid model manifest x.json: expected prediction to be one of residual for a soft-resample model but received "eps"',
    ],
    [
      (m) => {
        m.family = { kind: 'soft-resample', max_scale: 1, sigma_max: 0.04, levels: 1000 };
        m.prediction = 'residual';
      },
      'Invalid model manifest x.json: expected family.max_scale to be a number above 1 but received 1',
    ],
    [
      (m) => {
        m.family = { kind: 'cold' };
      },
      'Invalid model manifest x.json: expected family.kind to be gaussian or soft-resample but received "cold"',
    ],
    [
      (m) => {
        m.T = 0;
      },
      'Invalid model manifest x.json: expected a positive integer for T but received 0',
    ],
    [
      (m) => {
        m.multiple = 6;
      },
      'Invalid model manifest x.json: expected multiple (6) to be a multiple of patch (4)',
    ],
    [
      (m) => {
        m.sha256 = 'xyz';
      },
      'Invalid model manifest x.json: expected sha256 to be 64 lowercase hex digits',
    ],
    [
      (m) => {
        m.betas = { kind: 'linear', start: 0.02, end: 0.01 };
      },
      'Invalid model manifest x.json: expected linear betas with 0 < start < end < 1',
    ],
    [
      (m) => {
        m.betas = { kind: 'sigmoid' };
      },
      'Invalid model manifest x.json: expected betas.kind to be linear, cosine or table but received "sigmoid"',
    ],
    [
      (m) => {
        delete m.name;
      },
      'Invalid model manifest x.json: expected a non-empty string for name',
    ],
    [
      (m) => {
        m.defaults = { t: 1000 };
      },
      'Invalid model manifest x.json: expected defaults.t to be an integer in 1..999 but received 1000',
    ],
    // presets are checked against the same lists the sampler accepts, at load time
    [
      (m) => {
        m.presets = { p: { consistency: 'exact' } };
      },
      'Invalid model manifest x.json: expected presets.p.consistency to be one of none, ddnm, ibp but received "exact"',
    ],
    [
      (m) => {
        m.presets = { p: { upsampler: 'area' } };
      },
      'Invalid model manifest x.json: expected presets.p.upsampler to be one of nearest, bilinear, bicubic, lanczos but received "area"',
    ],
    [
      (m) => {
        m.presets = { p: { cascade: [50, 0] } };
      },
      'Invalid model manifest x.json: expected presets.p.cascade to be a positive integer or a list of t in 1..999 but received [50,0]',
    ],
    [
      (m) => {
        m.presets = { p: { backProject: -1 } };
      },
      'Invalid model manifest x.json: expected presets.p.backProject to be a non-negative integer but received -1',
    ],
    [
      (m) => {
        m.presets = { p: 3 };
      },
      'Invalid model manifest x.json: expected presets.p to be an object',
    ],
    [
      (m) => {
        m.speed = { cpu_seconds_per_megapixel: 0 };
      },
      'Invalid model manifest x.json: expected speed.cpu_seconds_per_megapixel to be a positive number',
    ],
  ];
  for (const [mutate, message] of cases) {
    const m = manifestFields();
    mutate(m);
    assert.throws(
      () => validateManifest(m, 'x.json'),
      (e: unknown) => e instanceof ModelError && e.message === message,
    );
  }
  assert.throws(() => validateManifest([], 'x.json'), /expected a JSON object/);
  const fidelity = { t: 5, consistency: 'ibp', backProject: 10, cascade: [20, 10] };
  assert.deepEqual(validateManifest(manifestFields({ presets: { fidelity } }), 'x.json').presets.fidelity, fidelity);
});

test('the fixture model runs in onnxruntime and matches the PyTorch golden output', async () => {
  const model = await loadModel('fixture');
  try {
    const g = (model.manifest.raw as { golden: { shape: number[]; t: number; out_sum: number; out_abs_sum: number; out_first: number[] } })
      .golden;
    const [b, c, h, w] = g.shape as [number, number, number, number];
    const n = b * c * h * w;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.9 * Math.sin(0.37 * i);
    const out = await model.run(x, b, h, w, [g.t]);
    assert.equal(out.length, n);
    let sum = 0;
    let abs = 0;
    for (const v of out) {
      sum += v;
      abs += Math.abs(v);
    }
    assert.ok(Math.abs(abs - g.out_abs_sum) < 1e-4 * g.out_abs_sum, `abs sum ${abs} vs ${g.out_abs_sum}`);
    assert.ok(Math.abs(sum - g.out_sum) < 1e-3, `sum ${sum} vs ${g.out_sum}`);
    for (const [i, v] of g.out_first.entries()) assert.ok(Math.abs(out[i]! - v) < 1e-4, `out[${i}] ${out[i]} vs ${v}`);
    assert.equal(model.device, 'cpu');
  } finally {
    await model.dispose();
  }
});

test('a batch of two runs both images', async () => {
  const model = await loadModel('fixture');
  try {
    const m = model.manifest.multiple;
    const one = new Float32Array(3 * m * m).map((_, i) => Math.cos(i));
    const two = new Float32Array(2 * one.length);
    two.set(one, 0);
    two.set(
      one.map((v) => -v),
      one.length,
    );
    const a = await model.run(one, 1, m, m, [30]);
    const ab = await model.run(two, 2, m, m, [30, 30]);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - ab[i]!) < 1e-5);
    assert.ok(ab.subarray(a.length).some((v, i) => Math.abs(v - a[i]!) > 1e-3));
    await assert.rejects(model.run(one, 1, m + 1, m, [30]), /not a multiple of/);
  } finally {
    await model.dispose();
  }
});

test('a corrupt model file, a missing folder and a broken manifest are ModelErrors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-model-'));
  await cp(fixtureDir, dir, { recursive: true });
  const bytes = await readFile(join(dir, 'model.onnx'));
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(join(dir, 'model.onnx'), bytes);
  await assert.rejects(
    loadModel(dir),
    (e: unknown) => e instanceof ModelError && /is corrupt or does not match its manifest/.test(e.message),
  );
  await assert.rejects(
    loadModel(join(dir, 'nope')),
    (e: unknown) => e instanceof ModelError && /Cannot read model manifest .*nope\/manifest.json: ENOENT/.test(e.message),
  );
  await writeFile(join(dir, 'manifest.json'), '{"name": ');
  await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelError && /not valid JSON/.test(e.message));
});

test('webgpu either runs or fails with a DeviceError; auto always gives a working device', async () => {
  try {
    const m = await loadModel('fixture', { device: 'webgpu' });
    assert.equal(m.device, 'webgpu');
    await m.dispose();
  } catch (e) {
    assert.ok(e instanceof DeviceError, String(e));
    assert.match((e as Error).message, /^WebGPU is not available here: .*\(use --device cpu or auto\)$/);
  }
  const auto = await loadModel('fixture', { device: 'auto' });
  assert.ok(auto.device === 'cpu' || auto.device === 'webgpu');
  await auto.dispose();
});

test('a device outside cpu, webgpu, auto is a UsageError naming them, before anything is read (issue 25 #10)', async () => {
  for (const device of ['CPU', 'tpu', '', null, 0]) {
    await assert.rejects(
      loadModel('fixture', { device: device as never }),
      (e: unknown) => e instanceof UsageError && /^Expected one of cpu, webgpu, auto for device but received /.test(e.message),
      String(device),
    );
  }
  // the model spec is not even resolved first
  await assert.rejects(loadModel('/no/such/model', { device: 'gpu' as never }), UsageError);
  await assert.rejects(upscaleInputs([fixtureInput], join(tmpdir(), 'never.png'), { device: 'CPU' as never }), UsageError);
});
