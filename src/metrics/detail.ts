/**
 * Two measures of detail with no learned weights, both on one plane of 0..255 values (Y in the
 * evaluation protocol), `shave` pixels removed from each border first.
 *
 * detailRatio — how much high-frequency energy the output has relative to the ground truth:
 *   H(I) = I − G_σ * I, with G_σ the 11×11 Gaussian (σ = 1.5, the SSIM window), evaluated only where
 *   the window fits (valid positions, so no border rule); E(I) = mean of H(I)² over those positions;
 *   detailRatio(sr, hr) = E(sr) / E(hr). 1.0 = as much fine detail as the truth, < 1 = smoother
 *   (e.g. bicubic), > 1 = more (noise, ringing or hallucinated texture). It says nothing about whether
 *   the detail is the right one — read it next to PSNR/SSIM/GMSD. When E(hr) = 0 (a flat reference) the
 *   ratio is 1 if E(sr) = 0 too and Infinity otherwise.
 *
 * gmsd — Gradient Magnitude Similarity Deviation (Xue, Zhang, Mou & Bovik 2014), following the
 *   authors' GMSD.m: both planes 2×2-averaged and subsampled by 2 (odd sizes: the last row/column
 *   averages with zeros, as conv2 'same' does), gradient magnitudes from Prewitt filters
 *   [1 0 −1; 1 0 −1; 1 0 −1]/3 and their transpose (zero padding, 'same' size),
 *   GMS = (2·m_sr·m_hr + c) / (m_sr² + m_hr² + c) with c = 170, and GMSD = the standard deviation of the
 *   GMS map — population (1/N) as in the paper's eq. (8); GMSD.m's std2 uses 1/(N − 1), which differs
 *   only by a factor sqrt(N/(N − 1)). 0 for identical planes; lower is better.
 */
import { filterValid, gaussianKernel } from './filter.js';
import { assertSameSize, shavePlane, type Plane } from './plane.js';

export interface DetailOptions {
  /** Pixels removed from each border before measuring. Default 0. */
  shave?: number;
}

const BLUR = gaussianKernel(5, 1.5);
const GMS_C = 170;

/** Mean squared high-pass response, I − G_1.5 * I, over valid positions (see the module comment). */
export function highFrequencyEnergy(plane: Plane): number {
  const blurred = filterValid(plane, BLUR);
  const off = (BLUR.length - 1) / 2;
  let sum = 0;
  for (let y = 0; y < blurred.height; y++) {
    for (let x = 0; x < blurred.width; x++) {
      const d = plane.data[(y + off) * plane.width + x + off]! - blurred.data[y * blurred.width + x]!;
      sum += d * d;
    }
  }
  return sum / blurred.data.length;
}

/** E(sr) / E(hr): the output's high-frequency energy over the ground truth's (1 = as much detail). */
export function detailRatio(sr: Plane, hr: Plane, options: DetailOptions = {}): number {
  assertSameSize(sr, hr);
  const shave = options.shave ?? 0;
  const eSr = highFrequencyEnergy(shavePlane(sr, shave, BLUR.length));
  const eHr = highFrequencyEnergy(shavePlane(hr, shave, BLUR.length));
  if (eHr === 0) return eSr === 0 ? 1 : Infinity;
  return eSr / eHr;
}

/** 2×2 average then keep every second sample (GMSD.m's conv2(Y, ones(2)/4, 'same')(1:2:end, 1:2:end)). */
function halve(p: Plane): Plane {
  const w = Math.ceil(p.width / 2);
  const h = Math.ceil(p.height / 2);
  const out = new Float64Array(w * h);
  const at = (y: number, x: number): number => (y < p.height && x < p.width ? p.data[y * p.width + x]! : 0);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[y * w + x] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
    }
  }
  return { width: w, height: h, data: out };
}

/** Prewitt gradient magnitude, zero padding, same size. */
function gradientMagnitude(p: Plane): Float64Array {
  const { width: w, height: h, data } = p;
  const at = (y: number, x: number): number => (y >= 0 && y < h && x >= 0 && x < w ? data[y * w + x]! : 0);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let gx = 0;
      let gy = 0;
      for (let d = -1; d <= 1; d++) {
        gx += at(y + d, x + 1) - at(y + d, x - 1);
        gy += at(y + 1, x + d) - at(y - 1, x + d);
      }
      out[y * w + x] = Math.hypot(gx / 3, gy / 3);
    }
  }
  return out;
}

/** Gradient Magnitude Similarity Deviation of `sr` against `hr` (0 = identical; lower is better). */
export function gmsd(sr: Plane, hr: Plane, options: DetailOptions = {}): number {
  assertSameSize(sr, hr);
  const shave = options.shave ?? 0;
  const mSr = gradientMagnitude(halve(shavePlane(sr, shave)));
  const mHr = gradientMagnitude(halve(shavePlane(hr, shave)));
  const n = mSr.length;
  const gms = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const a = mSr[i]!;
    const b = mHr[i]!;
    gms[i] = (2 * a * b + GMS_C) / (a * a + b * b + GMS_C);
    mean += gms[i]!;
  }
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (gms[i]! - mean) ** 2;
  return Math.sqrt(v / n);
}
