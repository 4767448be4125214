/**
 * The ziggurat normal generator (src/diffusion/rng.ts), which replaced Box–Muller for speed: its stream is
 * pinned, fillNormal matches normal() through the slow paths, and the distribution is N(0, 1) (KS test, tails).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/diffusion/rng.js';

/** Φ(x) via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

test('the normal stream of a seed is pinned (golden values for seed 1)', () => {
  const z = createRng(1).fillNormal(new Float32Array(4));
  assert.deepEqual(Array.from(z), [-1.1729103326797485, 1.433591604232788, 1.5785269737243652, 1.418287754058838]);
});

test('fillNormal equals repeated normal() over a long run (wedge, tail and rejections included)', () => {
  const a = createRng(99),
    b = createRng(99);
  const buf = a.fillNormal(new Float32Array(20_000));
  for (let i = 0; i < buf.length; i++) assert.equal(buf[i], Math.fround(b.normal()), `at ${i}`);
  assert.equal(a.nextUint32(), b.nextUint32()); // the states agree afterwards
});

test('normals follow N(0, 1): Kolmogorov–Smirnov, moments and tail frequencies', () => {
  const n = 400_000;
  const z = createRng(2026).fillNormal(new Float32Array(n));
  const sorted = Float64Array.from(z).sort();
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = phi(sorted[i]!);
    d = Math.max(d, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
  }
  assert.ok(d < 1.95 / Math.sqrt(n), `KS D = ${d}`); // α = 0.001
  let s = 0,
    s2 = 0,
    s4 = 0,
    beyondR = 0,
    beyond2 = 0;
  for (const v of z) {
    s += v;
    s2 += v * v;
    s4 += v * v * v * v;
    if (Math.abs(v) > 3.442619855899) beyondR++;
    if (Math.abs(v) > 2) beyond2++;
  }
  assert.ok(Math.abs(s / n) < 0.008, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.011, `variance ${s2 / n}`);
  assert.ok(Math.abs(s4 / n - 3) < 0.07, `fourth moment ${s4 / n}`); // std error ≈ 0.015
  const pR = 2 * (1 - phi(3.442619855899)),
    p2 = 2 * (1 - phi(2)); // 5.76e-4 (the tail algorithm), 0.0455
  assert.ok(Math.abs(beyondR - n * pR) < 5 * Math.sqrt(n * pR), `beyond R: ${beyondR}, expected ${n * pR}`);
  assert.ok(Math.abs(beyond2 - n * p2) < 5 * Math.sqrt(n * p2), `beyond 2: ${beyond2}, expected ${n * p2}`);
});
