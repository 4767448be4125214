/**
 * JPEG history in a non-JPEG input (image/jpeg-history.ts): a JPEG decoded and saved again as pixels is found with
 * its table, clean images of every kind are not; and how `input` auto turns a found one into a JPEG input (the
 * model's JPEG settings and the quantisation constraint), where `input` clean leaves it alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { planBatch, upscaleBatch } from '../src/batch/batch.js';
import { createRng } from '../src/diffusion/rng.js';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { detectJpegHistory, fitJpegHistory, stepEvidence } from '../src/image/jpeg-history.js';
import { ijgLumaTable, lumaQuantTable, qualityOfTable } from '../src/image/jpeg-quality.js';
import { byteToUnit, createImage, type ImageTensor } from '../src/image/tensor.js';
import { loadModel } from '../src/model/session.js';
import {
  resolveSettings,
  upscale,
  upscaleFile,
  wantsJpegHistory,
  wantsNoiseEstimate,
  withPixelEstimates,
  type UpscaleOptions,
} from '../src/upscale.js';
import { fakeManifest } from './fake-model.js';

/** An RGB image whose pixels are grey levels `f(c, y, x)` (0..255, rounded and clamped). */
function rgbOf(h: number, w: number, f: (c: number, y: number, x: number) => number): ImageTensor {
  const img = createImage(3, h, w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) img.data[(c * h + y) * w + x] = byteToUnit(Math.max(0, Math.min(255, Math.round(f(c, y, x)))));
  return img;
}

/** A photo-like image: smooth colour shapes, an edge, and some texture (seeded). */
function photo(h: number, w: number, seed: number, texture = 12): ImageTensor {
  const rng = createRng(seed);
  const z = new Float32Array(3 * h * w);
  rng.fillNormal(z);
  return rgbOf(h, w, (c, y, x) => {
    const base = 110 + 60 * Math.sin((x + 3 * c) / 7) * Math.cos(y / 9) + (x + y > (h + w) / 2 ? 30 : -20);
    return base + texture * z[(c * h + y) * w + x]!;
  });
}

/** The image saved as JPEG by sharp at `quality`, and decoded: the pixels, and the file's own table. */
async function viaJpeg(img: ImageTensor, quality: number, dir: string): Promise<{ rgb: ImageTensor; table: number[] }> {
  const file = join(dir, `q${quality}-${img.shape.join('x')}.jpg`);
  await encodeImage({ rgb: img }, file, { quality });
  const d = await decodeImage(file);
  return { rgb: d.rgb, table: lumaQuantTable(await readFile(file))! };
}

