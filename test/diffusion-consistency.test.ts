import { test } from 'node:test';
import assert from 'node:assert/strict';
import ndarray from 'ndarray';
import { averagePool, projectConsistency } from '../src/diffusion/consistency.js';
import { createRng } from '../src/diffusion/rng.js';
import { createImage } from '../src/image/tensor.js';
import { UsageError } from '../src/errors.js';

test('projection by hand: one 2×2 block', () => {
  // mean(1, 2, 3, 4) = 2.5, y = 0.5 → error 2 subtracted from every pixel; not clipped
  const x = createImage(1, 2, 2, new Float32Array([1, 2, 3, 4]));
  const p = projectConsistency(x, createImage(1, 1, 1, new Float32Array([0.5])), 2);
  assert.deepEqual(Array.from(p.data), [-1, 0, 1, 2]);
  assert.deepEqual(Array.from(x.data), [1, 2, 3, 4]); // input untouched
});

test('after projection A·x̂0 equals y, and the null-space part is kept', () => {
  const rng = createRng(11);
  const factor = 4;
  const x = createImage(
    3,
    16,
    12,
    new Float32Array(3 * 16 * 12).map(() => rng.nextFloat() * 2 - 1),
  );
  const y = createImage(
    3,
    4,
    3,
    new Float32Array(3 * 4 * 3).map(() => rng.nextFloat() * 2 - 1),
  );
  const p = projectConsistency(x, y, factor);
  const ap = averagePool(p, factor);
  for (let i = 0; i < y.data.length; i++) assert.ok(Math.abs(ap.data[i]! - y.data[i]!) < 1e-6);
  // x − p is constant within each block (A⁺ of the error)
  for (let c = 0; c < 3; c++)
    for (let yy = 0; yy < 16; yy++)
      for (let xx = 0; xx < 12; xx++) {
        const d = x.get(c, yy, xx) - p.get(c, yy, xx);
        const d0 = x.get(c, yy - (yy % 4), xx - (xx % 4)) - p.get(c, yy - (yy % 4), xx - (xx % 4));
        assert.ok(Math.abs(d - d0) < 1e-6);
      }
  // in place gives the same, and a non-contiguous view is handled
  const inPlace = projectConsistency(x, y, factor, x);
  assert.equal(inPlace, x);
  assert.deepEqual(Array.from(x.data), Array.from(p.data));
  const t = ndarray(new Float32Array([1, 3, 2, 4]), [1, 2, 2], [4, 1, 2]); // transposed view of [[1,2],[3,4]]
  assert.deepEqual(Array.from(projectConsistency(t, createImage(1, 1, 1, new Float32Array([0])), 2).data), [-1.5, -0.5, 0.5, 1.5]);
});

test('shape and factor errors', () => {
  const x = createImage(3, 8, 8);
  const usage = (m: string) => (e: unknown) => e instanceof UsageError && e.message === m;
  assert.throws(
    () => projectConsistency(x, createImage(3, 2, 3), 4),
    usage('Expected LR image of 3x2x2 for a 3x8x8 image at factor 4 but received 3x2x3'),
  );
  assert.throws(() => projectConsistency(x, createImage(3, 2, 2), 2.5), usage('Expected positive integer for factor but received 2.5'));
  assert.throws(
    () => projectConsistency(x, createImage(3, 2, 2), 3),
    usage('Expected image height and width multiples of 3 but received 8x8'),
  );
});
