/**
 * Boomerang for the soft-resample model family: a prior trained on the corruption it undoes (Soft Diffusion, Daras
 * et al. 2022; Cold Diffusion, Bansal et al. 2022), trained by models/train/soft.py.
 *
 * Corruption at level τ in [0, 1] (the model's t input is levels·τ):
 *   x_τ = D_τ(x) + σ(τ)·ε,   D_τ = centre-aligned bicubic shrink by s(τ) = maxScale^τ (antialiased), then enlarge
 *   back;  σ(τ) = sigmaMax·τ.
 * An input enlarged by factor f is that corruption at τ_f = ln f / ln maxScale, so Boomerang's "noise to t" becomes:
 * take the upsampled input as x_τf (plus the noise of that level). Later cascade passes re-corrupt the previous
 * output to the pass's own level τ = t / levels: D_τ(x) + σ(τ)·ε (at factor 1, every pass does).
 *
 * Reverse jump τ → τ' (Cold Diffusion's Algorithm 2 with the DDIM-style noise split of Song et al. 2021):
 *   1. x̂0 = x_τ + out                      (the model predicts the residual, InDI's direction), clipped
 *   2. optional consistency on x̂0           (DDNM projection or one back-projection, as the Gaussian family)
 *   3. ε̂ = (x_τ − D_τ(x̂0)) / σ(τ)          (what x̂0 leaves unexplained, noise and model error together)
 *   4. x_τ' = D_τ'(x̂0) + σ(τ')·(√(1−η²)·ε̂ + η·z),  z ~ N(0, I);   at τ' = 0: x̂0.
 * With η = 0 and σ(τ') = σ(τ) step 4 is Cold Diffusion's x − D_τ(x̂0) + D_τ'(x̂0). η also scales the noise added at
 * the start, so η = 0 is a deterministic run: the model then sees the enlarged input without the level's noise, which
 * scored higher (PSNR) than with it in every probe on validation crops (soft_probe.py). Levels are evenly spaced,
 * τ_i = τ_start·i/S for i = S..1. Randomness comes only from `rng` (forward noise, then one normal per element for
 * each stochastic jump), so a seed repeats a run exactly.
 */
import { ModelError, UsageError, throwIfAborted } from '../errors.js';
import { contiguousData, createImage, dims, type ImageTensor } from '../image/tensor.js';
import { resize } from '../image/upsample.js';
import type { BoomerangProgress, ConsistencyOptions, Denoise } from './boomerang.js';
import { backProject, checkLowRes, projectConsistency } from './consistency.js';
import type { Rng } from './rng.js';
import type { RunContext } from '../run-context.js';

/** The corruption a soft-resample model was trained on (its manifest's `family`). */
export interface SoftCorruption {
  kind: 'soft-resample';
  /** Shrink factor at τ = 1 (s(τ) = maxScale^τ). */
  maxScale: number;
  /** Noise std at τ = 1, in [-1, 1] units (σ(τ) = sigmaMax·τ). */
  sigmaMax: number;
  /** The model's t input is levels·τ. */
  levels: number;
}

/** The level at which an input enlarged by `factor` sits: ln f / ln maxScale, at most 1. */
export function levelOfFactor(c: SoftCorruption, factor: number): number {
  if (!(factor >= 1)) throw new UsageError(`Expected factor >= 1 but received ${factor}`);
  return Math.min(1, Math.log(factor) / Math.log(c.maxScale));
}

/** σ(τ) = sigmaMax·τ. */
export function softSigma(c: SoftCorruption, tau: number): number {
  return c.sigmaMax * tau;
}

/** One reverse jump τ → prev. */
export interface LevelPair {
  tau: number;
  prev: number;
}

/** S evenly spaced jumps from τ_start to 0: τ_i = τ_start·i/S, i = S..1. */
export function softLevels(tauStart: number, steps: number): LevelPair[] {
  if (!(tauStart > 0 && tauStart <= 1)) throw new UsageError(`Expected a level in (0, 1] but received ${tauStart}`);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`Expected positive integer for steps but received ${steps}`);
  const out: LevelPair[] = [];
  for (let i = steps; i >= 1; i--) out.push({ tau: (tauStart * i) / steps, prev: (tauStart * (i - 1)) / steps });
  return out;
}

/** D_τ(x): shrink by maxScale^τ to round(H/s)×round(W/s) (at least 1), enlarge back; a copy when that is the same size. */
export function corruptTo(c: SoftCorruption, x: ImageTensor, tau: number): ImageTensor {
  const { channels, height, width } = dims(x);
  const s = c.maxScale ** tau;
  const h = Math.max(1, Math.round(height / s));
  const w = Math.max(1, Math.round(width / s));
  if (h === height && w === width) return createImage(channels, height, width, contiguousData(x).slice());
  return resize(resize(x, h, w, 'bicubic'), height, width, 'bicubic');
}

/** The weights of step 4: x_τ' = D_τ'(x̂0) + cEps·(x_τ − D_τ(x̂0)) + cNoise·z. */
export function softStepCoefficients(c: SoftCorruption, tau: number, prev: number, eta: number): { cEps: number; cNoise: number } {
  const sTau = softSigma(c, tau);
  const sPrev = softSigma(c, prev);
  return { cEps: sTau > 0 ? (sPrev * Math.sqrt(1 - eta * eta)) / sTau : 0, cNoise: sPrev * eta };
}

