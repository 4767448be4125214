/**
 * int8 as an opt-in precision (issue 21 item 4): the manifest's `variants.int8`, loadModel's `precision`, the speed
 * cache key, the settings record and `--precision` on the CLI. Uses the shipped default model and its
 * model-int8.onnx (a 32² input at x4 runs in well under a second).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest } from '../src/model/manifest.js';
import { loadModel, modelFileSha256, sessionSha256 } from '../src/model/session.js';
import { resolveModelDir } from '../src/model/locate.js';
import { ModelError, UsageError } from '../src/errors.js';
import { resolveSettings, upscale } from '../src/upscale.js';
import { upscaleInputs } from '../src/batch/upscale-inputs.js';
import { root, sr, tempDir } from './cli-helpers.js';
import { fakeManifest, fakeSession, manifestFields } from './fake-model.js';

const defaultDir = resolveModelDir('default');
const fixtureInput = join(root, 'fixtures', 'flowers-32.png');
const hex = (c: string) => c.repeat(64);
const variant = (extra: Record<string, unknown> = {}) => ({ file: 'model-int8.onnx', sha256: hex('a'), model_sha256: hex('0'), ...extra });

test('a manifest int8 variant validates; a manifest without variants still loads', () => {
  const m = validateManifest(manifestFields({ variants: { int8: variant({ bytes: 10, recipe: 'r', measured: 'm' }) } }), 'x.json');
  assert.deepEqual(m.variants.int8, {
    file: 'model-int8.onnx',
    sha256: hex('a'),
    modelSha256: hex('0'),
    bytes: 10,
    recipe: 'r',
    measured: 'm',
  });
  assert.deepEqual(validateManifest(manifestFields(), 'x.json').variants, {});
});

test('manifest variant errors name the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /expected variants to be an object/],
    [{ int8: 'model-int8.onnx' }, /expected variants\.int8 to be an object with file and sha256/],
    [{ int8: variant({ file: '../model-int8.onnx' }) }, /expected variants\.int8\.file to be an \.onnx file name in the model folder/],
    [{ int8: variant({ file: 'model.onnx' }) }, /expected variants\.int8\.file .* \(not model\.onnx\)/],
    [{ int8: variant({ sha256: 'ABC' }) }, /expected variants\.int8\.sha256 to be 64 lowercase hex digits/],
    [{ int8: variant({ model_sha256: undefined }) }, /expected variants\.int8\.model_sha256 to be 64 lowercase hex digits/],
    [{ int8: variant({ bytes: -1 }) }, /expected variants\.int8\.bytes to be a positive integer/],
  ];
  for (const [variants, message] of cases) {
    assert.throws(
      () => validateManifest(manifestFields({ variants }), 'x.json'),
      (e: unknown) => e instanceof ModelError && message.test(e.message),
    );
  }
});

test('the shipped default model lists an int8 variant made from its model.onnx', async () => {
  const m = JSON.parse(await readFile(join(defaultDir, 'manifest.json'), 'utf8')) as {
    sha256: string;
    variants: { int8: { file: string; model_sha256: string } };
  };
  assert.equal(m.variants.int8.file, 'model-int8.onnx');
  assert.equal(m.variants.int8.model_sha256, m.sha256);
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('models/*/model-int8.onnx'));
});

test('loadModel precision int8 runs the variant, close to float on a 64² input', async () => {
  const float = await loadModel('default');
  const int8 = await loadModel('default', { precision: 'int8' });
  try {
    assert.equal(float.precision, 'float');
    assert.equal(int8.precision, 'int8');
    assert.equal(int8.device, 'cpu');
    // the golden input's recipe (x_i = 0.9 sin(0.37 i)) at the default second pass's t
    const s = 64;
    const x = Float32Array.from({ length: 3 * s * s }, (_, i) => 0.9 * Math.sin(0.37 * i));
    const a = await float.run(x, 1, s, s, [400]);
    const b = await int8.run(x, 1, s, s, [400]);
    let se = 0;
    let max = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      se += d * d;
      max = Math.max(max, Math.abs(d));
    }
    const rms = Math.sqrt(se / a.length);
    // measured: rms 0.0013, max 0.0056 (output rms 0.16); a different file, so not identical
    assert.ok(rms > 0 && rms < 0.01, `rms ${rms}`);
    assert.ok(max < 0.05, `max ${max}`);
  } finally {
    await float.dispose();
    await int8.dispose();
  }
});

test('upscale with precision int8 records it, its output at least 50 dB PSNR against the float output', async () => {
  const a = await upscale(fixtureInput, { seed: 1, precision: 'float' });
  const b = await upscale(fixtureInput, { seed: 1, precision: 'int8' });
  assert.equal(a.settings.precision, 'float');
  assert.equal(b.settings.precision, 'int8');
  const x = a.image.data;
  const y = b.image.data;
  let se = 0;
  for (let i = 0; i < x.length; i++) se += ((x[i]! - y[i]!) * 127.5) ** 2;
  // measured: 60.7 dB between the two outputs, at most 2 grey levels apart
  const psnr = 10 * Math.log10((255 * 255) / (se / x.length));
  assert.ok(psnr > 50, `PSNR ${psnr.toFixed(2)} dB`);
});

