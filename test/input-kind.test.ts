/**
 * Inputs known to be degraded: the JPEG quality estimate (from the luminance quantisation table, hand-computed cases)
 * and how `input` auto|clean|jpeg picks the model's settings for a JPEG input; the noise estimated in a non-JPEG input
 * and how `input` auto|noisy removes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { planBatch } from '../src/batch/batch.js';
import { estimateJpegQuality, lumaQuantTable, qualityOfTable } from '../src/image/jpeg-quality.js';
import { decodeImage, encodeImage } from '../src/image/io.js';
import {
  estimateInputNoise,
  inputKindOf,
  jpegInputSettings,
  NOISY_INPUT_SIGMA,
  resolveSettings,
  upscale,
  upscaleFile,
  wantsNoiseEstimate,
} from '../src/upscale.js';
import { createRng } from '../src/diffusion/rng.js';
import { byteToUnit, createImage, unitToByte } from '../src/image/tensor.js';
import { fakeManifest } from './fake-model.js';
import { loadModel } from '../src/model/session.js';

const K1 = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
  37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

test('quality of a table: the standard table is 50, half of it 75, twice it 25, all ones 100', () => {
  assert.equal(qualityOfTable(K1), 50); // S = 100 → q = (200 − 100)/2
  assert.equal(qualityOfTable(K1.map((v) => v / 2)), 75); // S = 50 → q = 75
  assert.equal(qualityOfTable(K1.map((v) => v * 2)), 25); // S = 200 → q = 5000/200
  assert.equal(qualityOfTable(new Array(64).fill(1)), 100);
});

test('the table is read from a JPEG (zig-zag order undone) and the quality sharp wrote is recovered', async () => {
  for (const q of [30, 60, 75, 90]) {
    const bytes = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#806040' } })
      .jpeg({ quality: q })
      .toBuffer();
    assert.equal(estimateJpegQuality(bytes), q);
    assert.equal((await decodeImage(bytes)).jpegQuality, q);
  }
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  assert.equal(estimateJpegQuality(png), null);
  assert.equal((await decodeImage(png)).jpegQuality, null);
  assert.equal(lumaQuantTable(Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00])), null); // cut short
});

test('input auto: a JPEG below quality 95 is jpeg, anything else clean; clean and jpeg are taken as said', () => {
  assert.equal(inputKindOf('auto', 75), 'jpeg');
  assert.equal(inputKindOf(undefined, 94), 'jpeg');
  assert.equal(inputKindOf('auto', 95), 'clean');
  assert.equal(inputKindOf('auto', null), 'clean');
  assert.equal(inputKindOf('clean', 30), 'clean');
  assert.equal(inputKindOf('jpeg', null), 'jpeg');
});

test("a JPEG input takes the model's inputs.jpeg settings over the preset and defaults; explicit options still win", () => {
  const m = fakeManifest({
    defaults: { t: 100, steps: 5, consistency: 'ibp', backProject: 10 },
    presets: { sharp: { t: 50, consistency: 'ddnm' } },
    inputs: { jpeg: { consistency: 'none', backProject: 0 } },
  });
  const clean = resolveSettings({ seed: 1, sourceJpegQuality: 98 }, m);
  assert.equal(clean.input, 'clean');
  assert.equal(clean.consistency, 'ibp');
  assert.equal(clean.backProject, 10);
  const jpeg = resolveSettings({ seed: 1, sourceJpegQuality: 75, preset: 'sharp' }, m);
  assert.equal(jpeg.input, 'jpeg');
  assert.equal(jpeg.consistency, 'none');
  assert.equal(jpeg.backProject, 0);
  assert.equal(jpeg.passes[0], 50); // the preset still gives what inputs.jpeg leaves alone
  const told = resolveSettings({ seed: 1, sourceJpegQuality: 75, consistency: 'ddnm' }, m);
  assert.equal(told.consistency, 'ddnm');
  assert.equal(resolveSettings({ seed: 1, input: 'jpeg' }, m).consistency, 'none');
  assert.throws(() => resolveSettings({ seed: 1, input: 'png' as never }, m), /input/);
});

test('a manifest with inputs other than jpeg, or not objects, is refused', () => {
  assert.throws(
    () => fakeManifest({ inputs: { noisy: {} } }),
    /expected inputs to name jpeg or jpeg<Q \(Q a JPEG quality in 1..100\) but received "noisy"/,
  );
  assert.throws(() => fakeManifest({ inputs: { jpeg: { consistency: 'blur' } } }), /inputs\.jpeg\.consistency/);
});

test('jpeg<Q settings apply over jpeg ones to JPEGs below quality Q (and of unknown quality), the lowest bound last', () => {
  const m = fakeManifest({
    defaults: { t: 100, steps: 5 },
    inputs: {
      'jpeg<40': { upsampler: 'bilinear' },
      jpeg: { upsampler: 'nearest', backProject: 0 },
      'jpeg<80': { upsampler: 'lanczos', steps: 2 },
    },
  });
  assert.deepEqual(
    m.inputs.jpegBelow!.map((b) => b.quality),
    [80, 40],
  );
  assert.deepEqual(jpegInputSettings(m, 90), { upsampler: 'nearest', backProject: 0 });
  assert.deepEqual(jpegInputSettings(m, 80), { upsampler: 'nearest', backProject: 0 }); // below 80, not at it
  assert.deepEqual(jpegInputSettings(m, 79), { upsampler: 'lanczos', backProject: 0, steps: 2 });
  assert.deepEqual(jpegInputSettings(m, 30), { upsampler: 'bilinear', backProject: 0, steps: 2 });
  assert.deepEqual(jpegInputSettings(m, null), { upsampler: 'bilinear', backProject: 0, steps: 2 });
  assert.equal(resolveSettings({ seed: 1, sourceJpegQuality: 75 }, m).upsampler, 'lanczos');
  assert.equal(resolveSettings({ seed: 1, sourceJpegQuality: 75, upsampler: 'bicubic' }, m).upsampler, 'bicubic');
  assert.equal(resolveSettings({ seed: 1, sourceJpegQuality: 98 }, m).upsampler, 'bicubic'); // clean: none of them
  assert.throws(() => fakeManifest({ inputs: { 'jpeg<101': {} } }), /jpeg or jpeg<Q/);
  assert.throws(() => fakeManifest({ inputs: { 'jpeg<0': {} } }), /jpeg or jpeg<Q/);
  assert.throws(() => fakeManifest({ inputs: { 'jpeg<80': { upsampler: 'sinc' } } }), /inputs\.jpeg<80\.upsampler/);
});

test('recorrupt is a soft-resample setting: a Gaussian model refuses it, the default model turns it on for JPEGs below quality 80', async () => {
  const gaussian = await loadModel('fixture');
  assert.throws(
    () => resolveSettings({ recorrupt: true }, gaussian.manifest),
    /recorrupt is for soft-resample models; fixture is gaussian/,
  );
  assert.equal(resolveSettings({}, gaussian.manifest).recorrupt, false);
  await gaussian.dispose();
  const soft = await loadModel('default');
  // its JPEG settings say recorrupt below quality 80: a JPEG of unknown quality (a PNG said to be one) counts as below
  assert.equal(resolveSettings({ input: 'jpeg' }, soft.manifest).recorrupt, true);
  assert.equal(resolveSettings({ sourceJpegQuality: 75 }, soft.manifest).recorrupt, true);
  assert.equal(resolveSettings({ sourceJpegQuality: 90 }, soft.manifest).recorrupt, false);
  assert.equal(resolveSettings({ sourceJpegQuality: 90 }, soft.manifest).input, 'jpeg');
  // below quality 80 its start is also the lanczos enlargement (that is what the re-corrupted start shrinks back)
  assert.equal(resolveSettings({ sourceJpegQuality: 75 }, soft.manifest).upsampler, 'lanczos');
  assert.equal(resolveSettings({ sourceJpegQuality: 90 }, soft.manifest).upsampler, 'bicubic');
  assert.equal(resolveSettings({ input: 'clean' }, soft.manifest).recorrupt, false);
  assert.equal(resolveSettings({ input: 'jpeg', recorrupt: false }, soft.manifest).recorrupt, false);
  await soft.dispose();
});

test('input auto: a non-JPEG input whose estimated noise reaches NOISY_INPUT_SIGMA is noisy; noisy is taken as said', () => {
  assert.equal(NOISY_INPUT_SIGMA, 7);
  assert.equal(inputKindOf('auto', null, 7), 'noisy');
  assert.equal(inputKindOf('auto', null, 6.99), 'clean');
  assert.equal(inputKindOf('auto', 98, 9), 'noisy'); // a JPEG at quality 95 or above counts as not compressed
  assert.equal(inputKindOf('auto', 75, 9), 'jpeg'); // a compressed JPEG's settings come first
  assert.equal(inputKindOf('clean', null, 9), 'clean');
  assert.equal(inputKindOf('noisy', null, 0.3), 'noisy');
  assert.equal(inputKindOf('auto', null, null), 'clean');
});

test('the estimate is looked for under auto and noisy only, without an explicit noise, and not on a compressed JPEG', () => {
  assert.equal(wantsNoiseEstimate({}), true);
  assert.equal(wantsNoiseEstimate({ input: 'noisy' }), true);
  assert.equal(wantsNoiseEstimate({ sourceJpegQuality: 98 }), true);
  assert.equal(wantsNoiseEstimate({ sourceJpegQuality: 75 }), false);
  assert.equal(wantsNoiseEstimate({ input: 'clean' }), false);
  assert.equal(wantsNoiseEstimate({ input: 'jpeg' }), false);
  assert.equal(wantsNoiseEstimate({ noise: 0 }), false);
  assert.equal(wantsNoiseEstimate({ sourceNoise: 3 }), false); // already made
});

test('a noisy input has its estimated noise removed (to 0.1 grey level) and recorded; explicit noise and clean win', () => {
  const m = fakeManifest({ defaults: { t: 100, steps: 5 } });
  const noisy = resolveSettings({ seed: 1, sourceNoise: 9.6789 }, m);
  assert.deepEqual([noisy.input, noisy.noiseEstimate, noisy.noise, noisy.denoiser], ['noisy', 9.68, 9.7, 'gaussian']);
  // below the bound: recorded, not removed (the result is the clean one)
  const quiet = resolveSettings({ seed: 1, sourceNoise: 2.5 }, m);
  assert.deepEqual([quiet.input, quiet.noiseEstimate, quiet.noise, quiet.denoiser], ['clean', 2.5, 0, null]);
  // --input noisy removes whatever was found
  assert.equal(resolveSettings({ seed: 1, input: 'noisy', sourceNoise: 2.5 }, m).noise, 2.5);
  // an explicit noise wins over the estimate, and the estimate is not recorded
  const told = resolveSettings({ seed: 1, sourceNoise: 9.6, noise: 4 }, m);
  assert.deepEqual([told.input, told.noiseEstimate, told.noise], ['clean', null, 4]);
  assert.deepEqual(
    [
      resolveSettings({ seed: 1, input: 'clean', sourceNoise: 9.6 }, m).noise,
      resolveSettings({ seed: 1, input: 'clean', sourceNoise: 9.6 }, m).noiseEstimate,
    ],
    [0, null],
  );
  // a compressed JPEG takes its JPEG settings, not the estimate
  const jpeg = resolveSettings({ seed: 1, sourceJpegQuality: 75, sourceNoise: 9.6 }, m);
  assert.deepEqual([jpeg.input, jpeg.noise, jpeg.noiseEstimate], ['jpeg', 0, null]);
  // more than MAX_NOISE found is removed at MAX_NOISE, not refused
  assert.equal(resolveSettings({ seed: 1, sourceNoise: 80 }, m).noise, 50);
});

/** A 32×32 colour gradient, and the same with Gaussian noise of σ 10 grey levels added (drawn from `seed`). */
function gradientPair(seed: number) {
  const rng = createRng(seed);
  const clean = createImage(3, 32, 32);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) clean.data[(c * 32 + y) * 32 + x] = byteToUnit(Math.round(90 + 2 * x + 1.5 * y + 10 * c));
  const noise = (v: number) => byteToUnit(Math.round(unitToByte(v) + 10 * rng.normal()));
  return { clean, noisy: createImage(3, 32, 32, Float32Array.from(clean.data, noise)) };
}

