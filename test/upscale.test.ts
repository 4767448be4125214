import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upscale, resolveSettings, reduceSamples } from '../src/upscale.js';
import { loadModel } from '../src/model/session.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { averagePool } from '../src/diffusion/consistency.js';
import { resize } from '../src/image/upsample.js';
import { UsageError } from '../src/errors.js';
import { fakeManifest, fakeSession } from './fake-model.js';

const model = await loadModel('fixture');
test.after(() => model.dispose());

function lrImage(h: number, w: number): ImageTensor {
  const img = createImage(3, h, w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) img.data[(c * h + y) * w + x] = 0.8 * Math.sin(0.7 * x + 0.3 * y + c) * Math.cos((0.2 * x * y) / (h + 1));
  return img;
}
const fast = { model, t: 20, steps: 2 } as const;
const maxDiff = (a: ImageTensor, b: ImageTensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);

test('output size is factor × input for odd sizes and factors', async () => {
  for (const [h, w, f] of [
    [7, 5, 3],
    [16, 12, 2],
    [1, 1, 4],
  ] as const) {
    const r = await upscale(lrImage(h, w), { ...fast, factor: f, seed: 1 });
    assert.deepEqual(r.image.shape, [3, h * f, w * f]);
    assert.ok(r.image.data.every((v) => v >= -1 && v <= 1));
  }
});

test('the same seed repeats a run exactly; another seed differs', async () => {
  const lr = lrImage(12, 12);
  const a = await upscale(lr, { ...fast, seed: 7 });
  const b = await upscale(lr, { ...fast, seed: 7 });
  const c = await upscale(lr, { ...fast, seed: 8 });
  assert.equal(maxDiff(a.image, b.image), 0);
  assert.ok(maxDiff(a.image, c.image) > 1e-3);
  assert.equal(a.settings.seed, 7);
  const d = await upscale(lr, { ...fast });
  assert.ok(Number.isInteger(d.settings.seed), 'a random seed is reported');
});

test('a cascade runs N passes of `steps` model evaluations each, reporting progress per pass', async () => {
  const passes = new Set<number>();
  let events = 0;
  const r = await upscale(
    lrImage(8, 8),
    { ...fast, cascade: 3, steps: 4, seed: 1 },
    {
      onProgress: (e) => {
        if (e.stage === 'boomerang') {
          passes.add(e.pass);
          events++;
          assert.equal(e.passes, 3);
        }
      },
    },
  );
  assert.deepEqual([...passes], [1, 2, 3]);
  assert.equal(events, 12);
  assert.equal(r.stats.evaluations, 12);
  assert.deepEqual(r.settings.passes, [20, 20, 20]);
  const list = await upscale(lrImage(8, 8), { ...fast, cascade: [30, 10], steps: 5, seed: 1 });
  assert.deepEqual(list.settings.passes, [30, 10]);
  assert.equal(list.stats.evaluations, 10);
});

test('with ddnm consistency the output average-pools back to the input', async () => {
  const lr = lrImage(10, 10);
  const r = await upscale(lr, { model, t: 60, steps: 3, factor: 4, seed: 2, consistency: 'ddnm' });
  const pooled = averagePool(r.image, 4);
  assert.ok(maxDiff(pooled, lr) < 0.02, `max |A·x − y| = ${maxDiff(pooled, lr)}`);
  const v = await upscale(lr, { model, t: 60, steps: 3, factor: 4, seed: 2, consistency: 'none' });
  assert.ok(maxDiff(averagePool(v.image, 4), lr) > maxDiff(pooled, lr));
});

test('with ibp consistency the output bicubic-downscales back close to the input', async () => {
  const lr = lrImage(10, 10);
  const down = (img: ImageTensor) => resize(img, 10, 10, 'bicubic', { antialias: true });
  const r = await upscale(lr, { model, t: 60, steps: 6, factor: 4, seed: 2, consistency: 'ibp' });
  const v = await upscale(lr, { model, t: 60, steps: 6, factor: 4, seed: 2, consistency: 'none' });
  assert.equal(r.settings.consistency, 'ibp');
  assert.ok(
    maxDiff(down(r.image), lr) < maxDiff(down(v.image), lr) / 2,
    `ibp ${maxDiff(down(r.image), lr)} vs none ${maxDiff(down(v.image), lr)}`,
  );
});

test('samples: mean and median combine K runs; none keeps them all', async () => {
  const lr = lrImage(8, 8);
  const r = await upscale(lr, { ...fast, t: 80, seed: 3, samples: 3, reduce: 'median' });
  assert.equal(r.samples.length, 3);
  assert.deepEqual(r.image.data, reduceSamples(r.samples, 'median').data);
  const i = 5;
  const vals = r.samples.map((s) => s.data[i]!).sort((a, b) => a - b);
  assert.equal(r.image.data[i], vals[1]);
  const m = await upscale(lr, { ...fast, t: 80, seed: 3, samples: 2, reduce: 'mean' });
  assert.ok(Math.abs(m.image.data[i]! - (m.samples[0]!.data[i]! + m.samples[1]!.data[i]!) / 2) < 1e-6);
  assert.ok(maxDiff(m.image, m.samples[0]!) > 0);
});

