/**
 * Whether an image's pixels are a decoded JPEG (a JPEG saved again as PNG: screenshots, converted datasets), and if
 * so which luminance quantisation table it was saved with. A decoded JPEG's luma DCT coefficients on its 8×8 grid
 * (orthonormal DCT of Y − 128, full-range BT.601 luma, as diffusion/jpeg-constraint.ts computes them) sit on the
 * multiples of the table's steps, off them only by the decoder's rounding to 8 bits; a clean image's do not.
 *
 * The table is fitted jointly as the IJG encoder scales it (ijgLumaTable: libjpeg, sharp and PIL write those): for
 * each quality 1..100 the log-likelihood ratio of the coefficients under "a multiple of the step plus rounding noise"
 * against "anywhere in the step's interval", summed over the 64 frequencies, and the best quality wins. Only the
 * coefficients quantised to a non-zero multiple count (|c| ≥ q/2: a clean image's small coefficients also sit near 0),
 * and a frequency's repeated values count once (a flat or gradient image repeats its blocks exactly). A divisor of
 * the true step explains the same coefficients with a narrower interval, so it scores lower; a multiple misses half
 * of them. The image is "a JPEG" only with enough evidence over several frequencies (DETECT_MIN_EVIDENCE,
 * DETECT_MIN_FREQUENCIES), set so that no clean crop of the validation set was found (benchmarks/jpeg-history.ts).
 * Only the (0,0)-aligned grid is examined: a cropped or resized JPEG is not found. Nor, often, is a saturated colour
 * image: where the decoder clamped R, G or B to 0..255 the luma recomputed from them is off the lattice (on the
 * validation crops, 1 to 3 of 48 at ×2 and ×4 were missed so). Pure: a tensor in, numbers out.
 */
import { dct8x8 } from './dct.js';
import { ijgLumaTable } from './jpeg-quality.js';
import { contiguousData, dims, type ImageTensor } from './tensor.js';

/** What the pixels say of the JPEG they were decoded from. */
export interface JpegHistory {
  /** The IJG quality (1..100) whose luminance table fits best (the lowest of those with the same table). */
  quality: number;
  /** The fitted luminance quantisation table, natural order (ijgLumaTable of `quality`). */
  lumaTable: number[];
  /** The fit's log-likelihood ratio over a clean image, in nats (at least DETECT_MIN_EVIDENCE). */
  evidence: number;
  /** Frequencies whose own ratio reached DETECT_FREQUENCY_EVIDENCE. */
  frequencies: number;
}

/** The rounding noise of a decoded JPEG's luma coefficients (grey levels): 8-bit Y, then 8-bit R, G, B. */
export const DETECT_SIGMA = 0.5;
/** The least total log-likelihood ratio (nats) for "a JPEG". */
export const DETECT_MIN_EVIDENCE = 40;
/** A frequency counts towards DETECT_MIN_FREQUENCIES when its own ratio reaches this (nats). */
export const DETECT_FREQUENCY_EVIDENCE = 4;
/** The least number of frequencies with evidence of their own for "a JPEG" (one repeated pattern is not enough). */
export const DETECT_MIN_FREQUENCIES = 3;
/** At most this many 8×8 blocks are read (evenly spread), whatever the image's size: a 256×256 image's worth. */
const MAX_BLOCKS = 1024;
/** The share of coefficients off the lattice that the model allows for (clipping, a decoder's own rounding). */
const OUTLIER = 0.05;

/**
 * The luma DCT coefficients of the image's whole 8×8 blocks on the (0,0) grid, per frequency (natural order), each
 * frequency's values distinct (to 0.001); blocks that touch 0 or 255 (clipped) are left out. Null for an image that
 * is not RGB.
 */
