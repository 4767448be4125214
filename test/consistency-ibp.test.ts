import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backProject } from '../src/diffusion/consistency.js';
import { createImage } from '../src/image/tensor.js';
import { resize } from '../src/image/upsample.js';

const H = 64;
const x = createImage(
  3,
  H,
  H,
  new Float32Array(3 * H * H).map((_, i) => 0.8 * Math.sin(i * 0.013)),
);
const y = resize(
  createImage(
    3,
    H,
    H,
    new Float32Array(3 * H * H).map((_, i) => 0.5 * Math.cos(i * 0.007)),
  ),
  16,
  16,
  'bicubic',
  { antialias: true },
);
const maxErr = (img: typeof x) => {
  const d = resize(img, 16, 16, 'bicubic', { antialias: true });
  return d.data.reduce((m, v, i) => Math.max(m, Math.abs(v - y.data[i]!)), 0);
};

test('back-projection moves D·x towards y at every iteration and converges', () => {
  const e0 = maxErr(x);
  const e1 = maxErr(backProject(x, y, 4));
  const e10 = maxErr(backProject(x, y, 4, 10));
  assert.ok(e1 < e0 / 2, `one iteration: ${e0} -> ${e1}`);
  assert.ok(e10 < 1e-3, `ten iterations: ${e10}`);
});

test('an image already consistent with y is left unchanged', () => {
  const c = backProject(x, y, 4, 30);
  const again = backProject(c, y, 4);
  assert.ok(again.data.every((v, i) => Math.abs(v - c.data[i]!) < 1e-4));
});

test('a wrongly sized LR image is a usage error', () => {
  assert.throws(() => backProject(x, y, 2), /Expected LR image of 3x32x32 for a 3x64x64 image at factor 2 but received 3x16x16/);
});
