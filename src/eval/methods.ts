/**
 * The ways an LR image becomes an SR image in an evaluation: an upsampler alone (centre-aligned), MATLAB's
 * bicubic imresize (the classic published baseline), or Boomerang through the library's `upscale`.
 */
import type { RunContext } from '../run-context.js';
import { UsageError } from '../errors.js';
import { backProject as backProjectImage } from '../diffusion/consistency.js';
import { KERNELS, matlabImresize, upsample, type Kernel } from '../image/upsample.js';
import type { ImageTensor } from '../image/tensor.js';
import type { JpegGrid } from '../image/jpeg-quality.js';
import type { ModelSession } from '../model/session.js';
import { upscale, type ProgressEvent, type UpscaleOptions, type UpscaleSettings } from '../upscale.js';

export type Method =
  | { kind: 'upsampler'; kernel: Kernel; backProject?: number }
  | { kind: 'matlab-bicubic' }
  | { kind: 'boomerang'; options: Omit<UpscaleOptions, 'factor' | 'model' | 'signal' | 'onProgress'> };

/** Names accepted for a baseline method: the four upsamplers and 'matlab-bicubic'. */
export const BASELINE_NAMES: readonly string[] = [...KERNELS, 'matlab-bicubic'];

/** A baseline by name (UsageError for an unknown one). */
export function baselineMethod(name: string): Method {
  if (name === 'matlab-bicubic') return { kind: 'matlab-bicubic' };
  if ((KERNELS as readonly string[]).includes(name)) return { kind: 'upsampler', kernel: name as Kernel };
  throw new UsageError(`Expected one of ${BASELINE_NAMES.join(', ')} for baseline but received ${JSON.stringify(name)}`);
}

/** A short label: "bicubic (alone)", "MATLAB bicubic", "Boomerang". */
export function methodName(m: Method): string {
  return m.kind === 'upsampler'
    ? `${m.kernel}${m.backProject ? ` back-projected ${m.backProject}x` : ''} (alone)`
    : m.kind === 'matlab-bicubic'
      ? 'MATLAB bicubic'
      : 'Boomerang';
}

export interface MethodOutput {
  /** The output (for Boomerang with K samples: reduced as asked; with reduce none, the first sample). */
  image: ImageTensor;
  /** Every Boomerang sample (one element otherwise). */
  samples: ImageTensor[];
  seconds: number;
  /** Model evaluations (0 for baselines). */
  evaluations: number;
  settings: UpscaleSettings | null;
}

export interface RunMethodOptions extends Omit<RunContext<ProgressEvent>, 'onWarning'> {
  /** Needed for Boomerang: a loaded model, reused for every image. */
  model?: ModelSession;
  /** The LR file's JPEG quality, for Boomerang's `input` auto (null: not a JPEG). */
  lrJpegQuality?: number | null;
  /** The LR file's JPEG luminance quantisation table, for the JPEG constraint (null: none). */
  lrJpegGrid?: JpegGrid | null;
}

/** Enlarges `lr` by `factor` with the method. */
export async function runMethod(method: Method, lr: ImageTensor, factor: number, opts: RunMethodOptions = {}): Promise<MethodOutput> {
  const t0 = performance.now();
  if (method.kind !== 'boomerang') {
    const image = method.kind === 'upsampler' ? upsample(lr, factor, method.kernel) : matlabImresize(lr, factor);
    if (method.kind === 'upsampler' && method.backProject) backProjectImage(image, lr, factor, method.backProject, image);
    return { image, samples: [image], seconds: (performance.now() - t0) / 1000, evaluations: 0, settings: null };
  }
  if (!opts.model) throw new UsageError('Expected a loaded model for a Boomerang evaluation');
  const r = await upscale(
    lr,
    {
      ...method.options,
      factor,
      model: opts.model,
      sourceJpegQuality: opts.lrJpegQuality ?? null,
      sourceJpegGrid: opts.lrJpegGrid ?? null,
    },
    { signal: opts.signal, onProgress: opts.onProgress },
  );
  return { image: r.image, samples: r.samples, seconds: r.stats.seconds, evaluations: r.stats.evaluations, settings: r.settings };
}
