import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../src/errors.js';
import { createImage, type ImageTensor } from '../src/image/tensor.js';
import {
  accumulateTile,
  blendWeights1d,
  createAccumulator,
  crop,
  extractTile,
  normaliseAccumulator,
  padReflect,
  padToMultiple,
  planTiles,
  tiles1d,
} from '../src/image/tiling.js';

function fromFn(c: number, h: number, w: number, f: (c: number, y: number, x: number) => number): ImageTensor {
  const img = createImage(c, h, w);
  for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[(k * h + y) * w + x] = f(k, y, x);
  return img;
}

/** Exact equality of values (=== so that −0 equals 0, as the merge's float sums produce +0). */
function assertSameValues(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`value ${i}: expected ${expected[i]} but received ${actual[i]}`);
  }
}

describe('tiles1d', () => {
  it('covers the length with the fewest equal tiles, spread evenly, each within the bound', () => {
    assert.deepEqual(tiles1d(10, 4, 1), [
      { start: 0, size: 4 },
      { start: 3, size: 4 },
      { start: 6, size: 4 },
    ]);
    // 4 tiles of 4 would evaluate 16 pixels; 5 of 3 (still overlapping by 1) evaluate 15
    assert.deepEqual(
      tiles1d(11, 4, 1).map((s) => s.start),
      [0, 2, 4, 6, 8],
    );
    assert.deepEqual(tiles1d(8, 8, 2), [{ start: 0, size: 8 }]);
    assert.deepEqual(tiles1d(5, 8, 2), [{ start: 0, size: 5 }]);
  });

  it('makes a 576 px side one 640 px-bounded tile, or two of 288 + overlap under a 512 bound, never 512s', () => {
    assert.deepEqual(tiles1d(576, 640, 32, 16), [{ start: 0, size: 576 }]);
    assert.deepEqual(tiles1d(576, 512, 32, 16), [
      { start: 0, size: 304 },
      { start: 272, size: 304 },
    ]);
  });

  it('covers [0, length) with equal tiles of at most `tile`, on the grid, overlapping, for many lengths', () => {
    for (const [tile, overlap, multiple] of [
      [4, 0, 1],
      [4, 1, 1],
      [8, 3, 1],
      [16, 8, 1],
      [5, 4, 1],
      [32, 8, 8],
      [32, 24, 8],
      [40, 16, 8],
      [32, 30, 8],
      [640, 32, 16],
    ] as const) {
      const lengths =
        multiple === 1 ? Array.from({ length: 60 }, (_, i) => i + 1) : Array.from({ length: 150 }, (_, i) => (i + 1) * multiple);
      for (const length of lengths) {
        const spans = tiles1d(length, tile, overlap, multiple);
        const what = `length ${length} tile ${tile} overlap ${overlap} multiple ${multiple}`;
        const covered = new Uint8Array(length);
        const size = spans[0]!.size;
        for (const s of spans) {
          assert.equal(s.size, size, what);
          assert.ok(s.size <= tile && s.size % multiple === 0, what);
          assert.ok(s.start >= 0 && s.start + s.size <= length, what);
          if (tile - overlap >= multiple) assert.equal(s.start % multiple, 0, what);
          covered.fill(1, s.start, s.start + s.size);
        }
        assert.ok(
          covered.every((v) => v === 1),
          what,
        );
        assert.equal(spans[0]!.start, 0);
        assert.equal(spans.at(-1)!.start + spans.at(-1)!.size, length);
        for (let i = 1; i < spans.length; i++) {
          assert.ok(spans[i]!.start > spans[i - 1]!.start, what);
          assert.ok(spans[i - 1]!.start + spans[i - 1]!.size - spans[i]!.start >= overlap, `overlap kept: ${what}`);
        }
        // never more evaluated pixels than the fixed-size stepping (tiles of `tile`, the last one shifted back)
        const fixed = length <= tile ? length : (Math.ceil((length - tile) / (tile - overlap)) + 1) * tile;
        assert.ok(spans.length * size <= fixed, `${what}: ${spans.length}x${size} > ${fixed}`);
      }
    }
  });

  it('rejects overlap ≥ tile and non-integers', () => {
    assert.throws(
      () => tiles1d(10, 4, 4),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected overlap smaller than tile (4) but received 4',
    );
    assert.throws(
      () => tiles1d(10, 2.5, 0),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected positive integer for tile but received 2.5',
    );
  });
});

describe('blendWeights1d', () => {
  it('ramps linearly over a regular overlap so neighbours sum to exactly 1', () => {
    const spans = tiles1d(10, 6, 2); // [0,6) and [4,10): shared pixels 4 and 5
    assert.deepEqual(Array.from(blendWeights1d(spans, 0)), [1, 1, 1, 1, 0.75, 0.25]);
    assert.deepEqual(Array.from(blendWeights1d(spans, 1)), [0.25, 0.75, 1, 1, 1, 1]);
  });

  it('is > 0 everywhere and normalises to a partition of unity', () => {
    for (const [length, tile, overlap] of [
      [13, 8, 4],
      [50, 16, 5],
      [7, 3, 2],
      [33, 8, 0],
    ] as const) {
      const spans = tiles1d(length, tile, overlap);
      const sum = new Float64Array(length);
      const parts = spans.map((s, i) => {
        const w = blendWeights1d(spans, i);
        w.forEach((v, p) => {
          assert.ok(v > 0);
          sum[s.start + p]! += v;
        });
        return w;
      });
      const normalised = new Float64Array(length);
      for (const [i, s] of spans.entries()) {
        for (const [p, v] of parts[i]!.entries()) normalised[s.start + p]! += v / sum[s.start + p]!;
      }
      for (const v of normalised) assert.ok(Math.abs(v - 1) < 1e-12);
    }
  });
});

