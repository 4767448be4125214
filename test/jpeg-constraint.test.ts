/**
 * The JPEG quantisation constraint (diffusion/jpeg-constraint.ts): the 8×8 DCT against hand-computed values, the
 * constraint a decoded JPEG puts on its original, the projection that keeps an output to it, and how a run turns it on
 * (the default model's JPEG settings, the table read from the file, false recorded where no table is known).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  JPEG_CONSTRAINT_SLACK,
  jpegLuma,
  jpegLumaConstraint,
  jpegLumaCorrection,
  projectJpegLuma,
} from '../src/diffusion/jpeg-constraint.js';
import { createRng } from '../src/diffusion/rng.js';
import { dct8x8, idct8x8 } from '../src/image/dct.js';
import { decodeImage, encodeImage } from '../src/image/io.js';
import { jpegLumaTable, lumaQuantTable } from '../src/image/jpeg-quality.js';
import { byteToUnit, createImage, type ImageTensor } from '../src/image/tensor.js';
import { resize } from '../src/image/upsample.js';
import { loadModel } from '../src/model/session.js';
import { resolveSettings, upscale } from '../src/upscale.js';

/** An RGB image whose pixels are grey levels `f(c, y, x)` (0..255). */
function rgbOf(h: number, w: number, f: (c: number, y: number, x: number) => number): ImageTensor {
  const img = createImage(3, h, w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[(c * h + y) * w + x] = byteToUnit(f(c, y, x));
  return img;
}

test('dct8x8: a constant block has only its DC, 8 times the value; one horizontal cosine has one coefficient, 4√2', () => {
  const flat = dct8x8(new Array(64).fill(10));
  assert.ok(Math.abs(flat[0]! - 80) < 1e-12);
  for (let k = 1; k < 64; k++) assert.ok(Math.abs(flat[k]!) < 1e-12, `coefficient ${k}`);
  // f(y, x) = cos((2x + 1)π/16): Σ_y √(1/8) = √8 across the rows, Σ_x ½·cos² = 2 along them → F(0, 1) = 2√8 = 4√2
  const wave = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i % 8) + 1) * Math.PI) / 16));
  const F = dct8x8(wave);
  assert.ok(Math.abs(F[1]! - 4 * Math.SQRT2) < 1e-12);
  for (let k = 0; k < 64; k++) if (k !== 1) assert.ok(Math.abs(F[k]!) < 1e-12, `coefficient ${k}`);
});

test('idct8x8 inverts dct8x8, and the transform keeps energy (orthonormal, as JPEG quantises it)', () => {
  const rng = createRng(3);
  const block = Array.from({ length: 64 }, () => 50 * rng.normal());
  const F = dct8x8(block);
  const back = idct8x8(F);
  for (let k = 0; k < 64; k++) assert.ok(Math.abs(back[k]! - block[k]!) < 1e-9);
  const energy = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v * v, 0);
  assert.ok(Math.abs(energy(F) - energy(block)) < 1e-6 * energy(block));
});

