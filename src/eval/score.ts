/**
 * Scores of one image and means over a set. With K samples kept apart (reduce none), an image's score is the
 * mean of its samples' scores (what one sample is expected to give), and the per-sample scores are kept.
 */
import { measure, type Measurements } from '../metrics/index.js';
import type { ImageTensor } from '../image/tensor.js';

export const METRICS: readonly (keyof Measurements)[] = ['psnrY', 'ssimY', 'psnrRgb', 'detailRatio', 'gmsd'];

export interface ImageScore extends Measurements {
  name: string;
  width: number;
  height: number;
  seconds: number;
  evaluations: number;
  /** The seed of this image's Boomerang run (itemSeed of the set's seed and its name); absent for baselines. */
  seed?: number;
  /** Per-sample scores when samples were kept apart (reduce none, K > 1). */
  perSample?: Measurements[];
}

export interface MeanScore extends Measurements {
  images: number;
  seconds: number;
  evaluations: number;
}

/** Scores `outputs` (one image, or K samples kept apart) against `hr` under the protocol. */
export function scoreImages(
  outputs: readonly ImageTensor[],
  hr: ImageTensor,
  shave: number,
): { score: Measurements; perSample?: Measurements[] } {
  if (outputs.length === 1) return { score: measure(outputs[0]!, hr, { shave }) };
  const per = outputs.map((o) => measure(o, hr, { shave }));
  return { score: meanOf(per), perSample: per };
}

/** The arithmetic mean of each metric (the usual "mean PSNR" of published tables: mean of per-image dB). */
export function meanOf(ms: readonly Measurements[]): Measurements {
  const out = { psnrY: 0, ssimY: 0, psnrRgb: 0, detailRatio: 0, gmsd: 0 };
  for (const m of ms) for (const k of METRICS) out[k] += m[k] / ms.length;
  return out;
}

export function meanScore(scores: readonly ImageScore[]): MeanScore {
  return {
    ...meanOf(scores),
    images: scores.length,
    seconds: scores.reduce((s, x) => s + x.seconds, 0) / Math.max(1, scores.length),
    evaluations: scores.reduce((s, x) => s + x.evaluations, 0) / Math.max(1, scores.length),
  };
}