export interface SoftCascadeOptions extends Omit<RunContext<BoomerangProgress>, 'onWarning'> {
  corruption: SoftCorruption;
  /** The factor the input was enlarged by: the first pass starts at its level. */
  factor: number;
  /** Model step t of each pass (τ = t / levels); the first pass's entry is replaced by the factor's level. */
  passes: readonly number[];
  /** Reverse jumps per pass. */
  steps: number;
  /** 0: a deterministic run (no start noise, ε̂ carried); 1: the level's noise at the start, fresh noise at every jump. */
  eta: number;
  /** Start the first pass from D_τf(up) (the enlarged input corrupted again at its level) instead of `up` itself. */
  recorrupt?: boolean;
  clip?: boolean;
  consistency?: ConsistencyOptions | null;
  rng: Rng;
  denoise: Denoise;
}

/**
 * The levels each pass starts from: the factor's for the first (the enlarged input is that corruption), t / levels
 * for the later ones; at factor 1 (nothing enlarged) every pass, the first included, re-corrupts to t / levels.
 */
export function softPassLevels(c: SoftCorruption, factor: number, passes: readonly number[]): number[] {
  return passes.map((t, k) => (k === 0 && factor > 1 ? levelOfFactor(c, factor) : Math.min(1, t / c.levels)));
}

/** Cascaded Boomerang for a soft-resample model; `up` is the enlarged input (not modified). */
export async function softCascade(up: ImageTensor, o: SoftCascadeOptions): Promise<ImageTensor> {
  if (!(o.eta >= 0 && o.eta <= 1)) throw new UsageError(`Expected eta in 0..1 but received ${o.eta}`);
  if (o.consistency) checkLowRes(up.shape, o.consistency.y, o.consistency.factor);
  const starts = softPassLevels(o.corruption, o.factor, o.passes);
  const plans = starts.map((tau) => softLevels(tau, o.steps));
  let cur = up;
  for (let k = 0; k < plans.length; k++) {
    const start =
      k === 0 && o.factor > 1 && !o.recorrupt
        ? createImage(3, up.shape[1]!, up.shape[2]!, contiguousData(up).slice())
        : corruptTo(o.corruption, cur, starts[k]!);
    cur = await softPass(start, plans[k]!, k + 1, plans.length, o);
  }
  return cur;
}

async function softPass(
  x: ImageTensor,
  plan: readonly LevelPair[],
  pass: number,
  passes: number,
  o: SoftCascadeOptions,
): Promise<ImageTensor> {
  const c = o.corruption;
  const [C, H, W] = x.shape as [number, number, number];
  const xt = x.data as Float32Array;
  const n = xt.length;
  const noise = new Float32Array(n);
  // 0. x_τ = D_τ(x) + η·σ(τ)·ε (D_τ(x) given)
  const s0 = o.eta * softSigma(c, plan[0]!.tau);
  o.rng.fillNormal(noise);
  for (let i = 0; i < n; i++) xt[i] = xt[i]! + s0 * noise[i]!;
  const clip = o.clip ?? true;
  for (let j = 0; j < plan.length; j++) {
    const { tau, prev } = plan[j]!;
    throwIfAborted(o.signal);
    const out = await o.denoise(x, c.levels * tau);
    throwIfAborted(o.signal);
    if (out.shape[0] !== C || out.shape[1] !== H || out.shape[2] !== W) {
      throw new ModelError(`Expected denoise output of shape ${C}x${H}x${W} but received ${out.shape.join('x')}`);
    }
    // 1. x̂0 = x_τ + out, clipped
    const od = contiguousData(out);
    const x0 = createImage(C, H, W);
    for (let i = 0; i < n; i++) {
      const v = xt[i]! + od[i]!;
      x0.data[i] = clip ? (v < -1 ? -1 : v > 1 ? 1 : v) : v;
    }
    // 2. consistency
    if (o.consistency) {
      const { y, factor, kind } = o.consistency;
      if (kind === 'ibp') backProject(x0, y, factor, 1, x0);
      else projectConsistency(x0, y, factor, x0);
    }
    if (prev > 0) {
      // 3.–4. x_τ' = D_τ'(x̂0) + cEps·(x_τ − D_τ(x̂0)) + cNoise·z
      const { cEps, cNoise } = softStepCoefficients(c, tau, prev, o.eta);
      const dTau = contiguousData(corruptTo(c, x0, tau));
      const dPrev = contiguousData(corruptTo(c, x0, prev));
      if (cNoise > 0) o.rng.fillNormal(noise);
      for (let i = 0; i < n; i++) xt[i] = dPrev[i]! + cEps * (xt[i]! - dTau[i]!) + (cNoise > 0 ? cNoise * noise[i]! : 0);
    } else xt.set(x0.data as Float32Array);
    o.onProgress?.({ stage: 'boomerang', pass, passes, step: j + 1, totalSteps: plan.length, t: Math.round(c.levels * tau) });
  }
  for (let i = 0; i < n; i++) {
    const v = xt[i]!;
    xt[i] = v < -1 ? -1 : v > 1 ? 1 : v;
  }
  return x;
}
