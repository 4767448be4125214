/**
 * Inputs known to be degraded: the JPEG quality estimate (from the luminance quantisation table, hand-computed cases)
 * and how `input` auto|clean|jpeg picks the model's settings for a JPEG input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { estimateJpegQuality, lumaQuantTable, qualityOfTable } from '../src/image/jpeg-quality.js';
import { decodeImage } from '../src/image/io.js';
import { inputKindOf, resolveSettings } from '../src/upscale.js';
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
  assert.throws(() => fakeManifest({ inputs: { noisy: {} } }), /expected inputs to name only jpeg but received "noisy"/);
  assert.throws(() => fakeManifest({ inputs: { jpeg: { consistency: 'blur' } } }), /inputs\.jpeg\.consistency/);
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
  assert.equal(resolveSettings({ input: 'clean' }, soft.manifest).recorrupt, false);
  assert.equal(resolveSettings({ input: 'jpeg', recorrupt: false }, soft.manifest).recorrupt, false);
  await soft.dispose();
});
