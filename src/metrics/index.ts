/**
 * Image quality metrics for super-resolution, pure TypeScript on float64 planes of 0..255 values.
 * `measure` applies the evaluation protocol (docs/evaluation.md) to two RGB ImageTensors: BT.601 Y in float64,
 * `shave` pixels removed from each border, PSNR with peak 255, SSIM with an 11×11 Gaussian window
 * σ = 1.5, K1 = 0.01, K2 = 0.03 — plus PSNR over RGB, the detail ratio and GMSD on Y.
 */
import { UsageError } from '../errors.js';
import { dims, type ImageTensor } from '../image/tensor.js';
import { lumaBt601 } from './color.js';
import { detailRatio, gmsd } from './detail.js';
import { fromImageTensor } from './plane.js';
import { psnr, psnrRgb } from './psnr.js';
import { ssim } from './ssim.js';

export { blockiness } from './blockiness.js';
export { lumaBt601 } from './color.js';
export { detailRatio, gmsd, highFrequencyEnergy, type DetailOptions } from './detail.js';
export { filterValid, gaussianKernel } from './filter.js';
export {
  assertSameSize,
  createPlane,
  fromImageTensor,
  shavePlane,
  type FromImageTensorOptions,
  type Plane,
} from './plane.js';
export { periodicAmplitude, periodicSpike, type PeriodicSpikeOptions } from './periodic.js';
export { meanSquaredError, psnr, psnrFromMse, psnrRgb, type PsnrOptions } from './psnr.js';
export { ssim, type SsimOptions } from './ssim.js';

/** How `measure` compares: the border shave, and whether both images are first rounded to 8-bit levels. */
export interface MeasureOptions {
  /** Pixels removed from each border before every metric (the protocol uses the scale factor). */
  shave: number;
  /**
   * Round both images to 8-bit levels before measuring, as when they are saved as PNGs (default true:
   * figures then match those measured on the written files).
   */
  quantize?: boolean;
}

/** `measure`'s result: fidelity (PSNR, SSIM) and how much detail the output has against the truth. */
export interface Measurements {
  /** PSNR (dB, peak 255) on BT.601 Y; Infinity for identical images. */
  psnrY: number;
  /** Mean SSIM on Y (1 for identical images). */
  ssimY: number;
  /** PSNR (dB) over the pooled pixels of R, G and B; Infinity for identical images. */
  psnrRgb: number;
  /** High-frequency energy of sr over that of hr, on Y (1 = as much detail as the truth). */
  detailRatio: number;
  /** Gradient Magnitude Similarity Deviation on Y (0 = identical; lower is better). */
  gmsd: number;
}

/** All metrics of an RGB super-resolved image `sr` against its ground truth `hr`. */
export function measure(sr: ImageTensor, hr: ImageTensor, options: MeasureOptions): Measurements {
  const a = dims(sr);
  const b = dims(hr);
  if (a.channels !== 3 || b.channels !== 3) {
    throw new UsageError(`Expected RGB images (3 channels) but received ${a.channels} and ${b.channels} channels`);
  }
  if (a.width !== b.width || a.height !== b.height) {
    throw new UsageError(`Expected images of the same size but received ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  const quantize = options.quantize ?? true;
  const srRgb = fromImageTensor(sr, { quantize });
  const hrRgb = fromImageTensor(hr, { quantize });
  const srY = lumaBt601(srRgb);
  const hrY = lumaBt601(hrRgb);
  const { shave } = options;
  return {
    psnrY: psnr(srY, hrY, { shave }),
    ssimY: ssim(srY, hrY, { shave }),
    psnrRgb: psnrRgb(srRgb, hrRgb, { shave }),
    detailRatio: detailRatio(srY, hrY, { shave }),
    gmsd: gmsd(srY, hrY, { shave }),
  };
}