export function blockCoefficients(rgb: ImageTensor): number[][] | null {
  const { channels, height, width } = dims(rgb);
  if (channels !== 3) return null;
  const d = contiguousData(rgb);
  const n = height * width;
  const bh = Math.floor(height / 8);
  const bw = Math.floor(width / 8);
  const total = bh * bw;
  const stride = Math.max(1, total / MAX_BLOCKS);
  const seen = Array.from({ length: 64 }, () => new Set<number>());
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  const coef = new Float64Array(64);
  for (let f = 0; f < total; f += stride) {
    const b = Math.floor(f);
    const by = Math.floor(b / bw);
    const bx = b % bw;
    let clipped = false;
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const i = (by * 8 + y) * width + bx * 8 + x;
        const v = 127.5 * (0.299 * d[i]! + 0.587 * d[n + i]! + 0.114 * d[2 * n + i]!) + 127.5;
        if (v < 0.5 || v > 254.5) clipped = true;
        block[y * 8 + x] = v - 128;
      }
    if (clipped) continue;
    dct8x8(block, coef, tmp);
    for (let k = 0; k < 64; k++) seen[k]!.add(Math.round(coef[k]! * 1000));
  }
  return seen.map((s) => Array.from(s, (v) => v / 1000));
}

/**
 * The log-likelihood ratio (nats) that `values` are multiples of step `q` plus rounding noise of DETECT_SIGMA, against
 * anywhere within the step's interval; only the values quantised to a non-zero multiple (|c| ≥ q/2) count, and a
 * step of 1 or 2 (finer than the noise can tell) counts 0.
 */
export function stepEvidence(values: readonly number[], q: number): number {
  if (q < 3 || !values.some((c) => Math.abs(c) >= q / 2)) return 0;
  const norm = q / (DETECT_SIGMA * Math.sqrt(2 * Math.PI));
  let sum = 0;
  for (const c of values) {
    if (Math.abs(c) < q / 2) continue;
    const r = c - Math.round(c / q) * q;
    let p = 0;
    for (const s of [r - q, r, r + q]) p += Math.exp(-(s * s) / (2 * DETECT_SIGMA * DETECT_SIGMA));
    sum += Math.log((1 - OUTLIER) * norm * p + OUTLIER);
  }
  return sum;
}

/**
 * The IJG quality and luminance table that explain an RGB image's luma coefficients best, with the evidence for it,
 * whatever that evidence is (detectJpegHistory decides); null for an image that is not RGB or has under 4 distinct
 * whole blocks on the (0,0) grid.
 */
export function fitJpegHistory(rgb: ImageTensor): JpegHistory | null {
  const coefs = blockCoefficients(rgb);
  if (!coefs || coefs[0]!.length < 4) return null;
  const cache = Array.from({ length: 64 }, () => new Map<number, number>());
  const evidenceAt = (k: number, q: number): number => {
    let e = cache[k]!.get(q);
    if (e === undefined) {
      e = stepEvidence(coefs[k]!, q);
      cache[k]!.set(q, e);
    }
    return e;
  };
  let best: JpegHistory | null = null;
  for (let quality = 1; quality <= 100; quality++) {
    const table = ijgLumaTable(quality);
    let evidence = 0;
    let frequencies = 0;
    for (let k = 0; k < 64; k++) {
      const e = evidenceAt(k, table[k]!);
      evidence += e;
      if (e >= DETECT_FREQUENCY_EVIDENCE) frequencies++;
    }
    if (!best || evidence > best.evidence) best = { quality, lumaTable: table, evidence, frequencies };
  }
  return best && { ...best, evidence: Math.round(best.evidence * 10) / 10 };
}

/**
 * The JPEG an RGB image ([3, H, W] in [-1, 1]) was decoded from, on the (0,0)-aligned 8×8 grid: the IJG quality and
 * luminance table that explain its luma coefficients best (fitJpegHistory), or null when the evidence is weak (a clean
 * image, one with under 4 distinct whole blocks, a grid that is not at (0,0), a table too fine to tell from rounding).
 */
export function detectJpegHistory(rgb: ImageTensor): JpegHistory | null {
  const fit = fitJpegHistory(rgb);
  return fit && fit.evidence >= DETECT_MIN_EVIDENCE && fit.frequencies >= DETECT_MIN_FREQUENCIES ? fit : null;
}