test('the constraint of a flat block: DC 80 at step 16 allows 72..88; a block at DC 96 is pulled to 88, one grey level down', () => {
  const table = { lumaTable: new Array(64).fill(16), orientation: 1 };
  // decoded luma 138 everywhere: DC = 8·(138 − 128) = 80 = 5·16, the interval [72, 88] (slack 1), [76, 84] at ½
  const c = jpegLumaConstraint(
    rgbOf(8, 8, () => 138),
    table,
    1,
  );
  assert.deepEqual([c.lo[0], c.hi[0]], [72, 88]);
  assert.deepEqual([c.lo[1], c.hi[1]], [-8, 8]);
  const half = jpegLumaConstraint(
    rgbOf(8, 8, () => 138),
    table,
    0.5,
  );
  assert.deepEqual([half.lo[0], half.hi[0]], [76, 84]);
  // an image at 140 (DC 96) moves by (88 − 96)/8 = −1 grey level on every pixel; one at 139 (DC 88) is inside
  const moved = jpegLumaCorrection(
    rgbOf(8, 8, () => 140),
    c,
  );
  for (const v of moved.data) assert.ok(Math.abs(v * 127.5 + 1) < 1e-5);
  for (const v of jpegLumaCorrection(
    rgbOf(8, 8, () => 139),
    c,
  ).data)
    assert.ok(Math.abs(v) < 1e-5);
  // a partial block (6×5) is padded by its edge, as libjpeg pads: a flat image stays flat
  const part = jpegLumaCorrection(
    rgbOf(6, 5, () => 140),
    jpegLumaConstraint(
      rgbOf(6, 5, () => 138),
      table,
      1,
    ),
  );
  for (const v of part.data) assert.ok(Math.abs(v * 127.5 + 1) < 1e-5);
  assert.throws(
    () =>
      jpegLumaConstraint(
        rgbOf(8, 8, () => 138),
        { ...table, lumaTable: table.lumaTable.slice(1) },
      ),
    /quantisation table of 64/,
  );
  assert.throws(
    () =>
      jpegLumaConstraint(
        rgbOf(8, 8, () => 138),
        { ...table, orientation: 9 },
      ),
    /orientation in 1\.\.8/,
  );
  assert.throws(
    () =>
      jpegLumaConstraint(
        rgbOf(8, 8, () => 138),
        table,
        1.5,
      ),
    /slack in 0\.\.1/,
  );
  assert.throws(
    () =>
      jpegLumaCorrection(
        rgbOf(16, 8, () => 138),
        c,
      ),
    /Expected an image of 8x8/,
  );
});

