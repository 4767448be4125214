/**
 * Conversions between what a model predicts and the (x̂0, ε̂) pair the samplers work with, at a noise level ᾱ.
 * With x_t = √ᾱ·x0 + √(1−ᾱ)·ε:
 * - 'eps' (DDPM, Ho et al. 2020 eq. 15): x0 = (x_t − √(1−ᾱ)·ε)/√ᾱ.
 * - 'x0':  ε = (x_t − √ᾱ·x0)/√(1−ᾱ).
 * - 'v'  (Salimans & Ho 2022, v = √ᾱ·ε − √(1−ᾱ)·x0): x0 = √ᾱ·x_t − √(1−ᾱ)·v, ε = √(1−ᾱ)·x_t + √ᾱ·v.
 * x̂0 is clipped to [-1, 1] by default (diffusers' `clip_sample`), and ε̂ is then re-derived from the clipped x̂0,
 * so the pair always satisfies x_t = √ᾱ·x̂0 + √(1−ᾱ)·ε̂. Loops are fused; arrays are flat Float32Arrays.
 */
export type PredictionKind = 'eps' | 'x0' | 'v';

export const PREDICTION_KINDS: readonly PredictionKind[] = Object.freeze(['eps', 'x0', 'v']);

export interface ConvertOptions {
  /** Clip x̂0 to [-1, 1] (default true). */
  clip?: boolean;
  /** Output buffer for x̂0 (may alias modelOut). */
  out?: Float32Array;
}

/** x̂0 from the model output at x_t (fused; the hot path used by the sampler loop). */
export function toX0(
  kind: PredictionKind,
  modelOut: Float32Array,
  xt: Float32Array,
  alphaBar: number,
  options: ConvertOptions = {},
): Float32Array {
  const n = checkLengths(modelOut, xt, options.out);
  const out = options.out ?? new Float32Array(n);
  const clip = options.clip ?? true;
  const { p, q } = x0Coefficients(kind, alphaBar);
  if (clip) {
    for (let i = 0; i < n; i++) {
      const v = p * xt[i]! + q * modelOut[i]!;
      out[i] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = p * xt[i]! + q * modelOut[i]!;
  }
  return out;
}

/** x̂0 = p·x_t + q·(model output) for a model of `kind` at noise level ᾱ (before clipping). */
export function x0Coefficients(kind: PredictionKind, alphaBar: number): { p: number; q: number } {
  const sa = Math.sqrt(alphaBar);
  const s1 = Math.sqrt(1 - alphaBar);
  switch (kind) {
    case 'eps':
      return { p: 1 / sa, q: -s1 / sa };
    case 'x0':
      return { p: 0, q: 1 };
    case 'v':
      return { p: sa, q: -s1 };
    default:
      throw new RangeError(`Unknown prediction kind ${String(kind)}`);
  }
}

/** ε̂ implied by x̂0 at x_t: (x_t − √ᾱ·x̂0)/√(1−ᾱ). */
export function epsFromX0(
  x0: Float32Array,
  xt: Float32Array,
  alphaBar: number,
  out: Float32Array = new Float32Array(x0.length),
): Float32Array {
  const n = checkLengths(x0, xt, out);
  const sa = Math.sqrt(alphaBar);
  const inv = 1 / Math.sqrt(1 - alphaBar);
  for (let i = 0; i < n; i++) out[i] = (xt[i]! - sa * x0[i]!) * inv;
  return out;
}

/** Both x̂0 (clipped unless `clip: false`) and the matching ε̂. */
export function toX0AndEps(
  kind: PredictionKind,
  modelOut: Float32Array,
  xt: Float32Array,
  alphaBar: number,
  options: { clip?: boolean } = {},
): { x0: Float32Array; eps: Float32Array } {
  const x0 = toX0(kind, modelOut, xt, alphaBar, { clip: options.clip ?? true });
  return { x0, eps: epsFromX0(x0, xt, alphaBar) };
}

/** The inverse: the output a model of `kind` should give for the pair (x0, ε) at ᾱ (tests, oracles). */
export function toModelOutput(kind: PredictionKind, x0: Float32Array, eps: Float32Array, alphaBar: number): Float32Array {
  const n = checkLengths(x0, eps);
  if (kind === 'x0') return Float32Array.from(x0);
  if (kind === 'eps') return Float32Array.from(eps);
  const sa = Math.sqrt(alphaBar);
  const s1 = Math.sqrt(1 - alphaBar);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sa * eps[i]! - s1 * x0[i]!;
  return out;
}

function checkLengths(a: Float32Array, b: Float32Array, c?: Float32Array): number {
  if (a.length !== b.length || (c !== undefined && c.length !== a.length)) {
    throw new RangeError(`Expected arrays of equal length but received ${a.length}, ${b.length}${c ? `, ${c.length}` : ''}`);
  }
  return a.length;
}
