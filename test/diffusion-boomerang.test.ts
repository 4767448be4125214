import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boomerang,
  cascade,
  cascadeTs,
  reverseFrom,
  type BoomerangOptions,
  type BoomerangProgress,
  type Denoise,
} from '../src/diffusion/boomerang.js';
import { averagePool } from '../src/diffusion/consistency.js';
import { epsFromX0, toModelOutput, type PredictionKind } from '../src/diffusion/predictions.js';
import { createRng } from '../src/diffusion/rng.js';
import { makeSchedule, type Schedule } from '../src/diffusion/schedule.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import { AbortError, ModelError, UsageError } from '../src/errors.js';

const schedule = makeSchedule(1000, { kind: 'linear', start: 1e-4, end: 0.02 });
const C = 3,
  H = 8,
  W = 8,
  N = C * H * W;

function image(seed: number, lo = -0.9, hi = 0.9): ImageTensor {
  const r = createRng(seed);
  return createImage(
    C,
    H,
    W,
    new Float32Array(N).map(() => lo + (hi - lo) * r.nextFloat()),
  );
}

/** A model that knows the clean image: returns the exact output of `kind` for (x0, the ε implied at x_t). */
function oracle(x0: ImageTensor, kind: PredictionKind, s: Schedule, calls: number[] = []): Denoise {
  return async (xt, t) => {
    calls.push(t);
    const ab = s.alphasCumprod[t]!;
    const eps = epsFromX0(x0.data, xt.data, ab);
    return createImage(C, H, W, toModelOutput(kind, x0.data, eps, ab));
  };
}

/** An imperfect model (predicts ε = 0.1·x_t), so outputs depend on the noise. */
const blurry: Denoise = async (xt) =>
  createImage(
    C,
    H,
    W,
    xt.data.map((v) => 0.1 * v),
  );

const maxDiff = (a: ImageTensor, b: ImageTensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);

const base = (over: Partial<BoomerangOptions>): BoomerangOptions => ({
  schedule,
  prediction: 'eps',
  t: 50,
  sampler: 'ancestral',
  rng: createRng(1),
  denoise: blurry,
  ...over,
});

test('with an oracle model Boomerang returns x0, for every prediction kind and sampler', async () => {
  const x0 = image(3);
  const start = image(4); // the (e.g. upsampled) input differs from the clean image the oracle knows
  for (const prediction of ['eps', 'x0', 'v'] as PredictionKind[]) {
    for (const [sampler, steps, eta] of [
      ['ancestral', undefined, 0],
      ['ddim', 5, 0],
      ['ddim', 7, 0.5],
    ] as const) {
      const calls: number[] = [];
      const out = await boomerang(
        start,
        base({
          prediction,
          sampler,
          ...(steps !== undefined ? { steps } : {}),
          eta,
          t: 60,
          denoise: oracle(x0, prediction, schedule, calls),
        }),
      );
      assert.ok(maxDiff(out, x0) < 1e-4, `${prediction}/${sampler}: ${maxDiff(out, x0)}`);
      assert.equal(calls.length, steps ?? 60);
      assert.equal(calls[0], 60);
    }
  }
});

test('the same seed repeats a run; another seed gives another sample', async () => {
  const x = image(5);
  const a = await boomerang(x, base({ rng: createRng(10) }));
  const b = await boomerang(x, base({ rng: createRng(10) }));
  const c = await boomerang(x, base({ rng: createRng(11) }));
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  assert.ok(maxDiff(a, c) > 1e-3);
  assert.ok(a.data.every((v) => v >= -1 && v <= 1));
  assert.deepEqual(Array.from(x.data), Array.from(image(5).data)); // input untouched
});

test('DDIM with η = 0 is deterministic from x_t whatever the rng; ancestral is not', async () => {
  const xt = image(6, -1.5, 1.5);
  const ddim = (seed: number) => reverseFrom(xt, base({ sampler: 'ddim', eta: 0, steps: 10, rng: createRng(seed) }));
  assert.deepEqual(Array.from((await ddim(1)).data), Array.from((await ddim(2)).data));
  const anc = (seed: number) => reverseFrom(xt, base({ sampler: 'ancestral', steps: 10, rng: createRng(seed) }));
  assert.ok(maxDiff(await anc(1), await anc(2)) > 1e-3);
});

test('consistency: the result downsamples to the LR image', async () => {
  const x0 = image(7, -0.5, 0.5);
  const lr = averagePool(x0, 4);
  const r = createRng(8);
  for (let i = 0; i < lr.data.length; i++) lr.data[i]! += 0.2 * r.nextFloat() - 0.1; // y ≠ A·x0
  const out = await boomerang(image(9), base({ t: 30, steps: 6, denoise: oracle(x0, 'eps', schedule), consistency: { y: lr, factor: 4 } }));
  const down = averagePool(out, 4);
  for (let i = 0; i < lr.data.length; i++) assert.ok(Math.abs(down.data[i]! - lr.data[i]!) < 1e-5);
  await assert.rejects(
    boomerang(image(9), base({ consistency: { y: createImage(3, 3, 2), factor: 4 } })),
    (e: unknown) => e instanceof UsageError && e.message === 'Expected LR image of 3x2x2 for a 3x8x8 image at factor 4 but received 3x3x2',
  );
});

