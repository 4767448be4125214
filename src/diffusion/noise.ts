/**
 * The forward process in one shot (DDPM eq. 4; Boomerang §3 "sample from Equation 2 once"):
 * x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε, cf. diffusers' `add_noise`. The noise is passed in, drawn by the caller from
 * its injected Rng.
 */
import { checkTimestep, type Schedule } from './schedule.js';

/** Returns x_t for model step t (0..T−1); writes into `out` when given (which may alias x0 or noise). */
export function addNoise(
  schedule: Schedule,
  x0: Float32Array,
  t: number,
  noise: Float32Array,
  out: Float32Array = new Float32Array(x0.length),
): Float32Array {
  checkTimestep(schedule, t, 0);
  if (noise.length !== x0.length || out.length !== x0.length) {
    throw new RangeError(`Expected x0, noise and out of equal length but received ${x0.length}, ${noise.length}, ${out.length}`);
  }
  const a = schedule.alphasCumprod[t]!;
  const cx = Math.sqrt(a);
  const cn = Math.sqrt(1 - a);
  for (let i = 0; i < x0.length; i++) out[i] = cx * x0[i]! + cn * noise[i]!;
  return out;
}
