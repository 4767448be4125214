/**
 * One reverse jump x_t → x_prevT of a (possibly respaced) sampler, as a pure function of (x_t, x̂0, noise):
 * cf. diffusers' DDPMScheduler.step / DDIMScheduler.step, returning `{ prevSample, predOriginalSample }`.
 *
 * Both updates take x̂0 (already converted from the model output, clipped and possibly projected for
 * consistency) and use the ε̂ it implies, ε̂ = (x_t − √ᾱ_t·x̂0)/√(1−ᾱ_t), so a projected x̂0 feeds the whole
 * update. Timesteps follow schedule.ts: t in 1..T−1, prevT in 0..t−1, prevT = 0 is the clean image (ᾱ_prev = 1),
 * where both samplers return x̂0 and draw no noise.
 */
import { UsageError } from '../errors.js';
import { alphaBarPrev, checkTimestep, type Schedule } from './schedule.js';

export type SamplerKind = 'ancestral' | 'ddim';

export const SAMPLER_KINDS: readonly SamplerKind[] = Object.freeze(['ancestral', 'ddim']);

export interface StepParams {
  schedule: Schedule;
  sampler: SamplerKind;
  /** DDIM stochasticity η ≥ 0 (0 = deterministic, 1 ≈ ancestral variance); ignored by 'ancestral'. Default 0. */
  eta?: number;
  t: number;
  prevT: number;
  xt: Float32Array;
  /** x̂0, the clean-image estimate at (x_t, t). */
  x0: Float32Array;
  /** Standard normal noise z; required only when `stepNoiseStd(...) > 0`. */
  noise?: Float32Array;
  /** Output buffer for prevSample; may alias xt (the update is element-wise). */
  out?: Float32Array;
}

export interface StepResult {
  prevSample: Float32Array;
  predOriginalSample: Float32Array;
}

/** The std σ of the noise the jump t → prevT adds (0 when none is drawn). */
export function stepNoiseStd(schedule: Schedule, sampler: SamplerKind, t: number, prevT: number, eta = 0): number {
  return stepCoefficients(schedule, sampler, t, prevT, eta).sigma;
}

/** x_prevT from x_t and x̂0. See the numbered steps in `stepCoefficients`. */
export function step(params: StepParams): StepResult {
  const { schedule, sampler, t, prevT, xt, x0, noise } = params;
  const n = xt.length;
  const out = params.out ?? new Float32Array(n);
  if (x0.length !== n || out.length !== n || (noise !== undefined && noise.length !== n)) {
    throw new RangeError(`Expected xt, x0, noise and out of equal length ${n}`);
  }
  const { cx0, cxt, sigma } = stepCoefficients(schedule, sampler, t, prevT, params.eta ?? 0);
  // Final step: x_prev = cx0·x̂0 + cxt·x_t + σ·z, one fused pass.
  if (sigma > 0) {
    if (noise === undefined) throw new RangeError(`Expected noise for the stochastic step ${t} → ${prevT}`);
    for (let i = 0; i < n; i++) out[i] = cx0 * x0[i]! + cxt * xt[i]! + sigma * noise[i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = cx0 * x0[i]! + cxt * xt[i]!;
  }
  return { prevSample: out, predOriginalSample: x0 };
}

/** The jump as x_prev = cx0·x̂0 + cxt·x_t + σ·z (what `step` applies), its t, prevT, sampler and eta checked. */
export function stepCoefficients(...jump: Parameters<typeof jumpCoefficients>): ReturnType<typeof jumpCoefficients> {
  const [schedule, sampler, t, prevT, eta] = jump;
  checkTimestep(schedule, t);
  if (!Number.isInteger(prevT) || prevT < 0 || prevT >= t) {
    throw new UsageError(`Expected integer prevT in 0..${t - 1} but received ${prevT}`);
  }
  if (sampler === 'ddim' && !(Number.isFinite(eta) && eta >= 0 && eta <= 1)) {
    throw new UsageError(`Expected eta in 0..1 but received ${eta}`);
  }
  if (sampler !== 'ancestral' && sampler !== 'ddim') {
    throw new UsageError(`Expected sampler ancestral or ddim but received ${String(sampler)}`);
  }
  return jumpCoefficients(...jump);
}

/**
 * stepCoefficients without its checks, for the fused update of a run that checked its jumps (setTimesteps), sampler
 * and eta once, before the first step.
 */
export function jumpCoefficients(
  schedule: Schedule,
  sampler: SamplerKind,
  t: number,
  prevT: number,
  eta: number,
): { cx0: number; cxt: number; sigma: number } {
  // 1. Noise levels of both ends (Ho et al. 2020 §2 notation; prevT = 0 is the clean image, ᾱ_prev = 1).
  const abT = schedule.alphasCumprod[t]!;
  const abPrev = alphaBarPrev(schedule, prevT);
  // 2. The respaced one-jump β: β'_t = 1 − ᾱ_t/ᾱ_prev (Nichol & Dhariwal 2021 §4; = β_t when prevT = t − 1).
  const alphaT = abT / abPrev;
  const betaT = 1 - alphaT;
  if (sampler === 'ancestral') {
    // 3a. Posterior q(x_prev | x_t, x0) mean, DDPM eq. 7:
    //     μ̃ = √ᾱ_prev·β'_t/(1 − ᾱ_t)·x̂0 + √α'_t·(1 − ᾱ_prev)/(1 − ᾱ_t)·x_t.
    const cx0 = (Math.sqrt(abPrev) * betaT) / (1 - abT);
    const cxt = (Math.sqrt(alphaT) * (1 - abPrev)) / (1 - abT);
    // 4a. Posterior variance β̃ = (1 − ᾱ_prev)/(1 − ᾱ_t)·β'_t (DDPM eq. 7, σ² = β̃ "fixed small"); 0 at prevT = 0.
    const variance = ((1 - abPrev) / (1 - abT)) * betaT;
    return { cx0, cxt, sigma: variance > 0 ? Math.sqrt(variance) : 0 };
  }
  // 3b. ddim: σ_t(η) = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev) (Song et al. 2021 eq. 16).
  const sigma = eta * Math.sqrt((1 - abPrev) / (1 - abT)) * Math.sqrt(betaT);
  // 4b. DDIM eq. 12: x_prev = √ᾱ_prev·x̂0 + √(1 − ᾱ_prev − σ²)·ε̂ + σ·z, with ε̂ = (x_t − √ᾱ_t·x̂0)/√(1 − ᾱ_t);
  //     expanded into the x̂0 and x_t coefficients.
  const dir = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma)) / Math.sqrt(1 - abT);
  return { cx0: Math.sqrt(abPrev) - dir * Math.sqrt(abT), cxt: dir, sigma };
}
