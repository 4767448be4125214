import { test } from 'node:test';
import assert from 'node:assert/strict';
import { step, stepNoiseStd } from '../src/diffusion/samplers.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { UsageError } from '../src/errors.js';

// ᾱ chosen for hand arithmetic: ᾱ_2 = 0.36 (√ = 0.6, √(1−ᾱ) = 0.8), ᾱ_1 = 0.64 (√ = 0.8, √(1−ᾱ) = 0.6).
const schedule = makeSchedule(4, { kind: 'table', alphasCumprod: [0.9, 0.64, 0.36, 0.1] });
const xt = new Float32Array([0.2, -0.4]);
const x0 = new Float32Array([0.5, -0.25]);
const z = new Float32Array([1, -2]);

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('one ancestral step 2 → 1 by hand', () => {
  // α' = 0.36/0.64 = 0.5625 (√ = 0.75), β' = 0.4375, 1 − ᾱ_t = 0.64, 1 − ᾱ_prev = 0.36
  // mean coefficients: x̂0: 0.8·0.4375/0.64 = 35/64 = 0.546875, x_t: 0.75·0.36/0.64 = 27/64 = 0.421875
  // variance β̃ = 0.36/0.64·0.4375 = 63/256, σ = √63/16 = 0.496078370824611
  // x_prev[0] = 0.546875·0.5 + 0.421875·0.2 + σ·1 = 0.2734375 + 0.084375 + σ = 0.853890870824611
  // x_prev[1] = 0.546875·(−0.25) + 0.421875·(−0.4) − 2σ = −0.13671875 − 0.16875 − 2σ = −1.297625491649222
  assert.ok(Math.abs(stepNoiseStd(schedule, 'ancestral', 2, 1) - Math.sqrt(63) / 16) < 1e-15);
  const { prevSample, predOriginalSample } = step({ schedule, sampler: 'ancestral', t: 2, prevT: 1, xt, x0, noise: z });
  close(prevSample, [0.853890870824611, -1.297625491649222]);
  assert.equal(predOriginalSample, x0);
});

test('one DDIM step 2 → 1 by hand, η = 0 and η = 1', () => {
  // ε̂ = (x_t − 0.6·x̂0)/0.8 = [(0.2 − 0.3)/0.8, (−0.4 + 0.15)/0.8] = [−0.125, −0.3125]
  // η = 0: x_prev = 0.8·x̂0 + 0.6·ε̂ = [0.4 − 0.075, −0.2 − 0.1875] = [0.325, −0.3875]; no noise needed
  assert.equal(stepNoiseStd(schedule, 'ddim', 2, 1, 0), 0);
  close(step({ schedule, sampler: 'ddim', eta: 0, t: 2, prevT: 1, xt, x0 }).prevSample, [0.325, -0.3875]);
  // η = 1: σ = √(0.36/0.64)·√(1 − 0.5625) = 0.75·√7/4 = 3√7/16 (σ² = 63/256), √(1 − 0.64 − σ²) = √0.11390625 = 0.3375
  // x_prev = 0.8·x̂0 + 0.3375·ε̂ + σ·z = [0.4 − 0.0421875 + σ, −0.2 − 0.10546875 − 2σ]
  const sigma = (3 * Math.sqrt(7)) / 16;
  assert.ok(Math.abs(stepNoiseStd(schedule, 'ddim', 2, 1, 1) - sigma) < 1e-15);
  const ddim1 = step({ schedule, sampler: 'ddim', eta: 1, t: 2, prevT: 1, xt, x0, noise: z }).prevSample;
  close(ddim1, [0.3578125 + sigma, -0.30546875 - 2 * sigma]);
  // …which is the ancestral step (DDIM with η = 1 has the DDPM posterior)
  close(ddim1, step({ schedule, sampler: 'ancestral', t: 2, prevT: 1, xt, x0, noise: z }).prevSample);
});

test('a jump to 0 returns x̂0 and draws no noise', () => {
  for (const sampler of ['ancestral', 'ddim'] as const) {
    assert.equal(stepNoiseStd(schedule, sampler, 3, 0, 1), 0);
    close(step({ schedule, sampler, eta: 1, t: 3, prevT: 0, xt, x0 }).prevSample, x0, 0);
  }
});

test('step works in place and validates its inputs', () => {
  const buf = Float32Array.from(xt);
  const { prevSample } = step({ schedule, sampler: 'ddim', t: 2, prevT: 1, xt: buf, x0, out: buf });
  assert.equal(prevSample, buf);
  close(buf, [0.325, -0.3875]);
  const usage = (m: string) => (e: unknown) => e instanceof UsageError && e.message === m;
  assert.throws(() => step({ schedule, sampler: 'ddim', t: 0, prevT: 0, xt, x0 }), usage('Expected integer t in 1..3 but received 0'));
  assert.throws(() => step({ schedule, sampler: 'ddim', t: 2, prevT: 2, xt, x0 }), usage('Expected integer prevT in 0..1 but received 2'));
  assert.throws(() => step({ schedule, sampler: 'ddim', eta: 2, t: 2, prevT: 1, xt, x0 }), usage('Expected eta in 0..1 but received 2'));
  assert.throws(() => step({ schedule, sampler: 'ancestral', t: 2, prevT: 1, xt, x0 }), RangeError); // noise missing
});
