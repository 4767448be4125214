import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../src/errors.js';
import { byteToUnit, createImage, type ImageTensor, unitToByte } from '../src/image/tensor.js';
import { axisWeights, downsampleAverage, KERNELS, matlabImresize, replicateNearest, resize, upsample } from '../src/image/upsample.js';

function fromFn(c: number, h: number, w: number, f: (c: number, y: number, x: number) => number): ImageTensor {
  const img = createImage(c, h, w);
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[(k * h + y) * w + x] = f(k, y, x);
  return img;
}

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected} but received ${actual}`);
}

describe('upsample', () => {
  it('keeps a constant image constant for every kernel', () => {
    const img = fromFn(2, 5, 7, () => 0.3);
    for (const k of KERNELS) {
      const out = upsample(img, 3, k);
      assert.deepEqual(out.shape, [2, 15, 21]);
      for (const v of out.data) assertClose(v, 0.3, 1e-6, k);
    }
  });

  it('reproduces a linear ramp with no shift in the interior (bilinear, bicubic)', () => {
    const W = 16;
    const ramp = (x: number): number => -0.9 + 0.1 * x; // value at input pixel centre x
    const img = fromFn(3, 6, W, (_c, _y, x) => ramp(x));
    for (const k of ['bilinear', 'bicubic'] as const) {
      const out = upsample(img, 4, k);
      assert.deepEqual(out.shape, [3, 24, 64]);
      let checked = 0;
      for (let ox = 0; ox < 64; ox++) {
        const u = (ox + 0.5) / 4 - 0.5; // output pixel centre in input coordinates
        // interior: every tap inside the image (bilinear needs [0, W-1], bicubic [1, W-2))
        if (k === 'bilinear' ? u < 0 || u > W - 1 : u < 1 || u >= W - 2) continue;
        checked++;
        for (let c = 0; c < 3; c++)
          for (let oy = 0; oy < 24; oy++) {
            assertClose(out.get(c, oy, ox), ramp(u), 1e-5, `${k} at x=${ox}`);
          }
      }
      assert.ok(checked >= 48, `${k} checked ${checked} columns`);
    }
    // the edges are clamped, not extrapolated: the leftmost output column equals the first input pixel
    assertClose(upsample(img, 4, 'bilinear').get(0, 0, 0), ramp(0), 1e-6, 'edge');
  });

  it('replicates blocks with nearest, for even and odd factors', () => {
    const img = fromFn(1, 3, 5, (_c, y, x) => (y * 5 + x) / 20 - 0.5);
    for (const s of [2, 3, 4]) {
      const out = upsample(img, s, 'nearest');
      assert.deepEqual(out.shape, [1, 3 * s, 5 * s]);
      for (let y = 0; y < 3 * s; y++)
        for (let x = 0; x < 5 * s; x++) {
          assert.equal(out.get(0, y, x), img.get(0, Math.floor(y / s), Math.floor(x / s)));
        }
      assert.deepEqual(out.data, replicateNearest(img, s).data);
    }
  });

  it('handles 1x1 and 3x5 inputs with the right sizes', () => {
    const one = fromFn(3, 1, 1, (c) => c * 0.25);
    for (const k of KERNELS) {
      const out = upsample(one, 4, k);
      assert.deepEqual(out.shape, [3, 4, 4]);
      for (let c = 0; c < 3; c++) for (let i = 0; i < 16; i++) assertClose(out.data[c * 16 + i]!, c * 0.25, 1e-6, k);
      const odd = upsample(
        fromFn(4, 3, 5, (c, y, x) => Math.sin(c + y + 2 * x)),
        2,
        k,
      );
      assert.deepEqual(odd.shape, [4, 6, 10]);
    }
    assert.deepEqual(upsample(one, 1, 'bicubic').data, one.data);
  });

  it('interpolates bilinear midpoints by hand', () => {
    // 1x2 image [0, 1] at x2: output centres at -0.25, 0.25, 0.75, 1.25 → clamp, 0.25, 0.75, clamp
    const out = upsample(
      fromFn(1, 1, 2, (_c, _y, x) => x),
      2,
      'bilinear',
    );
    assert.deepEqual(Array.from(out.data.subarray(0, 4)), [0, 0.25, 0.75, 1]);
  });

  it('rejects bad factors and kernels with one-line messages', () => {
    const img = fromFn(1, 2, 2, () => 0);
    assert.throws(
      () => upsample(img, 2.5, 'bicubic'),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected positive integer for factor but received 2.5',
    );
    assert.throws(() => upsample(img, 0, 'bicubic'), UsageError);
    assert.throws(
      () => upsample(img, 2, 'cubic' as never),
      (e: unknown) =>
        e instanceof UsageError && e.message === "Expected one of nearest, bilinear, bicubic, lanczos for kernel but received 'cubic'",
    );
  });
});

describe('axisWeights', () => {
  it('tabulates Keys bicubic (a = -0.5) at x4 by hand', () => {
    // output 9 of 4→16 is centred at 9.5/4 − 0.5 = 1.875: distances 1.875, 0.875, 0.125, 1.125 to pixels 0..3
    // k(0.125) = 1.5·0.125³ − 2.5·0.125² + 1 = 0.9638671875;  k(0.875) = 1.0048828125 − 1.9140625 + 1 = 0.0908203125
    // k(1.125) = −0.5·1.125³ + 2.5·1.125² − 4·1.125 + 2 = −0.0478515625;  k(1.875) = −0.0068359375  (sum 1)
    const t = axisWeights(4, 16, 4, 'bicubic', false, 'replicate');
    const row = new Map<number, number>();
    for (let k = 0; k < t.taps; k++) {
      const i = t.index[9 * t.taps + k]!;
      row.set(i, (row.get(i) ?? 0) + t.weight[9 * t.taps + k]!);
    }
    assertClose(row.get(0)!, -0.0068359375, 1e-12, 'w0');
    assertClose(row.get(1)!, 0.0908203125, 1e-12, 'w1');
    assertClose(row.get(2)!, 0.9638671875, 1e-12, 'w2');
    assertClose(row.get(3)!, -0.0478515625, 1e-12, 'w3');
  });
});

describe('resize', () => {
  it('produces the requested size and keeps constants for every kernel, shrinking and growing', () => {
    const img = fromFn(3, 9, 12, () => -0.4);
    for (const k of KERNELS)
      for (const antialias of [true, false]) {
        const out = resize(img, 5, 17, k, { antialias });
        assert.deepEqual(out.shape, [3, 5, 17]);
        for (const v of out.data) assertClose(v, -0.4, 1e-6, `${k} ${antialias}`);
      }
  });

  it('with nearest + antialias, shrinking by an integer is the block mean', () => {
    const img = fromFn(2, 6, 8, (c, y, x) => Math.cos(c + 0.7 * y + 1.3 * x));
    const a = resize(img, 3, 4, 'nearest', { antialias: true });
    const b = downsampleAverage(img, 2);
    for (let i = 0; i < a.data.length; i++) assertClose(a.data[i]!, b.data[i]!, 1e-6, `i=${i}`);
  });
});

describe('matlabImresize', () => {
  it('keeps a constant image constant at several scales', () => {
    const img = fromFn(3, 12, 9, () => byteToUnit(77));
    for (const scale of [0.5, 0.25, 1 / 3, 2])
      for (const uint8 of [true, false]) {
        const out = matlabImresize(img, scale, { uint8 });
        assert.deepEqual(out.shape, [3, Math.ceil(12 * scale), Math.ceil(9 * scale)]);
        for (const v of out.data) assertClose(v, byteToUnit(77), 1e-6, `scale ${scale}`);
      }
  });

  // At scale 1/2 the cubic is widened to support 4: h(x) = ½·k(x/2). Output 0 is centred at 0.5, so taps
  // j = −3..4 sit at distances 3.5, 2.5, 1.5, 0.5, 0.5, 1.5, 2.5, 3.5, with weights ½k(1.75), ½k(1.25), …:
  //   a = ½k(1.75) = −0.01171875, b = ½k(1.25) = −0.03515625, c = ½k(0.75) = 0.11328125, d = ½k(0.25) = 0.43359375
  // (k(0.25) = 0.8671875, k(0.75) = 0.2265625, k(1.25) = −0.0703125, k(1.75) = −0.0234375; 2(a+b+c+d) = 1).
  // Taps outside the image take the edge pixel, so pixel 0 gets a+b+c+d = 0.5 in output 0, and a+b = −0.046875
  // in output 1 (centred at 2.5, taps −1..6).
  it('matches hand-computed values on 8x8 impulses (double mode)', () => {
    const corner = fromFn(1, 8, 8, (_c, y, x) => (y === 0 && x === 0 ? 1 : 0));
    const out = matlabImresize(corner, 0.5, { uint8: false });
    assert.deepEqual(out.shape, [1, 4, 4]);
    assertClose(out.get(0, 0, 0), 0.25, 1e-7, '(0,0)');
    assertClose(out.get(0, 0, 1), 0.5 * -0.046875, 1e-7, '(0,1)');
    assertClose(out.get(0, 1, 1), 0.046875 * 0.046875, 1e-7, '(1,1)');
    // interior impulse at (3,4): output (1,2) is centred at (2.5, 4.5), distance 0.5 on both axes → d²
    const inner = fromFn(1, 8, 8, (_c, y, x) => (y === 3 && x === 4 ? 1 : 0));
    const o2 = matlabImresize(inner, 0.5, { uint8: false });
    assertClose(o2.get(0, 1, 2), 0.43359375 ** 2, 1e-7, 'd²');
    assertClose(o2.get(0, 1, 1), 0.43359375 * 0.11328125, 1e-7, 'd·c');
  });

  it('matches hand-computed uint8 values, with edges replicated (not mirrored)', () => {
    // rows g = [100, 100, 0, 0, 0, 0, 0, 0] (constant along x), in bytes; with a..d as above:
    //  out 0: taps −3..1 are 100 → 100(a+b+c+2d) = 93.359375 → 93   (mirrored edges would give 94.53 → 95)
    //  out 1: taps −1..1 are 100 → 100(a+b+c) = 6.640625 → 7
    //  out 2: tap 1 only → 100a = −1.17 → clamped to 0;  out 3: 0
    const g = [100, 100, 0, 0, 0, 0, 0, 0];
    const img = fromFn(3, 8, 8, (_c, y) => byteToUnit(g[y]!));
    const out = matlabImresize(img, 0.5);
    for (let c = 0; c < 3; c++)
      for (let x = 0; x < 4; x++) {
        assert.deepEqual(
          [0, 1, 2, 3].map((y) => unitToByte(out.get(c, y, x))),
          [93, 7, 0, 0],
        );
      }
    // a vertical step 40 | 200 at x = 4: 40 + 160a = 38.125 → 38; 40 + 160(a+b+c) = 50.625 → 51; 189; 202
    const step = fromFn(1, 8, 8, (_c, _y, x) => byteToUnit(x < 4 ? 40 : 200));
    const s = matlabImresize(step, 0.5);
    assert.deepEqual(
      [0, 1, 2, 3].map((x) => unitToByte(s.get(0, 2, x))),
      [38, 51, 189, 202],
    );
  });

  it('rounds the intermediate (rows) pass to uint8, as MATLAB does', () => {
    // 1 column: rows first give 93.359375 → 93, then an identity-width column pass keeps 93.
    // In double mode the same pixel stays at 93.359375.
    const g = [100, 100, 0, 0, 0, 0, 0, 0];
    const img = fromFn(1, 8, 1, (_c, y) => byteToUnit(g[y]!));
    assert.equal(unitToByte(matlabImresize(img, 0.5).get(0, 0, 0)), 93);
    assertClose((matlabImresize(img, 0.5, { uint8: false }).get(0, 0, 0) + 1) * 127.5, 93.359375, 1e-4, 'double');
  });

  it('rejects a bad scale', () => {
    assert.throws(
      () =>
        matlabImresize(
          fromFn(1, 2, 2, () => 0),
          -1,
        ),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected positive number for scale but received -1',
    );
  });
});

describe('downsampleAverage / replicateNearest (A and A⁺)', () => {
  it('A·A⁺ = I exactly', () => {
    const y = fromFn(3, 5, 7, (c, r, x) => Math.sin(1 + c * 7 + r * 1.3 + x * 0.37));
    for (const s of [1, 2, 3, 4]) {
      const up = replicateNearest(y, s);
      assert.deepEqual(up.shape, [3, 5 * s, 7 * s]);
      assert.deepEqual(downsampleAverage(up, s).data, y.data);
    }
  });

  it('A averages s×s blocks (by hand) and A⁺A is idempotent', () => {
    const x = fromFn(
      1,
      2,
      4,
      (_c, y, x) =>
        [
          [0, 0.5, -1, 1],
          [0.25, 0.25, 0, 0],
        ][y]![x]!,
    );
    assert.deepEqual(Array.from(downsampleAverage(x, 2).data), [0.25, 0]);
    const p = replicateNearest(downsampleAverage(x, 2), 2);
    assert.deepEqual(replicateNearest(downsampleAverage(p, 2), 2).data, p.data);
  });

  it('requires H and W multiples of s', () => {
    assert.throws(
      () =>
        downsampleAverage(
          fromFn(1, 6, 5, () => 0),
          2,
        ),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected height and width to be multiples of 2 but received 6x5',
    );
  });
});
