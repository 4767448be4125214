/**
 * Separable linear filtering on planes: the normalised 1-D Gaussian kernel (SSIM's window, the detail
 * ratio's blur) and 'valid' separable correlation (only window positions wholly inside the plane, so no
 * border rule is involved; the output is (width − k + 1) × (height − k + 1)).
 */
import { UsageError } from '../errors.js';
import { createPlane, type Plane } from './plane.js';

/** The sampled Gaussian exp(−x²/2σ²) for x = −radius..radius, normalised to sum 1. */
export function gaussianKernel(radius: number, sigma: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** The plane correlated with kernel ⊗ kernel (rows, then columns), valid positions only. */
export function filterValid(plane: Plane, kernel: Float64Array): Plane {
  const { width, height, data } = plane;
  const k = kernel.length;
  const ow = width - k + 1;
  const oh = height - k + 1;
  if (ow < 1 || oh < 1) {
    throw new UsageError(`Expected a plane of at least ${k}x${k} but received ${width}x${height}`);
  }
  const rows = new Float64Array(height * ow);
  for (let y = 0; y < height; y++) {
    const src = y * width;
    const dst = y * ow;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += kernel[j]! * data[src + x + j]!;
      rows[dst + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let j = 0; j < k; j++) {
    const w = kernel[j]!;
    for (let y = 0; y < oh; y++) {
      const src = (y + j) * ow;
      const dst = y * ow;
      for (let x = 0; x < ow; x++) out[dst + x]! += w * rows[src + x]!;
    }
  }
  return createPlane(ow, oh, out);
}
