/**
 * The denoiser blends tiles straight into one float32 image (1/Σw computed once per plan) instead of
 * float64 Σw·v and Σw planes per step. Check it against the reference blend built from tiling.ts's accumulator,
 * with a model whose output depends on the whole tile (so overlaps really disagree and weights matter).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createImage } from '../src/image/tensor.js';
import { accumulateTile, createAccumulator, crop, extractTile, normaliseAccumulator, padReflect } from '../src/image/tiling.js';
import { createDenoiser } from '../src/model/denoiser.js';
import type { ModelSession } from '../src/model/session.js';
import { fakeManifest, fakeSession } from './fake-model.js';

/** out = x·0.7 + (mean of the tile) + row/col ramp + t/1000: different in every tile at the same pixel. */
function tileAwareModel(multiple: number): ModelSession {
  return fakeSession(fakeManifest({ multiple }), async (x, batch, h, w, t) => {
    const per = 3 * h * w;
    const out = new Float32Array(x.length);
    for (let b = 0; b < batch; b++) {
      let mean = 0;
      for (let i = 0; i < per; i++) mean += x[b * per + i]!;
      mean /= per;
      for (let i = 0; i < per; i++) {
        const y = Math.floor((i % (h * w)) / w),
          xx = i % w;
        out[b * per + i] = 0.7 * x[b * per + i]! + mean + 0.01 * y - 0.02 * xx + t[b]! / 1000;
      }
    }
    return out;
  });
}

test('the fused float32 blend equals the float64 accumulator blend (odd size, padding, batches)', async () => {
  const model = tileAwareModel(8);
  const [H, W] = [101, 77]; // not multiples of 8: padded, then cropped
  const x = createImage(
    3,
    H,
    W,
    new Float32Array(3 * H * W).map((_, i) => Math.sin(i * 0.013) * 0.9),
  );
  // overlap 24 of 32: up to four tiles per axis share a pixel, so Σw ≠ 1 and the normalisation matters
  for (const opts of [
    { tile: 32, overlap: 8, batch: 1 },
    { tile: 40, overlap: 16, batch: 3 },
    { tile: 32, overlap: 24, batch: 2 },
  ]) {
    const d = createDenoiser(model, H, W, opts);
    assert.ok(d.plan.tiles.length > 4);
    const got = await d.denoise(x, 50);
    // reference: pad, run every tile, Σ w·v / Σ w in float64, crop
    const { paddedHeight: ph, paddedWidth: pw, tiles } = d.plan;
    const padded = padReflect(x, ph - H, pw - W);
    const acc = createAccumulator(3, ph, pw);
    for (const tl of tiles) {
      const v = await model.run(extractTile(padded, tl).data, 1, tl.height, tl.width, [50]);
      accumulateTile(acc, createImage(3, tl.height, tl.width, v), tl);
    }
    const want = crop(normaliseAccumulator(acc), 0, 0, H, W);
    assert.deepEqual(got.shape, [3, H, W]);
    let worst = 0;
    for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!));
    assert.ok(worst < 2e-6, `max difference ${worst} with ${JSON.stringify(opts)}`);
  }
});

test('each denoise call returns its own image (a later call does not change an earlier result)', async () => {
  const model = tileAwareModel(8);
  const d = createDenoiser(model, 64, 64, { tile: 32, overlap: 8 });
  const x = createImage(3, 64, 64, new Float32Array(3 * 64 * 64).fill(0.25));
  const a = await d.denoise(x, 10);
  const copy = Float32Array.from(a.data);
  await d.denoise(x, 900);
  assert.deepEqual(a.data, copy);
});
