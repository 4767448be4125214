/**
 * Local sampling of one image (the Boomerang paper's augmentation and anonymisation): for each t, K samples of the
 * same size as the source, Boomerang_t at factor 1 and vanilla; t sets how far a sample may move from its source.
 * Large images are tiled as upscale tiles them (each sample is one `upscale` call).
 */
import type { RunContext } from '../run-context.js';
import { UsageError, throwIfAborted } from '../errors.js';
import { decodeImage } from '../image/io.js';
import { dims, type ImageTensor } from '../image/tensor.js';
import type { ModelSession } from '../model/session.js';
import { upscale, withModel, type ProgressEvent } from '../upscale.js';
import { resolveVarySettings, sampleSeed, sampleUpscaleOptions, type VaryOptions, type VarySettings } from './settings.js';

/** `vary`'s options: the samples to draw, and the name their seeds derive from. */
export interface VaryImageOptions extends VaryOptions {
  /** The name the sample seeds derive from (a dataset uses the image's relative path). Default ''. */
  name?: string;
}

export interface VarySample {
  image: ImageTensor;
  t: number;
  /** 1..K within its t. */
  sample: number;
  /** The sample's own seed (`sr upscale … --seed` repeats it). */
  seed: number;
}

/** What `vary` returns for one image: its samples per t, the settings and what they cost. */
export interface VaryResult {
  /** K samples per t, t in the order given. */
  samples: VarySample[];
  settings: VarySettings;
  stats: { seconds: number; evaluations: number };
}

/** One sample of `source` at t with its own seed, on a loaded model. */
export async function varySample(
  source: ImageTensor,
  model: ModelSession,
  s: VarySettings,
  t: number,
  seed: number,
  extra: Pick<VaryImageOptions, 'tiling'> & RunContext<ProgressEvent> = {},
): Promise<{ image: ImageTensor; evaluations: number }> {
  const r = await upscale(
    source,
    { ...sampleUpscaleOptions(s, t, seed), model, ...(extra.tiling ? { tiling: extra.tiling } : {}) },
    { signal: extra.signal, onProgress: extra.onProgress },
  );
  return { image: r.image, evaluations: r.stats.evaluations };
}

/**
 * K samples per t of an image (a [3, H, W] tensor in [-1, 1], a file path or encoded bytes), each of its size.
 * Progress: upscale's events, with `sample`/`samples` counting this image's samples over every t.
 */
export async function vary(
  input: ImageTensor | string | Buffer,
  options: VaryImageOptions = {},
  ctx: RunContext<ProgressEvent> = {},
): Promise<VaryResult> {
  const source = typeof input === 'string' || Buffer.isBuffer(input) ? (await decodeImage(input)).rgb : input;
  if (dims(source).channels !== 3) throw new UsageError(`Expected a 3-channel RGB image but received ${dims(source).channels} channels`);
  // vary has no precision option and records the float model's sha256: float, not upscale's auto
  return withModel({ ...options, precision: 'float' }, async (model) => {
    const started = performance.now();
    const s = resolveVarySettings(options, model.manifest, model.device);
    const samples: VarySample[] = [];
    let evaluations = 0;
    const total = s.ts.length * s.samples;
    for (const t of s.ts) {
      for (let k = 1; k <= s.samples; k++) {
        throwIfAborted(ctx.signal);
        const seed = sampleSeed(s.seed, options.name ?? '', t, k);
        const done = samples.length;
        const r = await varySample(source, model, s, t, seed, {
          ...(options.tiling ? { tiling: options.tiling } : {}),
          signal: ctx.signal,
          onProgress: ctx.onProgress && ((e: ProgressEvent) => ctx.onProgress?.({ ...e, sample: done + 1, samples: total })),
        });
        evaluations += r.evaluations;
        samples.push({ image: r.image, t, sample: k, seed });
      }
    }
    return { samples, settings: s, stats: { seconds: (performance.now() - started) / 1000, evaluations } };
  });
}
