/**
 * The soft-resample family's sampling (src/diffusion/soft.ts): levels, the corruption D_τ against the Python training
 * code (models/train/soft-golden.json, written by models/train/soft.py), the jump's coefficients by hand, and the
 * cascade with fake models whose answers are known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { createRng } from '../src/diffusion/rng.js';
import {
  corruptTo,
  levelOfFactor,
  softCascade,
  softLevels,
  softPassLevels,
  softStepCoefficients,
  type SoftCorruption,
} from '../src/diffusion/soft.js';
import { root } from './cli-helpers.js';

const golden = JSON.parse(readFileSync(`${root}/models/train/soft-golden.json`, 'utf8')) as {
  level_of_factor: Record<string, number>;
  sigma_max: number;
  resample: { tau: number; size: [number, number]; sum: number; abs_sum: number; first: number[] }[];
};
const c: SoftCorruption = { kind: 'soft-resample', maxScale: 8, sigmaMax: 0.04, levels: 1000 };

function sine(C: number, H: number, W: number): ImageTensor {
  const d = new Float32Array(C * H * W);
  for (let i = 0; i < d.length; i++) d[i] = 0.9 * Math.sin(0.37 * i);
  return createImage(C, H, W, d);
}

test('the level of a factor is log base 8 of it (x2 1/3, x4 2/3, x8 1), capped at 1, as in training', () => {
  for (const [f, v] of Object.entries(golden.level_of_factor)) assert.ok(Math.abs(levelOfFactor(c, Number(f)) - v) < 1e-12, `x${f}`);
  assert.equal(levelOfFactor(c, 1), 0);
  assert.throws(() => levelOfFactor(c, 0.5), /Expected factor >= 1/);
});

test('levels are evenly spaced from the start to 0', () => {
  assert.deepEqual(
    softLevels(0.6, 3).map(({ tau, prev }) => [+tau.toFixed(12), +prev.toFixed(12)]),
    [
      [0.6, 0.4],
      [0.4, 0.2],
      [0.2, 0],
    ],
  );
  assert.deepEqual(softLevels(1, 1), [{ tau: 1, prev: 0 }]);
  assert.throws(() => softLevels(0, 2), /Expected a level in \(0, 1\]/);
  assert.throws(() => softLevels(0.5, 0), /Expected positive integer for steps/);
});

test('the first pass starts at the factor level; later passes (and every pass at factor 1) at t / levels', () => {
  const one = softPassLevels(c, 1, [500, 250]); // nothing enlarged: every pass re-corrupts to t / levels
  assert.ok(Math.abs(one[0]! - 0.5) < 1e-12 && Math.abs(one[1]! - 0.25) < 1e-12);
  const got = softPassLevels(c, 4, [999, 250, 2000]);
  [2 / 3, 0.25, 1].forEach((v, i) => {
    assert.ok(Math.abs(got[i]! - v) < 1e-12, `pass ${i + 1}: ${got[i]}`);
  });
});

test('D_τ (shrink to round(H/8^τ), enlarge back, centre-aligned bicubic) matches the training code', () => {
  const x = sine(3, 12, 10);
  for (const g of golden.resample) {
    const y = corruptTo(c, x, g.tau).data;
    let sum = 0;
    let abs = 0;
    for (const v of y) {
      sum += v;
      abs += Math.abs(v);
    }
    assert.ok(Math.abs(abs - g.abs_sum) < 1e-3, `tau ${g.tau}: abs sum ${abs} vs ${g.abs_sum}`);
    assert.ok(Math.abs(sum - g.sum) < 1e-3, `tau ${g.tau}: sum ${sum} vs ${g.sum}`);
    g.first.forEach((v, i) => {
      assert.ok(Math.abs(y[i]! - v) < 1e-5, `tau ${g.tau} [${i}]: ${y[i]} vs ${v}`);
    });
  }
});

test('jump coefficients: η = 0 carries ε̂ scaled by σ(τ′)/σ(τ); η = 1 draws all of σ(τ′) afresh', () => {
  const d = softStepCoefficients(c, 0.6, 0.3, 0);
  assert.ok(Math.abs(d.cEps - 0.5) < 1e-12 && d.cNoise === 0);
  const s = softStepCoefficients(c, 0.6, 0.3, 1);
  assert.ok(s.cEps === 0 && Math.abs(s.cNoise - 0.012) < 1e-12);
  const h = softStepCoefficients(c, 0.5, 0.25, 0.6); // √(1 − 0.36) = 0.8
  assert.ok(Math.abs(h.cEps - 0.4) < 1e-12 && Math.abs(h.cNoise - 0.04 * 0.25 * 0.6) < 1e-12);
});

test('the model sees the upsampled input plus η·σ(τ_f)·ε from the seed, at t = 1000·τ_f', async () => {
  const up = sine(3, 8, 8);
  const seen: { t: number; x: Float32Array }[] = [];
  const run = (eta: number) =>
    softCascade(up, {
      corruption: c,
      factor: 4,
      passes: [1],
      steps: 1,
      eta,
      rng: createRng(7),
      denoise: async (x, t) => {
        seen.push({ t, x: (x.data as Float32Array).slice() });
        return createImage(3, 8, 8);
      },
    });
  await run(0);
  assert.deepEqual(seen[0]!.x, up.data); // deterministic: the enlarged input itself
  seen.length = 0;
  await run(1);
  const eps = createRng(7).fillNormal(new Float32Array(3 * 64));
  assert.equal(seen.length, 1);
  assert.ok(Math.abs(seen[0]!.t - 2000 / 3) < 1e-9);
  const sigma = 0.04 * (2 / 3);
  seen[0]!.x.forEach((v, i) => {
    assert.ok(Math.abs(v - (up.data[i]! + sigma * eps[i]!)) < 1e-6);
  });
});

test('recorrupt: the first pass starts from D_τf(up), the enlarged input shrunk back to the input size and enlarged', async () => {
  const up = sine(3, 16, 16);
  const seen: Float32Array[] = [];
  const denoise = async (x: ImageTensor) => {
    seen.push((x.data as Float32Array).slice());
    return createImage(3, 16, 16);
  };
  await softCascade(up, { corruption: c, factor: 4, passes: [1], steps: 1, eta: 0, rng: createRng(7), denoise, recorrupt: true });
  assert.deepEqual(seen[0], corruptTo(c, up, levelOfFactor(c, 4)).data); // 16 → round(16/4) = 4 → 16
  assert.notDeepEqual(seen[0], up.data);
  assert.deepEqual(up.data, sine(3, 16, 16).data); // the input is not modified
});

test('a model that always answers the clean image gives it back, through any number of jumps and passes', async () => {
  const clean = sine(3, 16, 16);
  const up = corruptTo(c, clean, 2 / 3);
  const evaluated: number[] = [];
  const out = await softCascade(up, {
    corruption: c,
    factor: 4,
    passes: [1, 300],
    steps: 3,
    eta: 0.5,
    rng: createRng(1),
    denoise: async (x, t) => {
      evaluated.push(Math.round(t));
      const d = new Float32Array(x.data.length);
      for (let i = 0; i < d.length; i++) d[i] = clean.data[i]! - x.data[i]!; // the residual to the clean image
      return createImage(3, 16, 16, d);
    },
  });
  assert.deepEqual(evaluated, [667, 444, 222, 300, 200, 100]);
  out.data.forEach((v, i) => {
    assert.ok(Math.abs(v - Math.max(-1, Math.min(1, clean.data[i]!))) < 1e-6);
  });
});
