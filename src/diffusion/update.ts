/**
 * The sampler's per-step arithmetic in one fused pass: x̂0 from the model output (toX0, clipped), the optional
 * DDNM projection onto A·x̂0 = y (projectConsistency) and the jump x_t → x_prev (step), written back into x_t.
 *
 * Bit for bit the same as calling the three in turn: x̂0 is rounded to float32 where toX0 stores it, the block
 * sums run in the same order (rows of the block, then columns) in float64, the projected x̂0 is rounded where
 * projectConsistency stores it, and the update is the same expression in the same order. It only avoids the
 * x̂0 buffer and two of the three sweeps over the image (the three took ~7 ms a step at 256×256 on a 2-core CPU,
 * a few % of a model evaluation there; on a GPU the JavaScript loop is all of the overhead).
 */
import { x0Coefficients, type PredictionKind } from './predictions.js';

/** What fusedStep needs of an Rng. */
export interface NormalSource {
  fillNormal(out: Float32Array): Float32Array;
}

export interface FusedStep {
  prediction: PredictionKind;
  /** ᾱ at the current step (the x̂0 conversion). */
  alphaBar: number;
  /** Clip x̂0 to [-1, 1] before the projection (toX0's `clip`). */
  clip: boolean;
  /** The jump's coefficients, x_prev = cx0·x̂0 + cxt·x_t + σ·z (stepCoefficients). */
  cx0: number;
  cxt: number;
  sigma: number;
  /** Image shape [C, H, W] of xt, modelOut and noise (flat, contiguous). */
  channels: number;
  height: number;
  width: number;
  /** x_t, overwritten with x_prev. */
  xt: Float32Array;
  modelOut: Float32Array;
  /**
   * Standard normals z for sigma > 0: an array of the image's length, or a generator drawn from in flat order,
   * a band of rows at a time (the same numbers as filling a whole array first, without the array).
   */
  noise?: Float32Array | NormalSource | undefined;
  /** DDNM projection target: the LR image's contiguous data [C, H/factor, W/factor] and the factor. */
  consistency?: { y: Float32Array; factor: number } | null;
}

let zeros = new Float32Array(0);
/** A shared all-zero buffer of at least n elements (never written). */
function ZERO_NOISE(n: number): Float32Array {
  if (zeros.length < n) zeros = new Float32Array(n);
  return zeros;
}

/** Applies one reverse step in place (see the module note). */
export function fusedStep(s: FusedStep): void {
  const { xt, modelOut, cx0, cxt, channels: C, height: H, width: W } = s;
  const n = C * H * W;
  const sigma = s.sigma > 0 ? s.sigma : 0;
  const source = s.noise instanceof Float32Array ? null : s.noise;
  const given = s.noise instanceof Float32Array ? s.noise : null;
  if (xt.length !== n || modelOut.length !== n || (sigma > 0 && (s.noise === undefined || (given !== null && given.length !== n)))) {
    throw new RangeError(`Expected xt, modelOut${sigma > 0 ? ' and noise' : ''} of length ${n}`);
  }
  const { p, q } = x0Coefficients(s.prediction, s.alphaBar);
  const lo = s.clip ? -1 : -Infinity;
  const hi = s.clip ? 1 : Infinity;
  const draw = sigma > 0 && source ? source : null;
  if (!s.consistency) {
    // chunks of CHUNK elements, the noise for each drawn just before it is used (or read from the given array)
    const chunk = draw ? new Float32Array(Math.min(CHUNK, n)) : null;
    for (let start = 0; start < n; start += CHUNK) {
      const end = Math.min(n, start + CHUNK);
      let z: Float32Array, zo: number;
      if (chunk) {
        z = draw!.fillNormal(end - start === chunk.length ? chunk : chunk.subarray(0, end - start));
        zo = -start;
      } else {
        z = given ?? ZERO_NOISE(CHUNK);
        zo = given ? 0 : -start;
      } // zeros when sigma = 0: σ·0 adds exactly 0
      for (let i = start; i < end; i++) {
        const v = p * xt[i]! + q * modelOut[i]!;
        const x0 = Math.fround(v < lo ? lo : v > hi ? hi : v);
        xt[i] = cx0 * x0 + cxt * xt[i]! + sigma * z[i + zo]!;
      }
    }
    return;
  }
  const y = s.consistency.y;
  const f = s.consistency.factor;
  const h = H / f,
    w = W / f;
  if (!Number.isInteger(h) || !Number.isInteger(w) || y.length !== C * h * w) {
    throw new RangeError(`Expected a ${C}x${H / f}x${W / f} LR image for factor ${f}`);
  }
  const inv = 1 / (f * f);
  const band = new Float32Array(f * W); // x̂0 of one band of f rows, float32 as toX0 stores it
  const bandNoise = draw ? new Float32Array(f * W) : null;
  const sums = new Float64Array(w);
  for (let c = 0; c < C; c++) {
    for (let by = 0; by < h; by++) {
      const base = (c * H + by * f) * W;
      sums.fill(0);
      // x̂0 for the band, and each block's sum in projectConsistency's order (rows, then columns).
      for (let dy = 0; dy < f; dy++) {
        const row = base + dy * W;
        const brow = dy * W;
        for (let bx = 0, x = 0; bx < w; bx++) {
          let sum = sums[bx]!;
          for (let dx = 0; dx < f; dx++, x++) {
            const v = p * xt[row + x]! + q * modelOut[row + x]!;
            const x0 = Math.fround(v < lo ? lo : v > hi ? hi : v);
            band[brow + x] = x0;
            sum += x0;
          }
          sums[bx] = sum;
        }
      }
      for (let bx = 0; bx < w; bx++) sums[bx] = sums[bx]! * inv - y[(c * h + by) * w + bx]!; // the block's error
      // Projected x̂0 (float32) and the jump, in place. The band's f rows are contiguous in the image, so its
      // noise is the next f·W numbers of the flat stream.
      let z: Float32Array, zo: number;
      if (bandNoise) {
        z = draw!.fillNormal(bandNoise);
        zo = -base;
      } else {
        z = given ?? ZERO_NOISE(f * W);
        zo = given ? 0 : -base;
      }
      for (let dy = 0; dy < f; dy++) {
        const row = base + dy * W;
        const brow = dy * W;
        for (let bx = 0, x = 0; bx < w; bx++) {
          const err = sums[bx]!;
          for (let dx = 0; dx < f; dx++, x++) {
            const x0 = Math.fround(band[brow + x]! - err);
            const i = row + x;
            xt[i] = cx0 * x0 + cxt * xt[i]! + sigma * z[i + zo]!;
          }
        }
      }
    }
  }
}

/** Elements per noise chunk without the projection (fits the L1/L2 caches with the image data beside it). */
const CHUNK = 4096;
