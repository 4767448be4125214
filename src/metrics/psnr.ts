/**
 * Peak signal-to-noise ratio with peak 255: PSNR = 10·log10(255² / MSE), after removing `shave` pixels
 * from each border of both images. `psnr` measures one plane (the Y channel in the evaluation protocol);
 * `psnrRgb` pools the squared errors of all pixels of the three channels into one MSE (not a mean of
 * three PSNRs). Identical images have MSE 0 and PSNR = Infinity; callers averaging over a set must
 * decide what to do with it.
 */
import { assertPlaneCount, assertSameSize, shavePlane, type Plane } from './plane.js';

export interface PsnrOptions {
  /** Pixels removed from each border before measuring (usually the scale factor). Default 0. */
  shave?: number;
}

const PEAK = 255;

/** Mean squared error over all pixels of all planes, borders shaved. */
export function meanSquaredError(sr: readonly Plane[], hr: readonly Plane[], options: PsnrOptions = {}): number {
  assertPlaneCount(hr, sr.length, 'the reference image');
  const shave = options.shave ?? 0;
  let sum = 0;
  let count = 0;
  for (let c = 0; c < sr.length; c++) {
    assertSameSize(sr[c]!, hr[c]!);
    const a = shavePlane(sr[c]!, shave).data;
    const b = shavePlane(hr[c]!, shave).data;
    for (let i = 0; i < a.length; i++) {
      const d = a[i]! - b[i]!;
      sum += d * d;
    }
    count += a.length;
  }
  return sum / count;
}

/** PSNR (dB) = 10·log10(255² / MSE); Infinity when MSE = 0. */
export function psnrFromMse(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10((PEAK * PEAK) / mse);
}

/** PSNR of one plane (e.g. Y) against the reference plane. */
export function psnr(sr: Plane, hr: Plane, options: PsnrOptions = {}): number {
  return psnrFromMse(meanSquaredError([sr], [hr], options));
}

/** PSNR over the pooled pixels of the three RGB planes. */
export function psnrRgb(sr: readonly Plane[], hr: readonly Plane[], options: PsnrOptions = {}): number {
  assertPlaneCount(sr, 3, 'an RGB image');
  return psnrFromMse(meanSquaredError(sr, hr, options));
}
