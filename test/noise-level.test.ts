import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/diffusion/rng.js';
import {
  gradientEnergy,
  laplacianNoiseLevel,
  noiseFloor,
  pcaNoiseLevel,
  symmetricEigenvalues,
  weakTextureBound,
} from '../src/image/noise-level.js';
import { byteToUnit, createImage, type ImageTensor, unitToByte } from '../src/image/tensor.js';

/** An RGB image from a grey-level function of (channel, y, x), with Gaussian noise of `sigma` grey levels, 8-bit. */
function image(height: number, width: number, f: (c: number, y: number, x: number) => number, sigma = 0, seed = 1): ImageTensor {
  const rng = createRng(seed);
  const out = createImage(3, height, width);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const v = Math.round(f(c, y, x) + sigma * rng.normal());
        out.data[(c * height + y) * width + x] = byteToUnit(Math.min(255, Math.max(0, v)));
      }
  return out;
}
/** A smooth ramp with a soft blob: little to mistake for noise. */
const smooth = (c: number, y: number, x: number) => 60 + 0.6 * x + 0.4 * y + 20 * c + 30 * Math.exp(-((x - 50) ** 2 + (y - 40) ** 2) / 800);
/** Texture: stripes at two frequencies, a checkerboard of sharp edges, colour differing by channel. */
const textured = (c: number, y: number, x: number) =>
  128 + 40 * Math.sin(0.9 * x + 0.3 * c) + 25 * Math.cos(0.55 * y - 0.2 * x) + ((Math.floor(x / 8) + Math.floor(y / 8)) % 2 ? 30 : -30);

test('symmetricEigenvalues: a 2x2 and a rotated diagonal 3x3 (hand-computed)', () => {
  // [[2, 1], [1, 2]]: eigenvalues 1 and 3
  assert.deepEqual(
    symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2)
      .sort((p, q) => p - q)
      .map((e) => Number(e.toFixed(12))),
    [1, 3],
  );
  // Q diag(1, 4, 9) Qᵀ with Q a rotation by 30° in the first two axes: [[1.75, 1.299.., 0], [1.299.., 3.25, 0], [0, 0, 9]]
  const c = Math.cos(Math.PI / 6);
  const s = Math.sin(Math.PI / 6);
  const m = Float64Array.of(c * c * 1 + s * s * 4, c * s * (4 - 1), 0, c * s * (4 - 1), s * s * 1 + c * c * 4, 0, 0, 0, 9);
  const e = symmetricEigenvalues(m, 3).sort((p, q) => p - q);
  for (const [i, want] of [1, 4, 9].entries()) assert.ok(Math.abs(e[i]! - want) < 1e-10, `${e[i]} vs ${want}`);
  assert.deepEqual(symmetricEigenvalues(new Float64Array(4), 2), [0, 0]);
});

test('noiseFloor: the mean of the longest ascending prefix with as many values above its mean as below (hand-computed)', () => {
  // all five: mean 2.8, 1 above, 4 below; first four: mean 1, none above or below
  assert.equal(noiseFloor([1, 1, 1, 1, 10]), 1);
  // five: mean 5.6 (1 above, 4 below); four: 2 (1, 3); three: mean 1, 1.1 above and 0.9 below
  assert.ok(Math.abs(noiseFloor([0.9, 1, 1.1, 5, 20]) - 1) < 1e-12);
  assert.equal(noiseFloor([4]), 4);
  assert.equal(noiseFloor([]), 0);
});

test('laplacianNoiseLevel: median |I*N| / (0.6745·6), hand-computed on a 3x3 image; 0 on a plane', () => {
  // one interior pixel, the centre, 4 grey levels above a flat field: I*N there is 4·4 = 16 grey levels
  const img = createImage(1, 3, 3);
  img.data.fill(byteToUnit(100));
  img.data[4] = byteToUnit(104);
  assert.ok(Math.abs(laplacianNoiseLevel(img) - 16 / (0.6745 * 6)) < 1e-3);
  assert.ok(laplacianNoiseLevel(image(20, 20, (_, y, x) => 50 + 2 * x + 3 * y)) < 1e-6);
  assert.equal(laplacianNoiseLevel(createImage(1, 2, 2)), 0);
});

