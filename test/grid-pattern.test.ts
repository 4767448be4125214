import { test } from 'node:test';
import assert from 'node:assert/strict';
import { removeGridPattern } from '../src/model/grid-pattern.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';

const image = (h: number, w: number, f: (y: number, x: number, c: number) => number, channels = 1): ImageTensor => {
  const img = createImage(channels, h, w);
  for (let c = 0; c < channels; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[(c * h + y) * w + x] = f(y, x, c);
  return img;
};
const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `at ${i}: ${a[i]} against ${b[i]}`);
};

test('removeGridPattern: hand-computed 2x4 image, patch 2', () => {
  // blocks [[1,2],[3,4]] and [[5,6],[7,8]]: means 2.5 and 6.5, so the horizontal slope from the neighbouring block is
  // (6.5 − 2.5)/2 = 2 in both (one-sided at the borders) and the vertical 0 (one block row). What slope 2 and the
  // mean leave: (0,0) −0.5, (0,1) −1.5, (1,0) 1.5, (1,1) 0.5 in both blocks; subtracted, each block becomes its
  // mean ± the slope: [[1.5, 3.5], [1.5, 3.5]] and [[5.5, 7.5], [5.5, 7.5]].
  const want = [1.5, 3.5, 5.5, 7.5, 1.5, 3.5, 5.5, 7.5];
  for (const radius of [0, 1, 5]) {
    const img = createImage(1, 2, 4, Float32Array.from([1, 2, 5, 6, 3, 4, 7, 8]));
    near(removeGridPattern(img, 2, radius).data, want);
  }
});

test('removeGridPattern: a pattern fixed to the grid is removed from a smooth image; a plane is kept as it is', () => {
  const p = 4;
  const grid = [0.3, -0.1, 0.2, -0.4, 0.1, 0.0, -0.2, 0.1, -0.3, 0.2, 0.1, 0.0, 0.2, -0.1, 0.0, -0.1]; // zero mean
  const plane = (y: number, x: number, c: number) => 0.01 * x - 0.02 * y + 0.1 * c;
  const withGrid = image(32, 48, (y, x, c) => plane(y, x, c) + grid[(y % p) * p + (x % p)]!, 3);
  near(removeGridPattern(withGrid, p, 2).data, image(32, 48, plane, 3).data);
  const flat = image(32, 48, plane, 3);
  near(removeGridPattern(image(32, 48, plane, 3), p, 2).data, flat.data);
});

test('removeGridPattern: block means are unchanged, patch 1 is the identity, and bad arguments are refused', () => {
  let s = 7;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  const img = image(16, 24, () => rnd(), 2);
  const before = Float32Array.from(img.data);
  removeGridPattern(img, 4, 1);
  for (let c = 0; c < 2; c++) {
    for (let by = 0; by < 4; by++) {
      for (let bx = 0; bx < 6; bx++) {
        let a = 0;
        let b = 0;
        for (let y = 0; y < 4; y++) {
          for (let x = 0; x < 4; x++) {
            const i = (c * 16 + by * 4 + y) * 24 + bx * 4 + x;
            a += before[i]!;
            b += img.data[i]!;
          }
        }
        assert.ok(Math.abs(a - b) < 1e-5);
      }
    }
  }
  assert.notDeepEqual(Array.from(img.data), Array.from(before));
  const same = image(4, 4, (y, x) => y * x);
  near(removeGridPattern(same, 1, 3).data, image(4, 4, (y, x) => y * x).data, 0);
  assert.throws(
    () =>
      removeGridPattern(
        image(6, 8, () => 0),
        4,
        1,
      ),
    /multiples of 4/,
  );
  assert.throws(
    () =>
      removeGridPattern(
        image(8, 8, () => 0),
        4,
        -1,
      ),
    /non-negative integer for radius/,
  );
});