test('ijgLumaTable: the table sharp writes at quality 10, 50, 75 and 90 (read back from the file); 100 is all ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-history-'));
  try {
    for (const q of [10, 50, 75, 90]) {
      const { table } = await viaJpeg(photo(16, 16, 1), q, dir);
      assert.deepEqual(ijgLumaTable(q), table, `quality ${q}`);
      if (q >= 50) assert.equal(qualityOfTable(ijgLumaTable(q)), q); // below, steps clamped at 255 read finer
    }
    assert.ok(ijgLumaTable(100).every((v) => v === 1));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('stepEvidence: multiples of the step are evidence, a divisor less, a multiple or uniform values none', () => {
  const rng = createRng(3);
  const z = new Float32Array(400);
  rng.fillNormal(z);
  const onLattice = Array.from(z, (v, i) => 12 * ((i % 9) - 4 || 1) + 0.3 * v);
  assert.ok(stepEvidence(onLattice, 12) > 300);
  assert.ok(stepEvidence(onLattice, 6) < stepEvidence(onLattice, 12));
  assert.ok(stepEvidence(onLattice, 24) < 0);
  const uniform = Array.from({ length: 400 }, (_, i) => ((i * 7.31) % 100) - 50);
  assert.ok(stepEvidence(uniform, 12) < 0);
  assert.equal(stepEvidence(onLattice, 2), 0, 'a step the rounding hides counts nothing');
});

test('detectJpegHistory: a JPEG of 32×32 and 64×64 saved by sharp at quality 50 and 75 is found, with its table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-history-'));
  try {
    for (const size of [32, 64])
      for (const quality of [50, 75]) {
        const { rgb, table } = await viaJpeg(photo(size, size, size + quality), quality, dir);
        const h = detectJpegHistory(rgb);
        assert.ok(h, `${size}px quality ${quality} not found`);
        assert.ok(Math.abs(h.quality - quality) <= 2, `${size}px quality ${quality}: estimated ${h.quality}`);
        const off = h.lumaTable.filter((q, k) => Math.abs(q - table[k]!) > Math.max(1, 0.1 * table[k]!)).length;
        assert.ok(off <= 4, `${size}px quality ${quality}: ${off} steps off`);
      }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('detectJpegHistory: clean images are not found (smooth, textured, noise, flat, posterised, gradient, tiny)', () => {
  const rng = createRng(11);
  const noise = new Float32Array(3 * 64 * 64);
  rng.fillNormal(noise);
  const cases: [string, ImageTensor][] = [
    ['smooth', photo(64, 64, 1, 0)],
    ['textured', photo(64, 64, 2, 12)],
    ['textured 32', photo(32, 32, 3, 6)],
    ['noise', rgbOf(64, 64, (c, y, x) => 128 + 40 * noise[(c * 64 + y) * 64 + x]!)],
    ['flat', rgbOf(64, 64, () => 144)],
    ['flat black', rgbOf(64, 64, () => 0)],
    ['posterised', rgbOf(64, 64, (c, y, x) => 16 * Math.floor((110 + 60 * Math.sin((x + 3 * c) / 7) * Math.cos(y / 9)) / 16))],
    ['posterised blocks', rgbOf(64, 64, (c, y, x) => 16 * ((Math.floor(y / 5) * 3 + Math.floor(x / 6) * 5 + c) % 16))],
    ['grey gradient', rgbOf(64, 64, (_c, _y, x) => (x * 255) / 63)],
    ['diagonal gradient', rgbOf(64, 64, (_c, y, x) => 40 + x * 1.3 + y * 0.7)],
    ['8 px checkerboard', rgbOf(64, 64, (_c, y, x) => ((Math.floor(y / 8) + Math.floor(x / 8)) % 2 ? 192 : 64))],
    ['tiny', photo(8, 8, 4)],
  ];
  for (const [name, img] of cases) assert.equal(detectJpegHistory(img), null, name);
  assert.equal(fitJpegHistory(createImage(1, 32, 32)), null, 'not RGB');
});

test('detectJpegHistory: a JPEG shifted off the (0,0) grid is not found', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-history-'));
  try {
    const { rgb } = await viaJpeg(photo(72, 72, 9), 50, dir);
    assert.ok(detectJpegHistory(rgb));
    const shifted = rgbOf(64, 64, (c, y, x) => Math.round(127.5 * (rgb.data[(c * 72 + y + 3) * 72 + x + 5]! + 1)));
    assert.equal(detectJpegHistory(shifted), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('wantsJpegHistory: input auto and jpeg look for a JPEG in a non-JPEG input, clean and noisy never, nor a JPEG file', () => {
  assert.equal(wantsJpegHistory({}), true);
  assert.equal(wantsJpegHistory({ input: 'jpeg', sourceJpegQuality: null }), true);
  assert.equal(wantsJpegHistory({ input: 'clean' }), false);
  assert.equal(wantsJpegHistory({ input: 'noisy' }), false);
  assert.equal(wantsJpegHistory({ sourceJpegQuality: 80 }), false);
  assert.equal(wantsJpegHistory({ sourceJpegHistory: null }), false, 'already looked for');
  const found = { quality: 75, lumaTable: ijgLumaTable(75), evidence: 500, frequencies: 20 };
  // a JPEG found is not looked at for noise; none found is
  assert.equal(wantsNoiseEstimate({ sourceJpegHistory: found }), false);
  assert.equal(wantsNoiseEstimate({ sourceJpegHistory: null }), true);
  assert.equal(wantsNoiseEstimate({ input: 'clean', sourceJpegHistory: found }), false);
  const clean = photo(32, 32, 5);
  const o = withPixelEstimates<UpscaleOptions>({ input: 'clean' }, clean);
  assert.equal(o.sourceJpegHistory, undefined, 'input clean runs no detector');
  assert.equal(withPixelEstimates<UpscaleOptions>({}, clean).sourceJpegHistory, null);
});

test('resolveSettings: a JPEG found under input auto is a JPEG input of its quality (its settings, the constraint), under clean it is not', () => {
  const m = fakeManifest({ inputs: { jpeg: { steps: 1, jpegConstraint: true }, 'jpeg<80': { consistency: 'none' } } });
  const found = { quality: 75, lumaTable: ijgLumaTable(75), evidence: 500, frequencies: 20 };
  const auto = resolveSettings({ seed: 1, sourceJpegHistory: found, sourceJpegQuality: null }, m);
  assert.equal(auto.input, 'jpeg');
  assert.equal(auto.jpegDetected, 75);
  assert.equal(auto.jpegConstraint, true);
  assert.equal(auto.steps, 1);
  assert.equal(auto.consistency, 'none', "the band below 80 applies: the found quality is the file's");
  assert.equal(auto.noiseEstimate, null);
  const clean = resolveSettings({ seed: 1, input: 'clean', sourceJpegHistory: found }, m);
  assert.equal(clean.input, 'clean');
  assert.equal(clean.jpegDetected, null);
  assert.equal(clean.jpegConstraint, false);
  // explicit jpeg: the quality found, not "unknown"
  const jpeg = resolveSettings({ seed: 1, input: 'jpeg', sourceJpegHistory: { ...found, quality: 90, lumaTable: ijgLumaTable(90) } }, m);
  assert.equal(jpeg.jpegDetected, 90);
  assert.notEqual(jpeg.consistency, 'none', 'quality 90 is above the band');
  // a JPEG file's own quality wins; nothing is recorded as found
  const file = resolveSettings({ seed: 1, sourceJpegQuality: 60, sourceJpegHistory: found }, m);
  assert.equal(file.jpegDetected, null);
  assert.equal(file.input, 'jpeg');
  // a found quality of 95 or above is clean under auto
  const fine = resolveSettings({ seed: 1, sourceJpegHistory: { ...found, quality: 96, lumaTable: ijgLumaTable(96) } }, m);
  assert.equal(fine.input, 'clean');
  assert.equal(fine.jpegDetected, null);
});

test('a PNG of a JPEG runs as the JPEG file does under input auto (the default model); under input clean it does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-history-'));
  const model = await loadModel('default', { precision: 'float' });
  try {
    const jpg = join(dir, 'lr.jpg');
    await encodeImage({ rgb: photo(32, 32, 21) }, jpg, { quality: 75 });
    const png = join(dir, 'lr.png');
    await encodeImage({ rgb: (await decodeImage(jpg)).rgb }, png);
    const fromFile = await upscale(jpg, { model, factor: 2, seed: 1 });
    const auto = await upscale(png, { model, factor: 2, seed: 1 });
    assert.equal(auto.settings.input, 'jpeg');
    assert.equal(auto.settings.jpegDetected, 75);
    assert.equal(auto.settings.jpegConstraint, true, 'the constraint ran on the table found');
    assert.deepEqual(auto.image.data, fromFile.image.data, "the table found is the file's: the same run");
    const clean = await upscale(png, { model, factor: 2, seed: 1, input: 'clean' });
    assert.equal(clean.settings.input, 'clean');
    assert.equal(clean.settings.jpegDetected, null);
    assert.equal(clean.settings.jpegConstraint, false);
    assert.notDeepEqual(clean.image.data, auto.image.data);
    // a file run, a batch's plan and its run resolve and run the same
    const one = await upscaleFile(png, join(dir, 'one.png'), { model, factor: 2, seed: 1 });
    assert.equal(one.settings.jpegDetected, 75);
    assert.deepEqual(one.image.data, auto.image.data);
    await mkdir(join(dir, 'in'));
    await encodeImage({ rgb: (await decodeImage(jpg)).rgb }, join(dir, 'in', 'lr.png'));
    const plan = await planBatch([join(dir, 'in')], join(dir, 'out'), model.manifest, { factor: 2, seed: 1 });
    const planned = plan.jobs.find((j) => basename(j.input) === 'lr.png')!.settings;
    // (the plan resolves precision auto; the run records the model's)
    assert.deepEqual(planned, { ...one.settings, device: planned.device, precision: planned.precision });
    const batch = await upscaleBatch([join(dir, 'in')], join(dir, 'out'), model, { factor: 2, seed: 1 });
    assert.equal(batch.report.files[0]!.settings!.jpegConstraint, true);
    const out = (await decodeImage(join(dir, 'out', 'lr.png'))).rgb;
    const expected = (await decodeImage(join(dir, 'one.png'))).rgb;
    assert.deepEqual(out.data, expected.data);
  } finally {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