test('pcaNoiseLevel: known sigma added to smooth and to textured images is found within 10%', () => {
  for (const [name, f] of [
    ['smooth', smooth],
    ['textured', textured],
  ] as const) {
    for (const sigma of [5, 10]) {
      const est = pcaNoiseLevel(image(96, 96, f, sigma, sigma));
      assert.ok(Math.abs(est - sigma) < 0.1 * sigma, `${name} sigma ${sigma}: estimated ${est.toFixed(2)}`);
    }
  }
});

test('pcaNoiseLevel: clean 8-bit images read as under 1 grey level (rounding alone is 0.29); a constant one as 0', () => {
  for (const f of [smooth, textured]) {
    const est = pcaNoiseLevel(image(96, 96, f));
    assert.ok(est < 1, `clean: estimated ${est.toFixed(2)}`);
  }
  const flat = createImage(3, 32, 32);
  flat.data.fill(byteToUnit(77));
  assert.equal(pcaNoiseLevel(flat), 0);
  // smaller than one patch: nothing to estimate from
  assert.equal(pcaNoiseLevel(createImage(3, 4, 4)), 0);
});

test('pcaNoiseLevel: the patch grid thins a large image to maxPatches and the estimate holds; views read like copies', () => {
  // a gentler ramp than `smooth` (which would clip at this size, and clipped pixels carry no noise)
  const noisy = image(200, 300, (c, y, x) => 60 + 0.25 * x + 0.2 * y + 15 * c, 8, 3);
  const all = pcaNoiseLevel(noisy, { maxPatches: 1e9 });
  const thinned = pcaNoiseLevel(noisy, { maxPatches: 2000 });
  assert.ok(Math.abs(all - 8) < 0.5 && Math.abs(thinned - 8) < 0.8, `${all} ${thinned}`);
  // a view (a crop) reads the same as the cropped copy
  const view = noisy.hi(3, 50, 60).lo(0, 10, 20) as ImageTensor;
  const copy = createImage(3, 40, 40);
  for (let c = 0; c < 3; c++) for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) copy.set(c, y, x, noisy.get(c, y + 10, x + 20));
  assert.equal(pcaNoiseLevel(view), pcaNoiseLevel(copy));
  assert.equal(unitToByte(copy.get(0, 0, 0)), unitToByte(noisy.get(0, 10, 20)));
});

test('weakTextureBound: hand-computed for a 2x2 grey patch; white noise of variance 1 stays under it 99% of the time', () => {
  // 2x2: 4 differences, A has 2 on the diagonal and -1 for each neighbour pair: tr A = 8, tr A² = 4·4 + 8·1 = 24;
  // Gamma shape 64/48 = 4/3, scale 48/8 = 6; Wilson–Hilferty: 8·(1 − 1/12 + 2.32635·√(1/12))³ = 32.05
  assert.ok(Math.abs(weakTextureBound(1, 2) - 32.05) < 0.01, `${weakTextureBound(1, 2)}`);
  const bound = weakTextureBound(3, 5);
  const rng = createRng(9);
  const v = new Float64Array(75);
  let under = 0;
  const trials = 20000;
  for (let k = 0; k < trials; k++) {
    for (let i = 0; i < 75; i++) v[i] = rng.normal();
    if (gradientEnergy(v, 3, 5) <= bound) under++;
  }
  assert.ok(Math.abs(under / trials - 0.99) < 0.004, `${under / trials}`);
  // gradientEnergy by hand: a 2x2 grey patch [0 1; 3 7]: (1−0)² + (7−3)² + (3−0)² + (7−1)² = 1 + 16 + 9 + 36
  assert.equal(gradientEnergy(Float64Array.of(0, 1, 3, 7), 1, 2), 62);
});

test('pcaNoiseLevel weakTexture: known sigma on a smooth image is still found; a clean one stays under 1', () => {
  const est = pcaNoiseLevel(image(96, 96, smooth, 10, 10), { weakTexture: true });
  assert.ok(Math.abs(est - 10) < 1, `${est}`);
  assert.ok(pcaNoiseLevel(image(96, 96, textured), { weakTexture: true }) < 1);
});

test('pcaNoiseLevel: a grey image in RGB (the channels copies of one) is read as one channel, its noise found', () => {
  const grey = image(96, 96, (_, y, x) => smooth(0, y, x), 10, 4);
  const plane = 96 * 96;
  grey.data.copyWithin(plane, 0, plane);
  grey.data.copyWithin(2 * plane, 0, plane);
  const est = pcaNoiseLevel(grey);
  assert.ok(Math.abs(est - 10) < 1, `${est}`);
});
