import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { UsageError } from '../src/errors.js';
import { byteToUnit, createImage, type ImageTensor } from '../src/image/tensor.js';
import {
  blockiness,
  createPlane,
  detailRatio,
  filterValid,
  fromImageTensor,
  gaussianKernel,
  gmsd,
  lumaBt601,
  measure,
  psnr,
  psnrRgb,
  shavePlane,
  ssim,
  type Plane,
} from '../src/metrics/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/metric-check/', import.meta.url));

interface ExpectedPair {
  hr: string;
  test: string;
  shave: number;
  psnr_y: number;
  ssim_y: number;
  psnr_rgb: number;
}

async function decode(name: string): Promise<ImageTensor> {
  const { data, info } = await sharp(FIXTURES + name)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const img = createImage(channels, height, width);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < channels; c++) img.data[c * width * height + i] = byteToUnit(data[i * channels + c]!);
  }
  return img;
}

/** A deterministic textured plane (no RNG): sums of sines plus a hashed-noise term, 0..255. */
function texture(width: number, height: number): Plane {
  const d = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const noise = (((Math.sin(x * 12.9898 + y * 78.233) * 43758.5453) % 1) + 1) % 1;
      d[y * width + x] = 128 + 50 * Math.sin(x / 3) * Math.cos(y / 5) + 40 * (noise - 0.5);
    }
  }
  return createPlane(width, height, d);
}

function blur(p: Plane): Plane {
  // 3×3 box blur with clamped borders: same size, smoother.
  const out = new Float64Array(p.data.length);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = Math.min(p.height - 1, Math.max(0, y + dy));
          const xx = Math.min(p.width - 1, Math.max(0, x + dx));
          s += p.data[yy * p.width + xx]!;
        }
      }
      out[y * p.width + x] = s / 9;
    }
  }
  return createPlane(p.width, p.height, out);
}

test('reference pairs: PSNR-Y, SSIM-Y and PSNR-RGB match expected.json', async () => {
  const expected = JSON.parse(await readFile(FIXTURES + 'expected.json', 'utf8')) as { pairs: ExpectedPair[] };
  assert.equal(expected.pairs.length, 3);
  for (const pair of expected.pairs) {
    const hr = await decode(pair.hr);
    const sr = await decode(pair.test);
    const m = measure(sr, hr, { shave: pair.shave });
    assert.ok(Math.abs(m.psnrY - pair.psnr_y) < 1e-3, `${pair.test} psnr_y ${m.psnrY} vs ${pair.psnr_y}`);
    assert.ok(Math.abs(m.ssimY - pair.ssim_y) < 1e-4, `${pair.test} ssim_y ${m.ssimY} vs ${pair.ssim_y}`);
    assert.ok(Math.abs(m.psnrRgb - pair.psnr_rgb) < 1e-3, `${pair.test} psnr_rgb ${m.psnrRgb} vs ${pair.psnr_rgb}`);
    assert.ok(m.detailRatio > 0 && Number.isFinite(m.detailRatio));
    assert.ok(m.gmsd > 0 && m.gmsd < 1);
  }
});

test('identical images: PSNR Infinity, SSIM 1, detail ratio 1, GMSD 0', async () => {
  const hr = await decode('pair1_hr.png');
  const m = measure(hr, hr, { shave: 4 });
  assert.equal(m.psnrY, Infinity);
  assert.equal(m.psnrRgb, Infinity);
  assert.ok(Math.abs(m.ssimY - 1) < 1e-12);
  assert.equal(m.detailRatio, 1);
  assert.equal(m.gmsd, 0);
});

test('fromImageTensor maps [-1, 1] to 0..255, rounding only when asked', () => {
  const t = createImage(1, 1, 4, Float32Array.from([-1, 1, byteToUnit(37), 0.001]));
  const [q] = fromImageTensor(t, { quantize: true });
  assert.deepEqual(Array.from(q!.data), [0, 255, 37, 128]);
  const [c] = fromImageTensor(t);
  assert.ok(Math.abs(c!.data[3]! - 127.6275) < 1e-4);
});

test('BT.601 luma: black 16, white 235', () => {
  const p = (v: number) => createPlane(1, 1, Float64Array.of(v));
  assert.equal(lumaBt601([p(0), p(0), p(0)]).data[0], 16);
  assert.ok(Math.abs(lumaBt601([p(255), p(255), p(255)]).data[0]! - 235) < 1e-12);
  assert.ok(Math.abs(lumaBt601([p(255), p(0), p(0)]).data[0]! - (16 + 65.481)) < 1e-12);
});

test('PSNR by hand: 4×4, four pixels off by 8 → MSE 16 → 10·log10(65025/16) = 36.0896 dB', () => {
  const a = createPlane(4, 4, new Float64Array(16).fill(100));
  const bData = new Float64Array(16).fill(100);
  for (const i of [0, 5, 10, 15]) bData[i] = 108;
  const b = createPlane(4, 4, bData);
  assert.ok(Math.abs(psnr(a, b) - 10 * Math.log10(65025 / 16)) < 1e-12);
  assert.ok(Math.abs(psnr(a, b) - 36.0896) < 1e-5);
  // RGB pools the pixels: errors in one channel of three → MSE 16/3.
  assert.ok(Math.abs(psnrRgb([a, a, a], [b, a, a]) - 10 * Math.log10(65025 / (16 / 3))) < 1e-12);
});

