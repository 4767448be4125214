/**
 * How much white Gaussian noise an image carries, estimated from the image alone (issue 22: `--input auto` removes
 * the noise it finds). Two estimators, both returning the noise std in grey levels (0..255 scale), the same on every
 * channel (the noise a camera or a synthetic test adds to each channel alike):
 *
 * - `pcaNoiseLevel` (the one `--input auto` uses): Chen, Zhu & Heng 2015, "An efficient statistical method for image
 *   noise level estimation" (ICCV). The covariance of the image's d×d patches (all channels of a patch in one vector)
 *   has the noise variance σ² as the floor of its spectrum: a natural image's patches span few directions, white noise
 *   spans all of them equally. Of the eigenvalues in ascending order, the largest prefix whose mean equals its median
 *   (as many above the mean as below) is taken as the noise's, and σ² is its mean. Optionally (`weakTexture`) only on
 *   the patches with little gradient (Liu, Tanaka & Okutomi 2013); `--input auto` does not use that: on the validation
 *   crops it left the highest clean estimates where they were and read noisy textured crops lower
 *   (benchmarks/results/noise-estimate-2026-12-07-weak-texture.md).
 * - `laplacianNoiseLevel`: Immerkær 1996, "Fast noise variance estimation", with a robust statistic: the image is
 *   filtered with the difference of two Laplacians N = [1 −2 1; −2 4 −2; 1 −2 1] (which removes planes and most of a
 *   smooth image), and σ = median|I∗N| / (0.6745·‖N‖₂) with ‖N‖₂ = 6 (the median of |x| is 0.6745σ for Gaussian x).
 *   Edges and texture also pass N; the median ignores them while they cover less than half the image.
 *
 * Both are pure functions of the pixels (no randomness); the PCA estimator looks at most `maxPatches` patches, taken on
 * an even grid, so its cost is bounded whatever the image's size.
 */
import { contiguousData, dims, type ImageTensor } from './tensor.js';

/** Unit values ([-1, 1]) per grey level (0..255). */
const UNIT_PER_GREY = 2 / 255;

export interface PcaNoiseOptions {
  /** Patch side d (the patch vector has channels·d² entries). Default 5. */
  patch?: number;
  /** At most this many patches, on an even grid over the image (all of them when there are fewer). Default 20,000. */
  maxPatches?: number;
  /**
   * Weak-texture patches only (Liu, Tanaka & Okutomi 2013): after the estimate from all patches, keep the patches
   * whose gradient energy is below what noise of that level alone reaches with probability 0.99, estimate again from
   * them, and repeat until the estimate settles (at most 5 rounds; stop when fewer than 2·channels·d² patches remain).
   * Default false.
   */
  weakTexture?: boolean;
}

/**
 * The noise std of `image` in grey levels by the PCA method of Chen, Zhu & Heng 2015 (see the module's comment); 0 for
 * an image smaller than one patch. A grey image in RGB (every channel the same) is read as one channel: its copies
 * would leave two thirds of the spectrum at 0, and the floor with them.
 */
export function pcaNoiseLevel(image: ImageTensor, options: PcaNoiseOptions = {}): number {
  const d = options.patch ?? 5;
  const maxPatches = options.maxPatches ?? 20_000;
  const { height, width } = dims(image);
  const data = contiguousData(image);
  const channels = sameChannels(data, dims(image).channels, height * width) ? 1 : dims(image).channels;
  const ny = height - d + 1;
  const nx = width - d + 1;
  if (ny < 1 || nx < 1) return 0;
  // an even grid of patch corners: stride s in both directions so that at most maxPatches remain
  const stride = Math.max(1, Math.ceil(Math.sqrt((ny * nx) / maxPatches)));
  const n = channels * d * d;
  const patches: Float64Array[] = [];
  for (let y = 0; y < ny; y += stride) {
    for (let x = 0; x < nx; x += stride) {
      const v = new Float64Array(n);
      let k = 0;
      for (let c = 0; c < channels; c++)
        for (let dy = 0; dy < d; dy++)
          for (let dx = 0; dx < d; dx++) v[k++] = data[(c * height + y + dy) * width + x + dx]! / UNIT_PER_GREY;
      patches.push(v);
    }
  }
  let sigma = patchNoiseLevel(patches, n);
  if (!options.weakTexture) return sigma;
  const energy = patches.map((v) => gradientEnergy(v, channels, d));
  const q = weakTextureBound(channels, d);
  for (let round = 0; round < 5; round++) {
    const bound = q * sigma * sigma;
    const weak = patches.filter((_, i) => energy[i]! <= bound);
    if (weak.length < 2 * n) break;
    const next = patchNoiseLevel(weak, n);
    const settled = Math.abs(next - sigma) <= 1e-3 * Math.max(sigma, 1e-3);
    sigma = next;
    if (settled) break;
  }
  return sigma;
}

/** Whether every channel of an image equals the first (a grey image in RGB). */
export function isGreyImage(image: ImageTensor): boolean {
  const { channels, height, width } = dims(image);
  return sameChannels(contiguousData(image), channels, height * width);
}

/** Whether every channel of a planar image equals the first. */
function sameChannels(data: Float32Array, channels: number, plane: number): boolean {
  for (let c = 1; c < channels; c++) for (let i = 0; i < plane; i++) if (data[c * plane + i] !== data[i]) return false;
  return true;
}