test('options are validated once with one-line messages', () => {
  const cases: Array<[object, string]> = [
    [{ t: 0 }, 'Expected integer t in 1..999 but received 0'],
    [{ t: 1000 }, 'Expected integer t in 1..999 but received 1000'],
    [{ cascade: 0 }, 'Expected positive integer for cascade but received 0'],
    [{ steps: 0 }, 'Expected positive integer for steps but received 0'],
    [{ factor: 2.5 }, 'Expected positive integer for factor but received 2.5'],
    [{ upsampler: 'area' }, 'Expected one of nearest, bilinear, bicubic, lanczos for upsampler but received "area"'],
    [{ consistency: 'yes' }, 'Expected one of none, ddnm, ibp for consistency but received "yes"'],
    [{ eta: 2 }, 'Expected number eta in 0..1 but received 2'],
    [{ preset: 'nope' }, 'Unknown preset "nope" for model fixture; it has: none'],
    [{ cascade: [100, 0] }, 'Expected integer t in 1..999 but received 0'],
  ];
  for (const [o, msg] of cases) {
    assert.throws(
      () => resolveSettings(o, model.manifest),
      (e: unknown) => e instanceof UsageError && e.message === msg,
      msg,
    );
  }
});

test('an aborted signal stops the work with an AbortError', async () => {
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(
    upscale(
      lrImage(8, 8),
      { ...fast, steps: 10, seed: 1 },
      {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.stage === 'boomerang' && ++n === 2) ac.abort();
        },
      },
    ),
    { name: 'AbortError' },
  );
  assert.equal(n, 2);
});

test('settings come from the option, else the preset, else the model defaults, else the library', () => {
  const manifest = fakeManifest({
    defaults: { t: 30, steps: 5, consistency: 'ibp' },
    presets: { detail: { t: 200, cascade: 2, consistency: 'none' } },
  });
  const d = resolveSettings({ seed: 1 }, manifest);
  assert.deepEqual([d.passes, d.steps, d.consistency, d.upsampler], [[30], 5, 'ibp', 'bicubic']);
  const p = resolveSettings({ seed: 1, preset: 'detail' }, manifest);
  assert.deepEqual([p.passes, p.steps, p.consistency, p.preset], [[200, 200], 5, 'none', 'detail']);
  const o = resolveSettings({ seed: 1, preset: 'detail', t: 50, consistency: 'ddnm' }, manifest);
  assert.deepEqual([o.passes, o.consistency], [[50, 50], 'ddnm']);
});

test('settings record the steps that ran: capped at the largest pass t (issue 26 #5)', async () => {
  const manifest = fakeManifest({ defaults: { t: 30, steps: 5, consistency: 'ibp' } });
  assert.equal(resolveSettings({ seed: 1, t: 20, steps: 50 }, manifest).steps, 20);
  assert.equal(resolveSettings({ seed: 1, cascade: [100, 10], steps: 50 }, manifest).steps, 50);
  assert.equal(resolveSettings({ seed: 1, cascade: [40, 10], steps: 50 }, manifest).steps, 40);
  // the recorded settings repeat the run exactly
  const lr = lrImage(8, 8);
  const a = await upscale(lr, { model, factor: 2, t: 6, steps: 50, seed: 4 });
  assert.equal(a.settings.steps, 6);
  assert.equal(a.stats.evaluations, 6);
  const b = await upscale(lr, { model, factor: 2, t: 6, steps: a.settings.steps, seed: 4 });
  assert.deepEqual(Array.from(b.image.data), Array.from(a.image.data));
});

test('a soft-resample model: the first pass starts at the factor level, one evaluation per jump, settings say so', async () => {
  const manifest = fakeManifest({
    family: { kind: 'soft-resample', max_scale: 8, sigma_max: 0.04, levels: 1000 },
    prediction: 'residual',
    defaults: { t: 333, steps: 1, cascade: 1, consistency: 'ibp' },
  });
  const ts: number[] = [];
  // a UNet that answers "no change": x̂0 = x_τ, so with ibp the output is the noisy input back-projected
  const session = fakeSession(manifest, async (x, _n, _h, _w, t) => {
    ts.push(...Array.from(t, Math.round));
    return new Float32Array(x.length);
  });
  const lr = lrImage(16, 12);
  const r = await upscale(lr, { model: session, factor: 4, seed: 3 });
  assert.deepEqual(r.settings.passes, [667]);
  assert.deepEqual(ts, [667]);
  assert.equal(r.stats.evaluations, 1);
  assert.deepEqual(r.image.shape, [3, 4 * lr.shape[1]!, 4 * lr.shape[2]!]);
  ts.length = 0;
  const r2 = await upscale(lr, { model: session, factor: 2, cascade: [1, 200], steps: 2, seed: 3 });
  assert.deepEqual(r2.settings.passes, [333, 200]);
  assert.deepEqual(ts, [333, 167, 200, 100]);
});
