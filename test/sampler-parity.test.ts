/**
 * The TypeScript sampler and the Python training/validation code follow the same rules: both are checked against
 * models/train/sampler-golden.json (written by models/train/schedule.py; the training smoke test checks the Python
 * side). Timesteps, ᾱ and the x̂0 coefficients per prediction kind must match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeSchedule, setTimesteps } from '../src/diffusion/schedule.js';
import { x0Coefficients, type PredictionKind } from '../src/diffusion/predictions.js';
import { root } from './cli-helpers.js';

const golden = JSON.parse(readFileSync(`${root}/models/train/sampler-golden.json`, 'utf8')) as {
  alphas_cumprod: Record<string, number>;
  timesteps: { t: number; steps: number | null; pairs: [number, number][] }[];
  x0_coefficients: { kind: PredictionKind; t: number; pq: [number, number] }[];
};
const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });

test('ᾱ_t of the linear schedule equals the Python table', () => {
  for (const [t, v] of Object.entries(golden.alphas_cumprod)) {
    assert.ok(Math.abs(schedule.alphasCumprod[Number(t)]! - v) < 1e-12, `t=${t}`);
  }
});

test('setTimesteps gives the same jumps as the Python sampler (rounding half up, e.g. t=50 with 20 steps)', () => {
  assert.ok(golden.timesteps.length >= 5);
  for (const { t, steps, pairs } of golden.timesteps) {
    const ts = setTimesteps(schedule, t, steps ?? undefined).map((p) => [p.t, p.prevT]);
    assert.deepEqual(ts, pairs, `t=${t} steps=${steps}`);
  }
});

test('x̂0 = p·x_t + q·out has the same p, q per prediction kind as the Python code', () => {
  for (const { kind, t, pq } of golden.x0_coefficients) {
    const { p, q } = x0Coefficients(kind, schedule.alphasCumprod[t]!);
    assert.ok(Math.abs(p - pq[0]) < 1e-12 && Math.abs(q - pq[1]) < 1e-12, `${kind} t=${t}`);
  }
});