test('a JPEG decoded by sharp meets its own constraint, in each of the 8 EXIF orientations; a PNG has no grid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-constraint-'));
  try {
    // 20×28: partial blocks on two sides, so a block grid mapped the wrong way round does not line up
    const lr = rgbOf(20, 28, (c, y, x) => 110 + 30 * Math.sin(0.7 * x + 0.3 * y + c) + 20 * Math.cos(1.3 * y - 0.4 * x));
    const file = join(dir, 'lr.jpg');
    await encodeImage({ rgb: lr }, file, { quality: 75 });
    const decoded = await decodeImage(file);
    assert.deepEqual(decoded.jpegGrid, { lumaTable: lumaQuantTable(await readFile(file)), orientation: 1 });
    const c = jpegLumaConstraint(decoded.rgb, decoded.jpegGrid!, 1);
    // the decoded pixels sit at the centre of every interval, up to the decoder's rounding (far below a step of 8)
    for (const v of jpegLumaCorrection(decoded.rgb, c).data) assert.equal(v, 0);
    // a blurred copy is outside, and its correction is undone by nothing else: it is not zero
    const blurred = resize(resize(decoded.rgb, 10, 14, 'bicubic'), 20, 28, 'bicubic');
    const violation = (img: ImageTensor, k: typeof c) => jpegLumaCorrection(img, k).data.reduce((s, v) => s + v * v, 0);
    assert.ok(violation(blurred, c) > 0);
    // the same stored pixels tagged with each orientation: decoded upright, on the stored grid they still meet it
    // (sharp's withMetadata also attaches an sRGB profile: read as `sr upscale` reads, the profile kept, not converted)
    const rights: number[] = [];
    for (let o = 2; o <= 8; o++) {
      const tagged = join(dir, `o${o}.jpg`);
      await sharp(await readFile(file))
        .withMetadata({ orientation: o })
        .jpeg({ quality: 75 })
        .toFile(tagged);
      assert.equal((await decodeImage(tagged)).jpegGrid, null); // converted from its profile: not the file's samples
      const d = await decodeImage(tagged, { keepIccProfile: true });
      assert.equal(d.jpegGrid?.orientation, o);
      assert.deepEqual(d.rgb.shape, o >= 5 ? [3, 28, 20] : [3, 20, 28]);
      const k = jpegLumaConstraint(d.rgb, d.jpegGrid!, 1);
      assert.equal(violation(d.rgb, k), 0, `orientation ${o}`);
      // on the right grid the decoded coefficients are multiples of their steps, up to the decoder's rounding, so even
      // a tenth of each interval holds them; on the upright grid (the orientation ignored) they are not
      const right = violation(d.rgb, jpegLumaConstraint(d.rgb, d.jpegGrid!, 0.1));
      const wrong = violation(d.rgb, jpegLumaConstraint(d.rgb, { ...d.jpegGrid!, orientation: 1 }, 0.1));
      rights.push(right);
      assert.ok(wrong > 5 * right, `orientation ${o}: ${wrong} against ${right}`);
    }
    // the same stored samples, however they are turned for display: the same residue on the right grid
    for (const r of rights) assert.ok(Math.abs(r - rights[0]!) < 1e-12);
    const png = join(dir, 'lr.png');
    await encodeImage({ rgb: lr }, png);
    assert.equal((await decodeImage(png)).jpegGrid, null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The segments of a JPEG up to its first scan: [marker, start, end) with start at the 0xFF. */
function segments(b: Uint8Array): { marker: number; start: number; end: number }[] {
  const out: { marker: number; start: number; end: number }[] = [];
  for (let i = 2; i + 4 <= b.length && b[i + 1] !== 0xda; ) {
    const end = i + 2 + ((b[i + 2]! << 8) | b[i + 3]!);
    out.push({ marker: b[i + 1]!, start: i, end });
    i = end;
  }
  return out;
}

test("jpegLumaTable: the luma component's table when the samples are YCbCr or grey, else null (libjpeg's colour rule)", async () => {
  const bytes = new Uint8Array(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#8040c0' } })
      .jpeg({ quality: 60 })
      .toBuffer(),
  );
  const segs = segments(bytes);
  const luma = lumaQuantTable(bytes)!;
  assert.ok(luma);
  assert.deepEqual(jpegLumaTable(bytes), luma);
  const sof = segs.find((x) => x.marker === 0xc0 || x.marker === 0xc2)!;
  // sharp writes no JFIF marker. An Adobe APP14 segment saying transform 0 (RGB samples): not luma; 1 (YCbCr): luma
  const insert = (b: Uint8Array, seg: number[]) => new Uint8Array([...b.subarray(0, 2), ...seg, ...b.subarray(2)]);
  const adobe = (t: number) => [0xff, 0xee, 0, 14, ...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, t];
  const jfif = [0xff, 0xe0, 0, 16, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const plain = bytes;
  const withAdobe = (t: number) => insert(plain, adobe(t));
  assert.equal(jpegLumaTable(withAdobe(0)), null);
  assert.deepEqual(jpegLumaTable(withAdobe(1)), luma);
  // components named R, G, B and no JFIF or Adobe marker: RGB; the same names beside a JFIF marker: YCbCr
  const named = (b: Uint8Array) => {
    const c = new Uint8Array(b);
    const f = segments(c).find((x) => x.marker === sof.marker)!;
    for (const [k, id] of [82, 71, 66].entries()) c[f.start + 4 + 6 + 3 * k] = id;
    return c;
  };
  assert.equal(jpegLumaTable(named(plain)), null);
  assert.deepEqual(jpegLumaTable(insert(named(plain), jfif)), luma);
  // the first component quantised with table 1: that table is the luma's
  const swapped = new Uint8Array(bytes);
  swapped[sof.start + 4 + 6 + 2] = 1;
  const table1 = (() => {
    const dqt = segs.filter((x) => x.marker === 0xdb);
    for (const d of dqt)
      for (let q = d.start + 4; q < d.end; q += 65) if ((bytes[q]! & 0x0f) === 1) return Array.from(bytes.subarray(q + 1, q + 65));
    return null;
  })();
  assert.ok(table1, 'a chroma table');
  const got = jpegLumaTable(swapped)!;
  assert.notDeepEqual(got, luma);
  assert.deepEqual(
    [...got].sort((x, y) => x - y),
    [...table1!].sort((x, y) => x - y),
  ); // the same steps, in natural order
  // four components (CMYK) and bytes that are not a JPEG
  const cmyk = new Uint8Array(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#8040c0' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer(),
  );
  assert.equal(jpegLumaTable(cmyk), null);
  assert.equal(jpegLumaTable(new Uint8Array([0x89, 0x50, 0x4e, 0x47])), null);
  assert.equal(jpegLumaTable(bytes.subarray(0, sof.start)), null); // no frame header before the data ends
});

test('projectJpegLuma moves an enlargement towards the constraint, changes luma only, and clips', () => {
  const table = { lumaTable: new Array(64).fill(16), orientation: 1 };
  const c = jpegLumaConstraint(
    rgbOf(8, 8, () => 138),
    table,
    1,
  );
  // a ×2 output at 150 (DC of its shrink 176): pulled towards 139 (the interval's top, 88/8 + 128)
  const x = rgbOf(16, 16, (ch) => 150 + 10 * ch);
  const before = jpegLuma(resize(x, 8, 8, 'bicubic', { antialias: true }))[0]!;
  const out = projectJpegLuma(x, c, 2, 3);
  const after = jpegLuma(resize(out, 8, 8, 'bicubic', { antialias: true }))[0]!;
  assert.ok(before > 150 && after < before - 9 && after >= 139 - 1e-6, `luma ${before} → ${after}`);
  // the same change in R, G and B: the colour differences are kept
  for (let i = 0; i < 256; i++) assert.ok(Math.abs(out.data[256 + i]! - out.data[i]! - (x.data[256 + i]! - x.data[i]!)) < 1e-6);
  assert.notEqual(out, x); // a new image unless `out` is given
  // values pushed past the range are clipped
  const bright = projectJpegLuma(
    rgbOf(16, 16, () => 255),
    jpegLumaConstraint(
      rgbOf(8, 8, () => 250),
      table,
      1,
    ),
    2,
    1,
  );
  for (const v of bright.data) assert.ok(v <= 1 && v >= -1);
  assert.throws(
    () =>
      projectJpegLuma(
        rgbOf(16, 16, () => 0),
        c,
        4,
      ),
    /3x32x32 image for the JPEG constraint at factor 4/,
  );
});

test('a run keeps a JPEG input to its constraint by default (the default model), and records false without a table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-constraint-run-'));
  const model = await loadModel('default', { precision: 'float' });
  try {
    assert.equal(JPEG_CONSTRAINT_SLACK, 0.5);
    assert.equal(resolveSettings({ seed: 1, sourceJpegQuality: 75 }, model.manifest).jpegConstraint, true);
    assert.equal(resolveSettings({ seed: 1, sourceJpegQuality: 75, jpegConstraint: false }, model.manifest).jpegConstraint, false);
    assert.equal(resolveSettings({ seed: 1 }, model.manifest).jpegConstraint, false); // a clean input
    assert.equal(resolveSettings({ seed: 1, jpegConstraint: true }, model.manifest).jpegConstraint, false); // nothing to keep to
    assert.throws(
      () => resolveSettings({ seed: 1, jpegConstraint: 1 as unknown as boolean }, model.manifest),
      /true or false for jpegConstraint/,
    );
    const lr = rgbOf(16, 16, (c, y, x) => 120 + 60 * Math.sin(2.2 * x + 0.5 * y + c) + 30 * Math.cos(1.9 * y));
    const file = join(dir, 'lr.jpg');
    await encodeImage({ rgb: lr }, file, { quality: 60 });
    const on = await upscale(file, { model, factor: 2, seed: 1 });
    assert.equal(on.settings.jpegConstraint, true);
    const off = await upscale(file, { model, factor: 2, seed: 1, jpegConstraint: false });
    assert.equal(off.settings.jpegConstraint, false);
    // the output's shrink keeps to the file's coefficients (the middle half of each interval) more closely than without
    const decoded = await decodeImage(file);
    const c = jpegLumaConstraint(decoded.rgb, decoded.jpegGrid!, JPEG_CONSTRAINT_SLACK);
    const violation = (img: ImageTensor) =>
      jpegLumaCorrection(resize(img, 16, 16, 'bicubic', { antialias: true }), c).data.reduce((s, v) => s + v * v, 0);
    assert.ok(violation(on.image) < 0.5 * violation(off.image), `${violation(on.image)} vs ${violation(off.image)}`);
    // a tensor said to be a JPEG, without its table (none found in its pixels either): asked for, not run, and the
    // result says so
    const tensor = await upscale(decoded.rgb, { model, factor: 2, seed: 1, input: 'jpeg', sourceJpegHistory: null });
    assert.equal(tensor.settings.jpegConstraint, false);
    // (a JPEG of unknown quality takes the settings below every bound, as quality 60 does: the same run as `off`)
    assert.deepEqual(tensor.image.data, off.image.data);
    // left to look, the run finds the table in the pixels (image/jpeg-history.ts): the same run as the file's
    const found = await upscale(decoded.rgb, { model, factor: 2, seed: 1, input: 'jpeg' });
    assert.equal(found.settings.jpegDetected, 60);
    assert.deepEqual(found.image.data, on.image.data);
  } finally {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a sample's refinement is reported one iteration at a time, and a stop during it ends the run", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-jpeg-constraint-refine-'));
  const model = await loadModel('default', { precision: 'float' });
  try {
    const file = join(dir, 'lr.jpg');
    await encodeImage({ rgb: rgbOf(16, 16, (c, y, x) => 120 + 50 * Math.sin(1.1 * x + 0.7 * y + c)) }, file, { quality: 60 });
    // the JPEG settings: no back-projection, the constraint's 3 iterations
    const seen: string[] = [];
    await upscale(file, { model, factor: 2, seed: 1 }, { onProgress: (e) => seen.push(`${e.stage}:${e.step}/${e.totalSteps}`) });
    assert.deepEqual(
      seen.filter((s) => s.startsWith('refine')),
      ['refine:1/3', 'refine:2/3', 'refine:3/3'],
    );
    const lastStep = seen.map((s) => s.startsWith('boomerang')).lastIndexOf(true);
    assert.ok(lastStep >= 0 && seen.indexOf('refine:1/3') > lastStep);
    // a clean input: the default model's 3 back-projections of its output, after each of 2 samples
    const clean = join(dir, 'lr.png');
    await encodeImage({ rgb: rgbOf(16, 16, (c, y, x) => 120 + 50 * Math.sin(1.1 * x + 0.7 * y + c)) }, clean);
    const events: [number, string][] = [];
    await upscale(
      clean,
      { model, factor: 2, seed: 1, samples: 2 },
      { onProgress: (e) => e.stage === 'refine' && events.push([e.sample, `${e.step}/${e.totalSteps}`]) },
    );
    assert.deepEqual(events, [
      [1, '1/3'],
      [1, '2/3'],
      [1, '3/3'],
      [2, '1/3'],
      [2, '2/3'],
      [2, '3/3'],
    ]);
    // stopped at the first refinement iteration: the run throws instead of finishing the other two
    const stop = new AbortController();
    let after = 0;
    await assert.rejects(
      upscale(
        file,
        { model, factor: 2, seed: 1 },
        {
          signal: stop.signal,
          onProgress: (e) => {
            if (e.stage === 'refine') {
              after++;
              stop.abort();
            }
          },
        },
      ),
      (err: Error) => err.name === 'AbortError' || /abort/i.test(err.message),
    );
    assert.equal(after, 1);
  } finally {
    await model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