describe('padding and cropping', () => {
  it('pads by reflection without repeating the edge', () => {
    const img = fromFn(1, 2, 3, (_c, y, x) => 10 * y + x); // [[0,1,2],[10,11,12]]
    const p = padReflect(img, 2, 3);
    assert.deepEqual(p.shape, [1, 4, 6]);
    const rows = [0, 1, 2, 3].map((y) => [0, 1, 2, 3, 4, 5].map((x) => p.get(0, y, x)));
    // x: 0 1 2 | 1 0 1 (reflect about 2, then about 0);  y: 0 1 | 0 1
    assert.deepEqual(rows, [
      [0, 1, 2, 1, 0, 1],
      [10, 11, 12, 11, 10, 11],
      [0, 1, 2, 1, 0, 1],
      [10, 11, 12, 11, 10, 11],
    ]);
    const one = padReflect(
      fromFn(2, 1, 1, (c) => c + 5),
      2,
      1,
    );
    assert.deepEqual(Array.from(one.data), [5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6]);
  });

  it('pads to a multiple and crops back to the original', () => {
    const img = fromFn(3, 13, 9, (c, y, x) => c * 100 + y * 10 + x);
    const { image, height, width } = padToMultiple(img, 8);
    assert.deepEqual(image.shape, [3, 16, 16]);
    assert.equal(height, 13);
    assert.equal(width, 9);
    assert.equal(image.get(1, 13, 0), img.get(1, 11, 0));
    assert.equal(image.get(2, 0, 15), img.get(2, 0, 1));
    assert.deepEqual(crop(image, 0, 0, height, width).data, img.data);
    assert.deepEqual(padToMultiple(img, 1).image.data, img.data);
  });

  it('crops a window and rejects one outside the image', () => {
    const img = fromFn(2, 4, 5, (c, y, x) => c * 100 + y * 10 + x);
    assert.deepEqual(Array.from(crop(img, 1, 2, 2, 2).data), [12, 13, 22, 23, 112, 113, 122, 123]);
    assert.throws(
      () => crop(img, 3, 0, 2, 1),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected a crop inside 4x5 but received 2x1 at (3, 0)',
    );
  });
});

describe('planTiles and merging', () => {
  it('plans tiles whose sizes are multiples and that cover the padded image', () => {
    const plan = planTiles(45, 70, 32, 8, 8);
    assert.equal(plan.paddedHeight, 48);
    assert.equal(plan.paddedWidth, 72);
    const covered = new Uint8Array(48 * 72);
    for (const t of plan.tiles) {
      assert.equal(t.height % 8, 0);
      assert.equal(t.width % 8, 0);
      assert.equal(t.weightY.length, t.height);
      assert.equal(t.weightX.length, t.width);
      for (let y = t.y; y < t.y + t.height; y++) covered.fill(1, y * 72 + t.x, y * 72 + t.x + t.width);
    }
    assert.ok(covered.every((v) => v === 1));
    assert.equal(plan.tiles.length, 2 * 3); // rows: [0,32),[16,48); cols: [0,32),[24,56),[40,72)
    const small = planTiles(5, 3, 16, 4, 4);
    assert.deepEqual(
      small.tiles.map((t) => [t.y, t.x, t.height, t.width]),
      [[0, 0, 8, 4]],
    );
    assert.throws(
      () => planTiles(10, 10, 30, 4, 8),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected tile to be a multiple of 8 but received 30',
    );
  });

  it('merging untouched tiles reproduces the image exactly', () => {
    const img = fromFn(3, 45, 70, (c, y, x) => Math.sin(c + 0.31 * y) * Math.cos(0.17 * x));
    const { image: padded, height, width } = padToMultiple(img, 8);
    const plan = planTiles(height, width, 24, 8, 8);
    const acc = createAccumulator(3, plan.paddedHeight, plan.paddedWidth);
    for (const t of plan.tiles) accumulateTile(acc, extractTile(padded, t), t);
    const merged = normaliseAccumulator(acc);
    assertSameValues(merged.data, padded.data);
    assertSameValues(crop(merged, 0, 0, height, width).data, img.data);
  });

  it('blends different tile values with weights that sum to 1', () => {
    // every tile contributes a constant; the merge at each pixel is a convex combination of them
    const plan = planTiles(40, 40, 16, 8, 8);
    const acc = createAccumulator(1, 40, 40);
    const ones = createAccumulator(1, 40, 40);
    plan.tiles.forEach((t, i) => {
      accumulateTile(
        acc,
        fromFn(1, t.height, t.width, () => i),
        t,
      );
      accumulateTile(
        ones,
        fromFn(1, t.height, t.width, () => 1),
        t,
      );
    });
    for (const v of normaliseAccumulator(ones).data) assert.ok(Math.abs(v - 1) < 1e-6);
    const merged = normaliseAccumulator(acc);
    for (const v of merged.data) assert.ok(v >= 0 && v <= plan.tiles.length - 1);
    assert.equal(merged.get(0, 0, 0), 0); // only tile 0 covers the corner
  });

  it('reports an uncovered pixel and a mis-sized tile', () => {
    const plan = planTiles(16, 16, 8, 0, 8);
    const acc = createAccumulator(1, 16, 16);
    accumulateTile(
      acc,
      fromFn(1, 8, 8, () => 1),
      plan.tiles[0]!,
    );
    assert.throws(
      () => normaliseAccumulator(acc),
      (e: unknown) => e instanceof UsageError && e.message === 'Expected every pixel covered by a tile but (0, 8) has none',
    );
    assert.throws(
      () =>
        accumulateTile(
          acc,
          fromFn(1, 4, 8, () => 1),
          plan.tiles[1]!,
        ),
      UsageError,
    );
  });
});
