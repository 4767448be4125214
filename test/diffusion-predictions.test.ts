import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epsFromX0, toModelOutput, toX0, toX0AndEps, type PredictionKind } from '../src/diffusion/predictions.js';
import { addNoise } from '../src/diffusion/noise.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { createRng } from '../src/diffusion/rng.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('v-parameterisation by hand at ᾱ = 0.36 (√ᾱ = 0.6, √(1−ᾱ) = 0.8)', () => {
  // x0 = 0.5, ε = −0.125: x_t = 0.3 − 0.1 = 0.2; v = 0.6·(−0.125) − 0.8·0.5 = −0.475
  const v = toModelOutput('v', new Float32Array([0.5]), new Float32Array([-0.125]), 0.36);
  close(v, [-0.475], 1e-7);
  // x0 = 0.6·0.2 − 0.8·(−0.475) = 0.12 + 0.38 = 0.5; ε = 0.8·0.2 + 0.6·(−0.475) = 0.16 − 0.285 = −0.125
  const { x0, eps } = toX0AndEps('v', v, new Float32Array([0.2]), 0.36);
  close(x0, [0.5], 1e-7);
  close(eps, [-0.125], 1e-6);
});

test('eps, x0 and v round-trip through toModelOutput and toX0AndEps', () => {
  const rng = createRng(5);
  const n = 64;
  const x0 = new Float32Array(n).map(() => rng.nextFloat() * 1.8 - 0.9);
  const eps = rng.fillNormal(new Float32Array(n));
  for (const ab of [0.9999, 0.36, 0.02]) {
    const xt = new Float32Array(n).map((_, i) => Math.sqrt(ab) * x0[i]! + Math.sqrt(1 - ab) * eps[i]!);
    for (const kind of ['eps', 'x0', 'v'] as PredictionKind[]) {
      const out = toModelOutput(kind, x0, eps, ab);
      const got = toX0AndEps(kind, out, xt, ab, { clip: false });
      close(got.x0, x0, 2e-4);
      close(got.eps, eps, 2e-4);
    }
  }
});

test('x̂0 is clipped to [-1, 1] by default and ε̂ re-derived from the clipped value', () => {
  // x0 prediction 1.5 at x_t = 0.2, ᾱ = 0.36 → x̂0 = 1, ε̂ = (0.2 − 0.6)/0.8 = −0.5
  const clipped = toX0AndEps('x0', new Float32Array([1.5, -3]), new Float32Array([0.2, 0.2]), 0.36);
  close(clipped.x0, [1, -1], 0);
  close(clipped.eps, [-0.5, 1], 1e-6); // (0.2 + 0.6)/0.8 = 1
  const raw = toX0AndEps('x0', new Float32Array([1.5]), new Float32Array([0.2]), 0.36, { clip: false });
  close(raw.x0, [1.5], 0);
  const out = new Float32Array(1);
  assert.equal(toX0('eps', new Float32Array([0]), new Float32Array([0.3]), 0.36, { out }), out);
  close(out, [0.5], 1e-7); // 0.3/0.6
  close(epsFromX0(new Float32Array([0.5]), new Float32Array([0.2]), 0.36), [-0.125], 1e-7);
});

test('addNoise: sample mean ≈ √ᾱ·x0 and variance ≈ 1 − ᾱ', () => {
  const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });
  const n = 200_000;
  const x0 = new Float32Array(n).fill(0.5);
  const noise = createRng(99).fillNormal(new Float32Array(n));
  const xt = addNoise(schedule, x0, 100, noise);
  let s = 0,
    s2 = 0;
  for (const v of xt) {
    s += v;
    s2 += v * v;
  }
  const mean = s / n,
    variance = s2 / n - mean * mean;
  // ᾱ[100] = 0.8951416: mean 0.5·0.946119 = 0.473060 (std error 0.0007), variance 0.104858 (std error 0.0003)
  assert.ok(Math.abs(mean - 0.47306) < 0.004, `mean ${mean}`);
  assert.ok(Math.abs(variance - 0.104858) < 0.002, `variance ${variance}`);
  // exact per element, in place
  const one = addNoise(schedule, new Float32Array([0.5]), 100, new Float32Array([1]));
  close(one, [Math.sqrt(0.8951415908975365) * 0.5 + Math.sqrt(0.10485840910246347)], 1e-6);
});
