/**
 * Denoising a noisy input with a Gaussian-family prior before it is enlarged (`--noise σ`). A DDPM trained on
 * x_t = √ᾱ_t·x + √(1−ᾱ_t)·ε is a denoiser for every noise level it has seen: an image y = x + σ·n (σ in [-1, 1]
 * units) scaled by √ᾱ_t is exactly such an x_t wherever σ = √((1−ᾱ_t)/ᾱ_t) (the step's noiseLevel), so one model
 * evaluation there gives x̂0, the model's estimate of E[x | y], the estimate with the least squared error (Kadkhodaie
 * & Simoncelli 2021; the same identity DDRM and DiffPIR start from). The step is the first whose noise level reaches σ
 * (a model that assumes a little more noise than there is smooths a little more; between neighbouring steps the
 * level moves by about 1%).
 */
import { UsageError } from '../errors.js';
import { createImage, dims, type ImageTensor } from '../image/tensor.js';
import type { Denoise } from './boomerang.js';
import { type PredictionKind, toX0 } from './predictions.js';
import { noiseLevel, type Schedule } from './schedule.js';

/** The first model step t in 1..T−1 whose noise level √((1−ᾱ_t)/ᾱ_t) reaches `sigma` ([-1, 1] units). */
export function stepForNoise(schedule: Schedule, sigma: number): number {
  if (!(sigma > 0)) throw new UsageError(`Expected a noise level above 0 but received ${sigma}`);
  const T = schedule.alphasCumprod.length;
  if (sigma > noiseLevel(schedule, T - 1)) {
    throw new UsageError(
      `Expected a noise level the model covers (at most ${noiseLevel(schedule, T - 1).toFixed(1)}) but received ${sigma}`,
    );
  }
  let lo = 1;
  let hi = T - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (noiseLevel(schedule, mid) >= sigma) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Grey levels (0..255) to [-1, 1] units. */
export const greyToUnit = (sigma: number): number => (2 * sigma) / 255;

/**
 * x̂0 of `y` (not modified) taken as x_t at stepForNoise(σ): one call of `denoise`, clipped to [-1, 1]. `sigmaGrey`
 * is the noise std in grey levels of 0..255.
 */
export async function denoiseInput(
  y: ImageTensor,
  sigmaGrey: number,
  o: { schedule: Schedule; prediction: PredictionKind; denoise: Denoise },
): Promise<ImageTensor> {
  const t = stepForNoise(o.schedule, greyToUnit(sigmaGrey));
  const ab = o.schedule.alphasCumprod[t]!;
  const { channels, height, width } = dims(y);
  const xt = createImage(channels, height, width);
  const s = Math.sqrt(ab);
  const src = y.data as Float32Array;
  for (let i = 0; i < xt.data.length; i++) xt.data[i] = s * src[i]!;
  const out = await o.denoise(xt, t);
  return createImage(channels, height, width, toX0(o.prediction, out.data as Float32Array, xt.data as Float32Array, ab));
}
