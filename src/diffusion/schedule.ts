/**
 * The noise schedule as frozen data, and the pure functions over it: `makeSchedule`, `noiseLevel`,
 * `setTimesteps` (cf. diffusers' scheduler config + `set_timesteps`, without the hidden mutable state).
 *
 * Timestep convention (the one every module in src/diffusion follows):
 * - Arrays are indexed by the model's training step t = 0..T−1, exactly as the ONNX contract feeds `t` and as
 *   diffusers/DDPM training noises: x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε with ᾱ_t = alphasCumprod[t] = ∏_{s≤t}(1−β_s).
 *   So alphasCumprod[0] = 1 − β_0 (one step of noise); the paper's 1-based ᾱ_n is alphasCumprod[n − 1].
 * - The reverse pass from step tStart visits model steps tStart = k_S > … > k_1 ≥ 1 and each jump goes
 *   k_i → k_{i−1}, with k_0 = 0 meaning *the clean image*: a jump to prevT = 0 uses ᾱ_prev := 1 and returns
 *   x̂0 (diffusers' `set_alpha_to_one`). Model step 0 itself (noise std ≈ 0.01) is never evaluated; Boomerang's
 *   t therefore ranges over 1..T−1 and costs t model evaluations in full.
 */
import { UsageError } from '../errors.js';

export type BetaSpec =
  | { kind: 'linear'; start: number; end: number }
  | { kind: 'cosine'; s?: number }
  | { kind: 'table'; alphasCumprod: readonly number[] };

/**
 * Frozen schedule data (float64). The object is frozen; typed arrays cannot be frozen, so treat them as
 * read-only.
 */
export interface Schedule {
  readonly T: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
}

/** One jump of the reverse pass: from model step `t` to `prevT` (0 = the clean image). */
export interface TimestepPair {
  readonly t: number;
  readonly prevT: number;
}

/**
 * Builds the schedule for T training steps.
 * - linear: β_i = start + (end − start)·i/(T − 1), i = 0..T−1 (torch.linspace, inclusive; DDPM uses 1e-4..0.02).
 * - cosine: Nichol & Dhariwal (2021) eq. 17, f(u) = cos²((u + s)/(1 + s)·π/2), β_i = min(1 − f((i+1)/T)/f(i/T),
 *   0.999) (diffusers' `betas_for_alpha_bar`), s = 0.008 by default.
 * - table: ᾱ given per model step (length T, strictly decreasing, in (0, 1)); β derived as 1 − ᾱ_i/ᾱ_{i−1}.
 */
export function makeSchedule(T: number, betas: BetaSpec): Schedule {
  if (!Number.isInteger(T) || T < 2) throw new UsageError(`Expected integer T of at least 2 but received ${T}`);
  const b = new Float64Array(T);
  let ac: Float64Array | undefined;
  switch (betas.kind) {
    case 'linear': {
      const { start, end } = betas;
      checkBeta('start', start);
      checkBeta('end', end);
      for (let i = 0; i < T; i++) b[i] = start + ((end - start) * i) / (T - 1);
      break;
    }
    case 'cosine': {
      const s = betas.s ?? 0.008;
      if (!Number.isFinite(s) || s < 0) throw new UsageError(`Expected non-negative cosine offset s but received ${s}`);
      const f = (u: number): number => Math.cos(((u + s) / (1 + s)) * (Math.PI / 2)) ** 2;
      for (let i = 0; i < T; i++) b[i] = Math.min(1 - f((i + 1) / T) / f(i / T), 0.999);
      break;
    }
    case 'table': {
      const table = betas.alphasCumprod;
      if (table.length !== T) {
        throw new UsageError(`Expected ${T} values in the alphasCumprod table but received ${table.length}`);
      }
      ac = new Float64Array(T);
      for (let i = 0; i < T; i++) {
        const a = table[i]!;
        const prev = i === 0 ? 1 : table[i - 1]!;
        if (!(a > 0 && a < prev)) {
          throw new UsageError(`Expected alphasCumprod strictly decreasing in (0, 1) but received ${a} at step ${i}`);
        }
        ac[i] = a;
        b[i] = 1 - a / prev;
      }
      break;
    }
    default:
      throw new UsageError(`Expected beta schedule kind linear, cosine or table but received ${(betas as { kind: unknown }).kind}`);
  }
  const alphas = new Float64Array(T);
  for (let i = 0; i < T; i++) alphas[i] = 1 - b[i]!;
  if (!ac) {
    ac = new Float64Array(T);
    let p = 1;
    for (let i = 0; i < T; i++) ac[i] = p *= alphas[i]!;
  }
  return Object.freeze({ T, betas: b, alphas, alphasCumprod: ac });
}

function checkBeta(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0 && v < 1)) throw new UsageError(`Expected beta ${name} in (0, 1) but received ${v}`);
}

/** Throws UsageError unless t is an integer in min..T−1 (message: "Expected integer t in 1..999 but received 0"). */
export function checkTimestep(schedule: Schedule, t: number, min = 1, name = 't'): void {
  if (!Number.isInteger(t) || t < min || t > schedule.T - 1) {
    throw new UsageError(`Expected integer ${name} in ${min}..${schedule.T - 1} but received ${t}`);
  }
}

/** ᾱ of a jump's destination: alphasCumprod[prevT], or 1 for prevT = 0 (the clean image). */
export function alphaBarPrev(schedule: Schedule, prevT: number): number {
  return prevT === 0 ? 1 : schedule.alphasCumprod[prevT]!;
}

/**
 * Noise std of x_t relative to the signal, √((1 − ᾱ_t)/ᾱ_t), for model step t in 0..T−1.
 * Linear 1e-4..0.02, T = 1000: t = 50 → 0.176, 100 → 0.342, 200 → 0.724, 400 → 2.04.
 */
export function noiseLevel(schedule: Schedule, t: number): number {
  checkTimestep(schedule, t, 0);
  const a = schedule.alphasCumprod[t]!;
  return Math.sqrt((1 - a) / a);
}

/**
 * The reverse pass from model step tStart (1..T−1) as jumps [{t: k_S = tStart, prevT: k_{S−1}}, …, {t: k_1,
 * prevT: 0}]. With `steps` undefined or ≥ tStart, every step: k_i = i (tStart evaluations). Otherwise S = steps
 * evenly spaced steps (FastDPM "STEP"): k_i = round(i·tStart/S), i = 0..S (round half up), i.e.
 * round(linspace(0, tStart, S + 1)); these are distinct because tStart/S > 1, and k_S = tStart always.
 */
export function setTimesteps(schedule: Schedule, tStart: number, steps?: number): readonly TimestepPair[] {
  checkTimestep(schedule, tStart);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) {
    throw new UsageError(`Expected positive integer for steps but received ${steps}`);
  }
  const S = steps === undefined || steps >= tStart ? tStart : steps;
  const pairs: TimestepPair[] = [];
  for (let i = S; i >= 1; i--) {
    pairs.push(Object.freeze({ t: Math.round((i * tStart) / S), prevT: Math.round(((i - 1) * tStart) / S) }));
  }
  return Object.freeze(pairs);
}