test('shave removes exactly the border', () => {
  const a = createPlane(
    6,
    5,
    Float64Array.from({ length: 30 }, (_, i) => i),
  );
  const s = shavePlane(a, 1);
  assert.equal(s.width, 4);
  assert.equal(s.height, 3);
  assert.deepEqual(Array.from(s.data), [7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 21, 22]);
  // Errors only on the 1-pixel border: shave 1 sees identical images, shave 0 does not.
  const hr = createPlane(6, 6, new Float64Array(36).fill(50));
  const srData = new Float64Array(36).fill(50);
  for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) if (y === 0 || x === 0 || y === 5 || x === 5) srData[y * 6 + x] = 90;
  const sr = createPlane(6, 6, srData);
  assert.equal(psnr(sr, hr, { shave: 1 }), Infinity);
  assert.ok(Number.isFinite(psnr(sr, hr, { shave: 0 })));
  assert.throws(() => shavePlane(a, 2.5), { name: 'UsageError', message: 'Expected non-negative integer for shave but received 2.5' });
  assert.throws(() => shavePlane(a, 3), UsageError);
});

test('SSIM: Gaussian kernel, constant planes, shave, and a distorted plane below 1', () => {
  const k = gaussianKernel(5, 1.5);
  assert.equal(k.length, 11);
  assert.ok(Math.abs(k.reduce((s, v) => s + v, 0) - 1) < 1e-15);
  const f = filterValid(createPlane(12, 11, new Float64Array(132).fill(3)), k);
  assert.deepEqual([f.width, f.height], [2, 1]);
  assert.ok(Math.abs(f.data[0]! - 3) < 1e-12);
  // Two constant 11×11 planes: one window, σ = 0, SSIM = (2·μa·μb + C1)/(μa² + μb² + C1).
  const C1 = (0.01 * 255) ** 2;
  const a = createPlane(11, 11, new Float64Array(121).fill(100));
  const b = createPlane(11, 11, new Float64Array(121).fill(110));
  assert.ok(Math.abs(ssim(a, b) - (2 * 100 * 110 + C1) / (100 ** 2 + 110 ** 2 + C1)) < 1e-12);
  const t = texture(64, 48);
  const s = ssim(blur(t), t, { shave: 4 });
  assert.ok(s > 0 && s < 1, `ssim ${s}`);
  assert.throws(() => ssim(a, b, { shave: 1 }), UsageError);
});

test('detail ratio: 1 against itself, < 1 for a blurred output, > 1 with added noise', () => {
  const t = texture(64, 64);
  assert.equal(detailRatio(t, t, { shave: 4 }), 1);
  const r = detailRatio(blur(t), t, { shave: 4 });
  assert.ok(r < 0.5, `blurred ratio ${r}`);
  const noisy = createPlane(
    64,
    64,
    t.data.map((v, i) => v + (i % 2 === 0 ? 10 : -10)),
  );
  assert.ok(detailRatio(noisy, t) > 1);
  const flat = createPlane(16, 16, new Float64Array(256).fill(7));
  assert.equal(detailRatio(flat, flat), 1);
});

test('GMSD by hand and on a distorted image', () => {
  // 4 rows × 2 columns. 2×2 averaging gives a 2×1 column [p; r]. With zero padding, Prewitt/3 gives
  // gx = 0 and |gy| = [r/3, p/3]. hr: p = r = 30 → m = [10, 10]. sr: p = 30, r = 60 → m = [20, 10].
  // GMS = [(2·10·20 + 170)/(10² + 20² + 170), 1] = [57/67, 1]; population std = (10/67)/2 = 5/67.
  const hr = createPlane(2, 4, Float64Array.of(30, 30, 30, 30, 30, 30, 30, 30));
  const sr = createPlane(2, 4, Float64Array.of(30, 30, 30, 30, 60, 60, 60, 60));
  assert.ok(Math.abs(gmsd(sr, hr) - 5 / 67) < 1e-12, `gmsd ${gmsd(sr, hr)}`);
  assert.equal(gmsd(hr, hr), 0);
  const t = texture(64, 64);
  assert.equal(gmsd(t, t, { shave: 4 }), 0);
  const g = gmsd(blur(t), t, { shave: 4 });
  assert.ok(g > 1e-3, `gmsd ${g}`);
});

test('size mismatch is a UsageError naming both sizes', () => {
  const a = createPlane(256, 256);
  const b = createPlane(252, 256);
  const message = 'Expected images of the same size but received 256x256 and 252x256';
  for (const f of [psnr, ssim, detailRatio, gmsd]) assert.throws(() => f(a, b), { name: 'UsageError', message });
  assert.throws(() => psnrRgb([a, a, a], [b, b, b]), { name: 'UsageError', message });
  assert.throws(() => measure(createImage(3, 256, 256), createImage(3, 256, 252), { shave: 4 }), { name: 'UsageError', message });
  assert.throws(() => measure(createImage(1, 16, 16), createImage(1, 16, 16), { shave: 0 }), UsageError);
});

test('blockiness: steps only across the block lines stand out; a ramp knows no grid; a flat image is 1', () => {
  // 8x1 row of two flat blocks of 4: one step of 6 at x = 4, none elsewhere (7 horizontal neighbour pairs, no rows)
  const blocks = createPlane(8, 2, Float64Array.from([0, 0, 0, 0, 6, 6, 6, 6, 0, 0, 0, 0, 6, 6, 6, 6]));
  // across: 2 horizontal steps of 6 (x = 4, both rows); all: 14 horizontal pairs (two of 6) + 8 vertical pairs of 0
  assert.equal(blockiness(blocks, 4), 6 / ((12 / 22) * 1));
  const ramp = createPlane(
    16,
    16,
    Float64Array.from({ length: 256 }, (_, i) => (i % 16) + Math.floor(i / 16)),
  );
  assert.equal(blockiness(ramp, 4), 1);
  assert.equal(blockiness(createPlane(16, 16), 8), 1);
  assert.throws(() => blockiness(ramp, 1), /block size >= 2/);
});
