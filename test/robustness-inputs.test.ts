/**
 * Input handling, through the library's upscaleFile with the fixture model (loaded once):
 * grayscale, 16-bit, RGBA, EXIF orientation, CMYK, animated GIF/WebP (first frame + warning), tiny images.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadModel, type ModelSession } from '../src/model/session.js';
import { upscaleFile, type UpscaleFileOptions } from '../src/upscale.js';
import { FAST, isOneLine, sr, tempDir } from './cli-helpers.js';

let model: ModelSession;
const dir = tempDir('inputs');
before(async () => {
  model = await loadModel('fixture');
});
after(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});
const fast = (): UpscaleFileOptions => ({ model, steps: 2, t: 20, seed: 1 });
const px = (raw: Buffer, w: number, ch: number, x: number, y: number): number[] =>
  Array.from(raw.subarray((y * w + x) * ch, (y * w + x) * ch + ch));

/** Mean of each factor×factor block of one channel of interleaved raw data. */
function blockMeans(raw: Buffer | Uint16Array, w: number, h: number, ch: number, c: number, f: number): number[] {
  const out: number[] = [];
  for (let by = 0; by < h / f; by++) {
    for (let bx = 0; bx < w / f; bx++) {
      let s = 0;
      for (let y = 0; y < f; y++) for (let x = 0; x < f; x++) s += raw[((by * f + y) * w + bx * f + x) * ch + c]!;
      out.push(s / (f * f));
    }
  }
  return out;
}

test('grayscale PNG: expanded to RGB, every channel keeps the grey levels (ddnm block means)', async () => {
  const grey = Buffer.from(Array.from({ length: 8 * 8 }, (_, i) => 60 + ((i * 29) % 136))); // mid-range: no clamping at 0/255
  const input = join(dir, 'grey.png');
  await sharp(grey, { raw: { width: 8, height: 8, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(input);
  assert.equal((await sharp(input).metadata()).channels, 1);
  const output = join(dir, 'grey-x4.png');
  await upscaleFile(input, output, fast());
  const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [32, 32, 3]);
  for (let c = 0; c < 3; c++) {
    const means = blockMeans(data, 32, 32, 3, c, 4);
    for (const [i, m] of means.entries()) assert.ok(Math.abs(m - grey[i]!) <= 1.5, `channel ${c} block ${i}: ${m} vs ${grey[i]}`);
  }
});

test('16-bit PNG in, 16-bit PNG out, with more than 8 bits of precision; 8-bit JPEG from the same input', async () => {
  const w = 8,
    h = 8;
  const samples = new Uint16Array(w * h * 3);
  for (let i = 0; i < samples.length; i++) samples[i] = 15000 + ((i * 997) % 35000); // mid-range, not multiples of 257
  const input = join(dir, 'deep.png');
  await sharp(samples, { raw: { width: w, height: h, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toFile(input);
  assert.equal((await sharp(input).metadata()).depth, 'ushort');
  const output = join(dir, 'deep-x4.png');
  await upscaleFile(input, output, fast());
  const meta = await sharp(output).metadata();
  assert.equal(meta.depth, 'ushort');
  assert.deepEqual([meta.width, meta.height], [32, 32]);
  const raw = await sharp(output).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
  const out16 = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  const notByteAligned = Array.from(out16).filter((v) => v % 257 !== 0).length;
  assert.ok(notByteAligned > out16.length / 2, 'values are real 16-bit, not 8-bit scaled up');
  // ddnm keeps the 4x4 block means at the input's 16-bit values
  const means = blockMeans(out16, 32, 32, 3, 0, 4);
  for (const [i, m] of means.entries()) assert.ok(Math.abs(m - samples[i * 3]!) <= 64, `block ${i}: ${m} vs ${samples[i * 3]}`);
  const jpg = join(dir, 'deep-x4.jpg');
  await upscaleFile(input, jpg, fast());
  assert.equal((await sharp(jpg).metadata()).depth, 'uchar');
});

test('RGBA PNG: alpha is upscaled and re-attached (opaque stays opaque, transparent stays transparent)', async () => {
  const w = 16,
    h = 8;
  const rgba = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      rgba[i] = 200;
      rgba[i + 1] = (x * 16) & 255;
      rgba[i + 2] = 40;
      rgba[i + 3] = x < w / 2 ? 255 : 0;
    }
  }
  const input = join(dir, 'alpha.png');
  await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toFile(input);
  const output = join(dir, 'alpha-x4.png');
  await upscaleFile(input, output, fast());
  const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [64, 32, 4]);
  assert.equal(px(data, 64, 4, 5, 10)[3], 255);
  assert.equal(px(data, 64, 4, 58, 20)[3], 0);
  const edge = px(data, 64, 4, 31, 16)[3]!; // the bicubic ramp across the boundary
  assert.ok(edge > 128 && edge <= 255, `alpha at the edge ${edge}`);
});

test('EXIF orientation 6: a landscape JPEG stored sideways comes out rotated to portrait', async () => {
  // stored 40x20: top-left 20x10 block red, the rest blue; orientation 6 = display rotated 90° clockwise
  const w = 40,
    h = 20;
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const red = x < 20 && y < 10;
      rgb.set(red ? [220, 20, 20] : [20, 20, 220], (y * w + x) * 3);
    }
  }
  const input = join(dir, 'rotated.jpg');
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toFile(input);
  assert.equal((await sharp(input).metadata()).orientation, 6);
  const output = join(dir, 'rotated-x4.png');
  await upscaleFile(input, output, fast());
  const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [80, 160], 'portrait: 20x40 displayed, x4');
  // the EXIF is kept (issue 22) with Orientation 1, so nothing rotates it twice
  assert.ok([undefined, 1].includes((await sharp(output).metadata()).orientation), 'no orientation tag left to rotate it twice');
  // stored top-left lands at the display's top-right
  const topRight = px(data, 80, 3, 60, 20);
  const topLeft = px(data, 80, 3, 20, 20);
  assert.ok(topRight[0]! > 150 && topRight[2]! < 100, `top-right ${topRight} is red`);
  assert.ok(topLeft[2]! > 150 && topLeft[0]! < 100, `top-left ${topLeft} is blue`);
});