/** Chen, Zhu & Heng's σ from patch vectors of length n (their covariance's noise floor). */
function patchNoiseLevel(patches: readonly Float64Array[], n: number): number {
  const sum = new Float64Array(n);
  const outer = new Float64Array(n * n);
  for (const v of patches) {
    for (let i = 0; i < n; i++) {
      const vi = v[i]!;
      sum[i]! += vi;
      const row = i * n;
      for (let j = i; j < n; j++) outer[row + j]! += vi * v[j]!;
    }
  }
  const count = patches.length;
  // the covariance (upper triangle accumulated, mirrored)
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const c = outer[i * n + j]! / count - (sum[i]! / count) * (sum[j]! / count);
      cov[i * n + j] = c;
      cov[j * n + i] = c;
    }
  }
  const eig = symmetricEigenvalues(cov, n).map((e) => Math.max(0, e));
  eig.sort((p, q) => p - q);
  return Math.sqrt(noiseFloor(eig));
}

/** Sum of squared horizontal and vertical neighbour differences within a patch, over its channels. */
export function gradientEnergy(v: Float64Array, channels: number, d: number): number {
  let g = 0;
  for (let c = 0; c < channels; c++) {
    const o = c * d * d;
    for (let y = 0; y < d; y++)
      for (let x = 0; x < d; x++) {
        const p = v[o + y * d + x]!;
        if (x + 1 < d) g += (v[o + y * d + x + 1]! - p) ** 2;
        if (y + 1 < d) g += (v[o + (y + 1) * d + x]! - p) ** 2;
      }
  }
  return g;
}

/**
 * The gradient energy that white noise of variance 1 in a channels×d×d patch stays below with probability 0.99:
 * the energy is a quadratic form nᵀAn (A = DₕᵀDₕ + DᵥᵀDᵥ), taken as the Gamma law with its mean tr A and variance
 * 2·tr A² (as Liu et al. do), whose 0.99 quantile is found by the Wilson–Hilferty approximation.
 */
export function weakTextureBound(channels: number, d: number): number {
  const m = d * d;
  const a = new Float64Array(m * m);
  const pair = (i: number, j: number) => {
    a[i * m + i]! += 1;
    a[j * m + j]! += 1;
    a[i * m + j]! -= 1;
    a[j * m + i]! -= 1;
  };
  for (let y = 0; y < d; y++)
    for (let x = 0; x < d; x++) {
      if (x + 1 < d) pair(y * d + x, y * d + x + 1);
      if (y + 1 < d) pair(y * d + x, (y + 1) * d + x);
    }
  let tr = 0;
  let tr2 = 0;
  for (let i = 0; i < m; i++) tr += a[i * m + i]!;
  for (let i = 0; i < m * m; i++) tr2 += a[i]! * a[i]!; // tr A² = Σ a_ij² for symmetric A
  tr *= channels;
  tr2 *= channels;
  const shape = (tr * tr) / (2 * tr2);
  const scale = (2 * tr2) / tr;
  const z = 2.3263478740408408; // the standard normal's 0.99 quantile
  return shape * scale * (1 - 1 / (9 * shape) + z * Math.sqrt(1 / (9 * shape))) ** 3;
}

/**
 * The noise variance from eigenvalues in ascending order (Chen, Zhu & Heng 2015, their Algorithm 1): the mean of the
 * longest prefix with as many values above its mean as below it.
 */
export function noiseFloor(ascending: readonly number[]): number {
  let total = ascending.reduce((s, e) => s + e, 0);
  for (let m = ascending.length; m >= 1; m--) {
    const mean = total / m;
    let above = 0;
    let below = 0;
    for (let i = 0; i < m; i++) {
      if (ascending[i]! > mean) above++;
      else if (ascending[i]! < mean) below++;
    }
    if (above === below) return mean;
    total -= ascending[m - 1]!;
  }
  return ascending[0] ?? 0;
}

/**
 * The eigenvalues of a symmetric n×n matrix (row-major; not modified) by the cyclic Jacobi method: rotations zero
 * each off-diagonal entry in turn until the off-diagonal mass is negligible.
 */
export function symmetricEigenvalues(matrix: Float64Array, n: number): number[] {
  const a = Float64Array.from(matrix);
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i]! * a[i]!;
  if (scale === 0) return new Array<number>(n).fill(0);
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off <= 1e-22 * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J on rows and columns p, q
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]!);
}

/** The filter of Immerkær 1996: the difference of two Laplacians, zero on planes; ‖N‖₂ = 6. */
const N = [1, -2, 1, -2, 4, -2, 1, -2, 1];

/**
 * The noise std of `image` in grey levels by Immerkær's filter with a median (see the module's comment), over all
 * channels' interior pixels together; 0 for an image under 3×3.
 */
export function laplacianNoiseLevel(image: ImageTensor): number {
  const { channels, height, width } = dims(image);
  if (height < 3 || width < 3) return 0;
  const data = contiguousData(image);
  const r: number[] = [];
  for (let c = 0; c < channels; c++) {
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        let s = 0;
        for (let k = 0; k < 9; k++) s += N[k]! * data[(c * height + y + Math.floor(k / 3) - 1) * width + x + (k % 3) - 1]!;
        r.push(Math.abs(s) / UNIT_PER_GREY);
      }
    }
  }
  r.sort((p, q) => p - q);
  const median = r.length % 2 ? r[(r.length - 1) / 2]! : (r[r.length / 2 - 1]! + r[r.length / 2]!) / 2;
  return median / (0.6745 * 6);
}
