/**
 * How far a sample is from its source (full size, shave 0, on 8-bit levels as the files are written) and how far the
 * K samples of one source are from each other. SSIM's 11×11 window (and the gradient measures) need an image of at
 * least 11 px a side; below that only the PSNRs are defined and the rest are NaN (shown as n/a).
 */
import { dims, type ImageTensor } from '../image/tensor.js';
import { fromImageTensor, lumaBt601, measure, psnr, psnrRgb, ssim, type Plane } from '../metrics/index.js';
import type { Distance } from './records.js';

const SSIM_WINDOW = 11;

const smallerThanWindow = (image: ImageTensor): boolean => Math.min(dims(image).height, dims(image).width) < SSIM_WINDOW;

export function distanceToSource(sample: ImageTensor, source: ImageTensor): Distance {
  if (!smallerThanWindow(sample)) {
    const m = measure(sample, source, { shave: 0 });
    return { psnrY: m.psnrY, ssimY: m.ssimY, psnrRgb: m.psnrRgb, gmsd: m.gmsd, detailRatio: m.detailRatio };
  }
  const a = fromImageTensor(sample, { quantize: true });
  const b = fromImageTensor(source, { quantize: true });
  return { psnrY: psnr(lumaBt601(a), lumaBt601(b)), ssimY: NaN, psnrRgb: psnrRgb(a, b), gmsd: NaN, detailRatio: NaN };
}

/** BT.601 luma of the 8-bit image. */
export const lumaOf = (image: ImageTensor): Plane => lumaBt601(fromImageTensor(image, { quantize: true }));

/** Mean PSNR-Y and SSIM-Y over the pairs of samples of one source and t (NaN with fewer than two). */
export function pairwiseDiversity(lumas: readonly Plane[]): { psnrY: number; ssimY: number } {
  let p = 0;
  let q = 0;
  let n = 0;
  const windowed = lumas.length > 0 && Math.min(lumas[0]!.width, lumas[0]!.height) >= SSIM_WINDOW;
  for (let i = 0; i < lumas.length; i++) {
    for (let j = i + 1; j < lumas.length; j++) {
      p += psnr(lumas[i]!, lumas[j]!);
      q += windowed ? ssim(lumas[i]!, lumas[j]!) : NaN;
      n++;
    }
  }
  return n === 0 ? { psnrY: NaN, ssimY: NaN } : { psnrY: p / n, ssimY: q / n };
}
