/**
 * SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) on one plane of 0..255 values: 11×11 Gaussian window
 * σ = 1.5 (normalised), K1 = 0.01, K2 = 0.03, L = 255, population (biased) local variances and
 * covariance, averaged over the 'valid' window positions only — the same figure as scikit-image's
 * `structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
 * data_range=255)` and MATLAB's `ssim_index.m`. `shave` pixels are removed from each border first.
 *
 * Computed in two separable passes (rows, then columns) that carry the five windowed moments together
 * and sum the SSIM map on the fly: ~45 ms for a 512×512 plane on a loaded 2-core machine.
 *
 * Why not ssim.js 3.5.0 (a dependency of the project): it accepts only RGBA pixels and always converts
 * them to its own full-range integer grey, (77R + 150G + 29B + 128) >> 8, so a float64 BT.601 Y plane
 * cannot be given to it as is. Measured on fixtures/metric-check (Y shaved by 4 and written to
 * R = G = B), against the scikit-image references in expected.json:
 *   defaults ('weber', downsampled to 256 px)              +3.7e-2 … +9.4e-2
 *   { ssim: 'weber', downsample: false }                   +3.7e-2 … +9.3e-2
 *   { ssim: 'original' | 'fast', downsample: false }       −6.4e-4 … −1.25e-3 (Y rounded to integers)
 * No configuration reaches 1e-4. Only an encoding trick does — R = G = B = Y·257 with bitDepth 16, so
 * that its grey conversion keeps Y to 1/257 of a level and L = 65535 = 255·257 — giving |Δ| ≤ 5e-6, but
 * it depends on ssim.js internals, still quantises Y, and took ~260 ms for 512×512 against ~45 ms here.
 */
import { gaussianKernel } from './filter.js';
import { assertSameSize, shavePlane, type Plane } from './plane.js';

export interface SsimOptions {
  /** Pixels removed from each border before measuring. Default 0. */
  shave?: number;
}

const RADIUS = 5; // 11×11 window
const SIGMA = 1.5;
const L = 255;
const C1 = (0.01 * L) ** 2;
const C2 = (0.03 * L) ** 2;
const KERNEL = gaussianKernel(RADIUS, SIGMA);

/** Mean SSIM of `sr` against `hr` (1 for identical planes). Planes must be at least 11×11 after shaving. */
export function ssim(sr: Plane, hr: Plane, options: SsimOptions = {}): number {
  assertSameSize(sr, hr);
  const shave = options.shave ?? 0;
  const k = KERNEL.length;
  const { width, height, data: a } = shavePlane(sr, shave, k);
  const b = shavePlane(hr, shave, k).data;
  const ow = width - k + 1;
  const oh = height - k + 1;
  // Pass 1, along rows: the five windowed moments a, b, a², b², ab, for every row and valid column.
  const n = height * ow;
  const hA = new Float64Array(n);
  const hB = new Float64Array(n);
  const hAA = new Float64Array(n);
  const hBB = new Float64Array(n);
  const hAB = new Float64Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let sa = 0,
        sb = 0,
        saa = 0,
        sbb = 0,
        sab = 0;
      for (let j = 0, i = y * width + x; j < k; j++, i++) {
        const w = KERNEL[j]!;
        const va = a[i]!;
        const vb = b[i]!;
        const wa = w * va;
        const wb = w * vb;
        sa += wa;
        sb += wb;
        saa += wa * va;
        sbb += wb * vb;
        sab += wa * vb;
      }
      const o = y * ow + x;
      hA[o] = sa;
      hB[o] = sb;
      hAA[o] = saa;
      hBB[o] = sbb;
      hAB[o] = sab;
    }
  }
  // Pass 2, along columns, one output row at a time, then the SSIM map summed on the fly.
  const mA = new Float64Array(ow);
  const mB = new Float64Array(ow);
  const eAA = new Float64Array(ow);
  const eBB = new Float64Array(ow);
  const eAB = new Float64Array(ow);
  let sum = 0;
  for (let y = 0; y < oh; y++) {
    mA.fill(0);
    mB.fill(0);
    eAA.fill(0);
    eBB.fill(0);
    eAB.fill(0);
    for (let j = 0; j < k; j++) {
      const w = KERNEL[j]!;
      const row = (y + j) * ow;
      for (let x = 0; x < ow; x++) {
        mA[x]! += w * hA[row + x]!;
        mB[x]! += w * hB[row + x]!;
        eAA[x]! += w * hAA[row + x]!;
        eBB[x]! += w * hBB[row + x]!;
        eAB[x]! += w * hAB[row + x]!;
      }
    }
    for (let x = 0; x < ow; x++) {
      const ma = mA[x]!;
      const mb = mB[x]!;
      const varA = eAA[x]! - ma * ma;
      const varB = eBB[x]! - mb * mb;
      const cov = eAB[x]! - ma * mb;
      sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (varA + varB + C2));
    }
  }
  return sum / (ow * oh);
}
