/**
 * Scores that need no ground truth, for one candidate output of an input (the LR image) at a factor f:
 *
 * - fidelity: PSNR-Y (dB) of the output degraded the way the model assumes, MATLAB-style bicubic downscaling by f
 *   (`matlabImresize(sr, 1/f)`, antialiased, on 8-bit values), against the input. High = the output explains the
 *   input; an output that invents detail the input contradicts scores lower. Both on BT.601 Y, no border shave.
 * - detail: the detail ratio (src/metrics/detail.ts) of the output against the input enlarged by the centre-aligned
 *   bicubic upsampler (what Boomerang starts from), on Y, f pixels shaved: 1 = as much fine detail as bicubic,
 *   above 1 = more. It says how much detail there is, not whether it is right.
 * - invention: the mean per-pixel luma standard deviation across the K samples (grey levels; src/explore/
 *   uncertainty.ts), or null with one sample: how much of the output the model made up rather than read from the
 *   input.
 */
import { dims, type ImageTensor } from '../image/tensor.js';
import { matlabImresize } from '../image/upsample.js';
import { lumaBt601 } from '../metrics/color.js';
import { detailRatio } from '../metrics/detail.js';
import { fromImageTensor, type Plane } from '../metrics/plane.js';
import { psnr } from '../metrics/psnr.js';
import type { UncertaintyMap } from '../metrics/uncertainty.js';

/** A candidate's ground-truth-free scores (see the module comment). */
export interface ExploreScores {
  /** PSNR-Y (dB) of the output bicubic-downscaled by the factor against the input; Infinity when equal. */
  fidelity: number;
  /**
   * High-frequency energy of the output over that of the bicubic enlargement (1 = as much as bicubic); null for an
   * output under 11×11 pixels (the measure's window does not fit).
   */
  detail: number | null;
  /** Mean per-pixel luma std across the samples (grey levels), or null for one sample. */
  invention: number | null;
}

/** Y of an RGB tensor in 0..255, rounded to 8-bit levels first (as the written files are). */
export const lumaOf = (image: ImageTensor): Plane => lumaBt601(fromImageTensor(image, { quantize: true }));

/**
 * The scores of `sr`, an enlargement of `lr` by `factor`; `bicubicY` is the luma of the bicubic enlargement
 * (computed once per input), `uncertainty` the map of its samples or null.
 */
export function scoreCandidate(
  sr: ImageTensor,
  lr: ImageTensor,
  factor: number,
  bicubicY: Plane,
  uncertainty: UncertaintyMap | null,
): ExploreScores {
  const down = matlabImresize(sr, 1 / factor);
  const a = dims(down);
  const b = dims(lr);
  if (a.height !== b.height || a.width !== b.width) {
    throw new Error(`internal: the downscaled output is ${a.width}x${a.height}, the input ${b.width}x${b.height}`);
  }
  const { height, width } = dims(sr);
  // the detail ratio's window needs 11 pixels after the shave: small images are measured with less shaved
  const shave = Math.min(factor, Math.max(0, Math.floor((Math.min(height, width) - 11) / 2)));
  return {
    fidelity: psnr(lumaOf(down), lumaOf(lr)),
    detail: Math.min(height, width) < 11 ? null : detailRatio(lumaOf(sr), bicubicY, { shave }),
    invention: uncertainty ? uncertainty.mean : null,
  };
}
