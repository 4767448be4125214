/**
 * Data consistency for super-resolution (DDNM, Wang et al. 2023, eq. 10's range/null-space split):
 * x̂0 ← x̂0 − A⁺(A·x̂0 − y), with A = factor×factor average pooling and A⁺ = nearest replication, so that
 * A·A⁺ = I and afterwards A·x̂0 = y exactly (up to float rounding). Per block this subtracts the block's
 * mean error from each of its pixels. The projected image is not clipped. Plain loops over contiguous data.
 */
import { UsageError } from '../errors.js';
import { contiguousData, createImage, dims, isContiguous, type ImageTensor } from '../image/tensor.js';
import { downsampleAverage, resize, subtractUpsampled } from '../image/upsample.js';

/** The consistency steps a reverse pass can apply: none (vanilla Boomerang), ddnm (average pooling), ibp (bicubic). */
export const CONSISTENCY_KINDS = ['none', 'ddnm', 'ibp'] as const;
/** One of CONSISTENCY_KINDS. */
export type Consistency = (typeof CONSISTENCY_KINDS)[number];

/** A·x: factor×factor average pooling (the image stage's downsampleAverage). */
export const averagePool = downsampleAverage;

/**
 * Returns x̂0 − A⁺(A·x̂0 − y). `y` is the LR image in [-1, 1], of shape [C, H/factor, W/factor].
 * Writes into `out` when given (it may be x0hat itself).
 */
export function projectConsistency(x0hat: ImageTensor, y: ImageTensor, factor: number, out?: ImageTensor): ImageTensor {
  const { channels: C, height: H, width: W } = dims(x0hat);
  checkLowRes([C, H, W], y, factor);
  const ly = dims(y);
  const src = contiguousData(x0hat);
  const lr = contiguousData(y);
  const target = out ?? createImage(C, H, W);
  if (target.data.length !== src.length || target.offset !== 0)
    throw new RangeError('Expected a contiguous output image of the same shape');
  const dst = target.data;
  const h = ly.height,
    w = ly.width;
  const inv = 1 / (factor * factor);
  for (let c = 0; c < C; c++) {
    for (let by = 0; by < h; by++) {
      for (let bx = 0; bx < w; bx++) {
        const base = (c * H + by * factor) * W + bx * factor;
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = base + dy * W;
          for (let dx = 0; dx < factor; dx++) sum += src[row + dx]!;
        }
        const err = sum * inv - lr[(c * h + by) * w + bx]!;
        for (let dy = 0; dy < factor; dy++) {
          const row = base + dy * W;
          for (let dx = 0; dx < factor; dx++) dst[row + dx] = src[row + dx]! - err;
        }
      }
    }
  }
  return target;
}

/** Throws UsageError unless `factor` is a positive integer and `y` is [C, H/factor, W/factor] for `shape` [C, H, W]. */
export function checkLowRes(shape: readonly number[], y: ImageTensor, factor: number): void {
  checkFactor(factor);
  const [C, H, W] = shape as [number, number, number];
  const [c, h, w] = y.shape;
  if (H % factor !== 0 || W % factor !== 0) {
    throw new UsageError(`Expected image height and width multiples of ${factor} but received ${H}x${W}`);
  }
  if (y.shape.length !== 3 || c !== C || h! * factor !== H || w! * factor !== W) {
    throw new UsageError(
      `Expected LR image of ${C}x${H / factor}x${W / factor} for a ${C}x${H}x${W} image at factor ${factor} but received ${y.shape.join('x')}`,
    );
  }
}

function checkFactor(factor: number): void {
  if (!Number.isInteger(factor) || factor < 1) throw new UsageError(`Expected positive integer for factor but received ${factor}`);
}

/**
 * Back-projection through a bicubic degradation (Irani & Peleg 1991), for LR images made by bicubic downscaling
 * (the classic benchmarks, most photos): x̂0 ← x̂0 − U(D·x̂0 − y), D = antialiased bicubic downscale by `factor`
 * (MATLAB imresize's kernel, in float), U = centre-aligned bicubic upscale. U is not D's exact pseudo-inverse, so
 * one iteration only moves x̂0 towards D·x̂0 = y; applied at every reverse step it converges over the pass.
 * Measured in a calibration (2026-11-26, CPU-trained model, 8 held-out crops ×4): +0.2 dB over the average-pooling
 * projection at the same t when the LR was made by bicubic downscaling.
 */
export function backProject(x0hat: ImageTensor, y: ImageTensor, factor: number, iterations = 1, out?: ImageTensor): ImageTensor {
  const { channels: C, height: H, width: W } = dims(x0hat);
  checkLowRes([C, H, W], y, factor);
  const target = out ?? createImage(C, H, W);
  if (!isContiguous(target) || target.data.length !== C * H * W)
    throw new RangeError('Expected a contiguous output image of the same shape');
  const lr = contiguousData(y);
  let x = x0hat;
  for (let i = 0; i < iterations; i++) {
    const down = resize(x, H / factor, W / factor, 'bicubic', { antialias: true });
    for (let j = 0; j < down.data.length; j++) down.data[j] = down.data[j]! - lr[j]!;
    const src = contiguousData(x);
    if (src !== target.data) target.data.set(src);
    subtractUpsampled(target.data, down, factor, 'bicubic'); // in place: no full-size temporary
    x = target;
  }
  if (iterations === 0 && x !== target) target.data.set(contiguousData(x));
  return target;
}
