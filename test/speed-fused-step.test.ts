/** The fused sampler step (src/diffusion/update.ts) is bit for bit toX0 → projectConsistency → step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { projectConsistency } from '../src/diffusion/consistency.js';
import { toX0, type PredictionKind } from '../src/diffusion/predictions.js';
import { createRng } from '../src/diffusion/rng.js';
import { step, stepCoefficients, type SamplerKind } from '../src/diffusion/samplers.js';
import { makeSchedule } from '../src/diffusion/schedule.js';
import { fusedStep } from '../src/diffusion/update.js';
import { createImage } from '../src/image/tensor.js';

const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });

test('fusedStep equals the three separate operations exactly', () => {
  const r = createRng(5);
  const cases: Array<[PredictionKind, SamplerKind, number, number, number, number | null, boolean]> = [
    ['eps', 'ancestral', 100, 95, 0, 8, true],
    ['eps', 'ancestral', 100, 95, 0, null, true],
    ['eps', 'ancestral', 5, 0, 0, 4, true],
    ['v', 'ddim', 300, 200, 0.5, 2, true],
    ['x0', 'ddim', 60, 40, 0, 3, false],
    ['eps', 'ddim', 80, 60, 0, 1, true],
    ['v', 'ancestral', 999, 900, 0, null, false],
  ];
  for (const [prediction, sampler, t, prevT, eta, factor, clip] of cases) {
    const C = 3,
      H = 24,
      W = 48,
      n = C * H * W;
    const xt = r.fillNormal(new Float32Array(n)).map((v) => 1.3 * v);
    const out = r.fillNormal(new Float32Array(n));
    const noise = r.fillNormal(new Float32Array(n));
    const f = factor ?? 1;
    const y = createImage(
      C,
      H / f,
      W / f,
      new Float32Array(n / (f * f)).map(() => 2 * r.nextFloat() - 1),
    );
    // reference: the three operations as boomerang.ts called them before
    const ab = schedule.alphasCumprod[t]!;
    const x0 = toX0(prediction, out, xt, ab, { clip });
    const x0Image = createImage(C, H, W, x0);
    if (factor !== null) projectConsistency(x0Image, y, factor, x0Image);
    const { cx0, cxt, sigma } = stepCoefficients(schedule, sampler, t, prevT, eta);
    const ref = step({ schedule, sampler, eta, t, prevT, xt, x0, ...(sigma > 0 ? { noise } : {}) }).prevSample;
    // fused, in place
    const fused = Float32Array.from(xt);
    fusedStep({
      prediction,
      alphaBar: ab,
      clip,
      cx0,
      cxt,
      sigma,
      channels: C,
      height: H,
      width: W,
      xt: fused,
      modelOut: out,
      noise: sigma > 0 ? noise : undefined,
      consistency: factor === null ? null : { y: y.data, factor },
    });
    assert.deepEqual(Array.from(fused), Array.from(ref), `${prediction}/${sampler} ${t}->${prevT} factor ${factor}`);
  }
});

test('fusedStep rejects mismatched buffers', () => {
  const a = new Float32Array(12);
  const step = {
    prediction: 'eps',
    alphaBar: 0.5,
    clip: true,
    cx0: 1,
    cxt: 0,
    channels: 3,
    height: 2,
    width: 2,
    xt: a,
    modelOut: a,
  } as const;
  // sigma > 0 without a noise buffer
  assert.throws(() => fusedStep({ ...step, sigma: 0.1 }), { name: 'RangeError', message: /and noise of length 12/ });
  // a low-resolution image that is not (height/factor) x (width/factor)
  assert.throws(() => fusedStep({ ...step, sigma: 0, consistency: { y: new Float32Array(2), factor: 2 } }), {
    name: 'RangeError',
    message: /3x1x1 LR image for factor 2/,
  });
});

test('noise drawn from a generator inside the pass equals a pre-filled noise array', () => {
  for (const factor of [null, 4, 8]) {
    const C = 3,
      H = 64,
      W = 96,
      n = C * H * W;
    const r = createRng(8);
    const xt = r.fillNormal(new Float32Array(n));
    const out = r.fillNormal(new Float32Array(n));
    const f = factor ?? 1;
    const y = new Float32Array(n / (f * f)).map(() => 2 * r.nextFloat() - 1);
    const common = {
      prediction: 'eps' as const,
      alphaBar: 0.9,
      clip: true,
      cx0: 0.4,
      cxt: 0.6,
      sigma: 0.05,
      channels: C,
      height: H,
      width: W,
      modelOut: out,
      consistency: factor === null ? null : { y, factor },
    };
    const a = Float32Array.from(xt),
      b = Float32Array.from(xt);
    const g1 = createRng(21),
      g2 = createRng(21);
    fusedStep({ ...common, xt: a, noise: g1.fillNormal(new Float32Array(n)) });
    fusedStep({ ...common, xt: b, noise: g2 });
    assert.deepEqual(Array.from(b), Array.from(a), `factor ${factor}`);
    assert.equal(g1.nextUint32(), g2.nextUint32()); // the same amount of the stream was used
  }
});