test('upscale on a tensor estimates the noise itself: clean fixture pixels stay clean, σ 10 added is found and removed, a grey image is not estimated', async () => {
  const model = await loadModel('fixture');
  const { clean, noisy } = gradientPair(5);
  const a = await upscale(clean, { model, factor: 2, seed: 3, steps: 1 });
  assert.deepEqual([a.settings.input, a.settings.noise], ['clean', 0]);
  assert.ok(a.settings.noiseEstimate! < 1, `${a.settings.noiseEstimate}`);
  const b = await upscale(noisy, { model, factor: 2, seed: 3, steps: 1 });
  assert.equal(b.settings.input, 'noisy');
  assert.ok(Math.abs(b.settings.noise - 10) < 1.5, `${b.settings.noise}`);
  assert.equal(b.settings.denoiser, 'gaussian');
  // a grey image (the same noise in every channel) is not estimated: from one channel texture reads as noise
  const grey = createImage(3, 32, 32);
  for (let k = 0; k < 3; k++) grey.data.set(noisy.data.subarray(0, 32 * 32), k * 32 * 32);
  assert.equal(estimateInputNoise(grey), null);
  const g = await upscale(grey, { model, factor: 2, seed: 3, steps: 1 });
  assert.deepEqual([g.settings.input, g.settings.noise, g.settings.noiseEstimate], ['clean', 0, null]);
  // told clean, the same pixels run untouched: as the clean run with no estimate recorded
  const c = await upscale(noisy, { model, factor: 2, seed: 3, steps: 1, input: 'clean' });
  assert.deepEqual([c.settings.input, c.settings.noise, c.settings.noiseEstimate], ['clean', 0, null]);
  await model.dispose();
});

test("a batch resolves each input's settings once, when it plans, as upscaleFile would: a noisy PNG's noise read from its pixels", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-plan-noise-'));
  try {
    const { clean, noisy } = gradientPair(7);
    await mkdir(join(dir, 'in'));
    await encodeImage({ rgb: clean }, join(dir, 'in', 'clean.png'));
    await encodeImage({ rgb: noisy }, join(dir, 'in', 'noisy.png'));
    const model = await loadModel('fixture');
    const plan = await planBatch([join(dir, 'in')], join(dir, 'out'), model.manifest, { factor: 2, seed: 3, steps: 1 });
    const byName = new Map(plan.jobs.map((j) => [basename(j.input), j.settings]));
    assert.equal(byName.get('clean.png')!.input, 'clean');
    const planned = byName.get('noisy.png')!;
    assert.equal(planned.input, 'noisy');
    // what a one-file run resolves from the same decoded pixels
    const one = await upscaleFile(join(dir, 'in', 'noisy.png'), join(dir, 'one.png'), { model, factor: 2, seed: 3, steps: 1 });
    assert.deepEqual(planned, { ...one.settings, device: planned.device });
    await model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