test('CMYK JPEG: converted to sRGB (its 4th channel is not mistaken for alpha)', async () => {
  const input = join(dir, 'cmyk.jpg');
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .toColourspace('cmyk')
    .jpeg()
    .toFile(input);
  const meta = await sharp(input).metadata();
  assert.deepEqual([meta.space, meta.channels], ['cmyk', 4]);
  const output = join(dir, 'cmyk-x4.png');
  await upscaleFile(input, output, fast());
  const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [64, 64, 3]);
  const [r, g, b] = blockMeans(data, 64, 64, 3, 0, 64).concat(blockMeans(data, 64, 64, 3, 1, 64), blockMeans(data, 64, 64, 3, 2, 64));
  assert.ok(r! > 150 && g! < 80 && b! < 80, `mean colour ${r},${g},${b} is red`);
});

/** Two 8x8 frames: red then green. */
const twoFrames = (): Buffer => {
  const f = Buffer.alloc(8 * 16 * 4);
  for (let i = 0; i < 8 * 16; i++) f.set(i < 64 ? [230, 10, 10, 255] : [10, 230, 10, 255], i * 4);
  return f;
};

for (const kind of ['gif', 'webp'] as const) {
  test(`animated ${kind.toUpperCase()}: the first frame is used, with a warning`, async () => {
    const input = join(dir, `anim.${kind}`);
    const s = sharp(twoFrames(), { raw: { width: 8, height: 16, channels: 4, pageHeight: 8 } });
    await (kind === 'gif' ? s.gif() : s.webp({ lossless: true })).toFile(input);
    assert.equal((await sharp(input).metadata()).pages, 2);
    const output = join(dir, `anim-${kind}-x4.png`);
    const warnings: string[] = [];
    await upscaleFile(input, output, fast(), { onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /anim\.(gif|webp) has 2 frames .*first frame only/);
    const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [32, 32], 'one frame, not the strip');
    const red = blockMeans(data, 32, 32, info.channels, 0, 32)[0]!;
    const green = blockMeans(data, 32, 32, info.channels, 1, 32)[0]!;
    assert.ok(red > 150 && green < 80, `first (red) frame, got mean r=${red} g=${green}`);
  });
}

test('the CLI prints the animation warning as one stderr line and still succeeds', async () => {
  const input = join(dir, 'anim-cli.gif');
  await sharp(twoFrames(), { raw: { width: 8, height: 16, channels: 4, pageHeight: 8 } })
    .gif()
    .toFile(input);
  const r = await sr(['upscale', input, '-o', join(dir, 'anim-cli.png'), '-q', ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(isOneLine(r.stderr));
  assert.match(r.stderr, /^sr: warning: .*anim-cli\.gif has 2 frames .*first frame only/);
});

for (const [w, h, factor] of [
  [1, 1, 4],
  [1, 1, 1],
  [3, 5, 4],
  [5, 3, 1],
  [1, 7, 2],
  [9, 1, 4],
] as const) {
  test(`tiny input ${w}x${h} at x${factor} works (reflection padding of ${w === 1 || h === 1 ? 'a 1-pixel axis' : 'a small image'})`, async () => {
    const input = join(dir, `tiny-${w}x${h}.png`);
    const rgb = Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => 60 + ((i * 53) % 136)));
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(input);
    const output = join(dir, `tiny-${w}x${h}-x${factor}.png`);
    await upscaleFile(input, output, { ...fast(), factor });
    const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [w * factor, h * factor]);
    // ddnm: each factor×factor block averages back to its input pixel
    for (let c = 0; c < 3; c++) {
      for (const [i, m] of blockMeans(data, w * factor, h * factor, 3, c, factor).entries()) {
        assert.ok(Math.abs(m - rgb[i * 3 + c]!) <= 1.5, `pixel ${i} channel ${c}: ${m} vs ${rgb[i * 3 + c]}`);
      }
    }
  });
}