test('unknown precision, a model without the variant and webgpu are UsageErrors', async () => {
  const usage = (message: RegExp) => (e: unknown) => e instanceof UsageError && message.test(e.message);
  await assert.rejects(loadModel('default', { precision: 'int16' as never }), usage(/Expected one of auto, float, int8 for precision/));
  await assert.rejects(loadModel('fixture', { precision: 'int8' }), usage(/Model fixture has no int8 variant \(its manifest lists none\)/));
  await assert.rejects(loadModel('default', { precision: 'int8', device: 'webgpu' }), usage(/int8 runs on the CPU only/));
  assert.throws(() => resolveSettings({ precision: 'half' as never }, fakeManifest()), usage(/for precision/));
});

test('device auto with int8 runs on the CPU and says so', async () => {
  const m = await loadModel('default', { precision: 'int8', device: 'auto' });
  try {
    assert.equal(m.device, 'cpu');
    assert.match(m.notes?.map((n) => n.message).join('\n') ?? '', /int8 runs on the CPU only/);
  } finally {
    await m.dispose();
  }
});

/** A model folder with the default model's files (linked) and its manifest edited by `edit`. */
async function editedDefault(edit: (m: { sha256: string; variants: { int8: Record<string, unknown> } }) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-int8-'));
  for (const f of ['model.onnx', 'model-int8.onnx']) await symlink(join(defaultDir, f), join(dir, f));
  const m = JSON.parse(await readFile(join(defaultDir, 'manifest.json'), 'utf8'));
  edit(m);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

test('an int8 file that does not match its sha256, or was made from other weights, is a ModelError', async () => {
  const corrupt = await editedDefault((m) => {
    m.variants.int8.sha256 = hex('b');
  });
  await assert.rejects(
    loadModel(corrupt, { precision: 'int8' }),
    (e: unknown) => e instanceof ModelError && /model-int8\.onnx is corrupt/.test(e.message),
  );
  const stale = await editedDefault((m) => {
    m.variants.int8.model_sha256 = hex('c');
  });
  await assert.rejects(
    loadModel(stale, { precision: 'int8' }),
    (e: unknown) => e instanceof ModelError && /was made from other weights.*quantize\.py/.test(e.message),
  );
  // the float model of the same folder still loads
  const float = await loadModel(stale);
  await float.dispose();
});

test('the speed cache keys on the file run: int8 and float do not share figures', () => {
  const m = validateManifest(manifestFields({ variants: { int8: variant() } }), 'x.json');
  assert.equal(modelFileSha256(m), m.sha256);
  assert.equal(modelFileSha256(m, 'int8'), hex('a'));
  assert.equal(sessionSha256(fakeSession(m, async (x) => x)), m.sha256);
  assert.equal(sessionSha256({ manifest: m, precision: 'int8' }), hex('a'));
});

test('sr upscale --precision int8 runs on the fixture and says so; sr info lists the variant', async () => {
  const out = join(tempDir('int8'), 'out.png');
  const r = await sr(['upscale', fixtureInput, '-o', out, '--seed', '1', '--precision', 'int8']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /on cpu with model default \(int8\)/);
  const f = await sr(['upscale', fixtureInput, '-o', join(tempDir('int8'), 'f.png'), '--seed', '1', '--precision', 'float']);
  assert.doesNotMatch(f.stderr, /\(int8\)|\(float\)/);
  const bad = await sr(['upscale', fixtureInput, '-o', out, '--precision', 'int4']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Expected one of auto, float, int8 for --precision but received "int4"/);
  const gpu = await sr(['upscale', fixtureInput, '-o', out, '--force', '--precision', 'int8', '--device', 'webgpu']);
  assert.equal(gpu.status, 2);
  assert.match(gpu.stderr, /int8 runs on the CPU only/);
  const missing = await sr(['upscale', fixtureInput, '-o', out, '--force', '--model', 'fixture', '--precision', 'int8']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /Model fixture has no int8 variant/);
  const info = await sr(['info']);
  assert.match(info.stdout, /variant {5}--precision int8: model-int8\.onnx \(8\.4 MB\), sha256 [0-9a-f]{64}/);
});

test('a queued batch refuses int8 (workers load the float model) before anything is enqueued', async () => {
  const out = tempDir('int8-queue');
  await assert.rejects(
    upscaleInputs([join(root, 'fixtures')], join(out, 'x/'), { queue: 'redis://127.0.0.1:1', precision: 'int8' }),
    (e: unknown) => e instanceof UsageError && /does not apply to --queue/.test(e.message),
  );
});