test('progress: one event per jump, with pass numbers', async () => {
  const events: BoomerangProgress[] = [];
  await boomerang(image(1), base({ t: 20, steps: 4, onProgress: (e) => events.push(e) }));
  assert.deepEqual(
    events.map((e) => [e.step, e.t]),
    [
      [1, 20],
      [2, 15],
      [3, 10],
      [4, 5],
    ],
  );
  assert.ok(events.every((e) => e.stage === 'boomerang' && e.pass === 1 && e.passes === 1 && e.totalSteps === 4));
});

test('cascade runs Boomerang once per pass; denoise calls = sum of step counts', async () => {
  const calls: number[] = [];
  const counting: Denoise = async (xt, t) => {
    calls.push(t);
    return blurry(xt, t);
  };
  const events: BoomerangProgress[] = [];
  const passes: number[] = [];
  await cascade(image(2), {
    ...base({ denoise: counting, steps: 4, onProgress: (e) => events.push(e) }),
    passes: [20, 10, 10],
    onPass: (p) => passes.push(p.pass),
  });
  assert.equal(calls.length, 12);
  assert.deepEqual(calls.slice(0, 4), [20, 15, 10, 5]);
  assert.deepEqual(passes, [1, 2, 3]);
  assert.deepEqual(
    events.map((e) => e.pass),
    [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3],
  );
  assert.ok(events.every((e) => e.passes === 3));
  calls.length = 0;
  await cascade(image(2), { ...base({ denoise: counting, steps: 15 }), passes: [20, 5] }); // 15 + min(15, 5)
  assert.equal(calls.length, 20);
  calls.length = 0;
  await cascade(image(2), { ...base({ denoise: counting }), passes: cascadeTs(8, 3) }); // full: 3 × 8
  assert.equal(calls.length, 24);
});

test('cascade with one pass equals boomerang with the same seed', async () => {
  const a = await cascade(image(3), { ...base({ rng: createRng(4) }), passes: [50] });
  const b = await boomerang(image(3), base({ rng: createRng(4) }));
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
});

test('cascadeTs repeats the per-pass t (paper §6.2)', () => {
  assert.deepEqual(cascadeTs(100, 3), [100, 100, 100]);
  assert.deepEqual(cascadeTs(50, 1), [50]);
  assert.throws(
    () => cascadeTs(100, 0),
    (e: unknown) => e instanceof UsageError && e.message === 'Expected positive integer for passes but received 0',
  );
  assert.throws(
    () => cascadeTs(0, 2),
    (e: unknown) => e instanceof UsageError && e.message === 'Expected positive integer for t but received 0',
  );
});

test('invalid options are usage errors with exact messages, before any model call', async () => {
  let calls = 0;
  const denoise: Denoise = async (xt, t) => {
    calls++;
    return blurry(xt, t);
  };
  const rejects = (o: Partial<BoomerangOptions>, m: string) =>
    assert.rejects(boomerang(image(1), base({ denoise, ...o })), (e: unknown) => e instanceof UsageError && e.message === m);
  await rejects({ t: 0 }, 'Expected integer t in 1..999 but received 0');
  await rejects({ t: 1000 }, 'Expected integer t in 1..999 but received 1000');
  await rejects({ steps: 0 }, 'Expected positive integer for steps but received 0');
  await rejects({ sampler: 'ddim', eta: 1.5 }, 'Expected eta in 0..1 but received 1.5');
  await rejects({ prediction: 'score' as PredictionKind }, 'Expected prediction eps, x0 or v but received score');
  await assert.rejects(
    cascade(image(1), { ...base({ denoise }), passes: [10, 0] }),
    (e: unknown) => e instanceof UsageError && e.message === 'Expected integer t in 1..999 but received 0',
  );
  assert.equal(calls, 0);
});

test('a model output of the wrong shape is a ModelError', async () => {
  await assert.rejects(
    boomerang(image(1), base({ denoise: async () => createImage(3, 8, 4) })),
    (e: unknown) => e instanceof ModelError && e.message === 'Expected denoise output of shape 3x8x8 but received 3x8x4',
  );
});

test('an AbortSignal stops the loop between model evaluations', async () => {
  const controller = new AbortController();
  let calls = 0;
  const denoise: Denoise = async (xt, t) => {
    if (++calls === 3) controller.abort();
    return blurry(xt, t);
  };
  await assert.rejects(boomerang(image(1), base({ denoise, signal: controller.signal })), AbortError);
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(cascade(image(1), { ...base({ denoise, signal: AbortSignal.abort() }), passes: [10, 10] }), AbortError);
  assert.equal(calls, 0);
});
