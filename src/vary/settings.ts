/**
 * The settings of `sr vary`: Boomerang_t at factor 1 (no upsampling) and vanilla, one or more t, K samples per image
 * and t, each sample with a seed of its own. Vanilla because at factor 1 a consistency step (ddnm, ibp) would project
 * every clean-image estimate back onto the source, and the sample could not move away from it.
 *
 * Each sample is one `upscale` call with samples 1 and its own seed, so that one sample can be repeated alone with
 * `sr upscale SRC -o OUT --factor 1 --consistency none --t T --cascade N --steps S --seed SEED` (`reproduceArgs`).
 */
import { itemSeed } from '../diffusion/rng.js';
import type { SamplerKind } from '../diffusion/samplers.js';
import { UsageError } from '../errors.js';
import type { TilingOptions } from '../model/denoiser.js';
import type { ModelManifest } from '../model/manifest.js';
import type { Device, DeviceRequest, ModelSession } from '../model/session.js';
import { resolveSettings, type UpscaleOptions } from '../upscale.js';
import { integerInRange, positiveInteger } from '../validate.js';

export interface VaryOptions {
  /** Diffusion step(s) to noise to, 1..T−1: how far a sample may move from its source. Default: the model's t. */
  t?: number | readonly number[];
  /** Samples K per image and t. Default 1. */
  samples?: number;
  /** The run's seed, which every sample's own seed derives from (`sampleSeed`). Default 0, so a rerun is the same. */
  seed?: number;
  /** Boomerang passes at t. Default 1: the model's cascade default is tuned for super-resolution, not for this. */
  cascade?: number;
  /** Reverse steps per pass (capped at t). Default: the model's. */
  steps?: number;
  sampler?: SamplerKind;
  eta?: number;
  /** Only 'none' (the default) is accepted: see the module comment. */
  consistency?: string;
  /**
   * A model folder or shipped model name, or a loaded model. Default: VARY_MODEL, the shipped Gaussian prior (the
   * paper's local sampling: noise to t, denoise back).
   */
  model?: string | ModelSession;
  device?: DeviceRequest;
  tiling?: TilingOptions;
}

/** Everything a run used, as recorded with each sample. */
export interface VarySettings {
  model: string;
  sha256: string;
  device: Device;
  ts: number[];
  samples: number;
  seed: number;
  cascade: number;
  /** Reverse steps per pass as asked; a pass at t uses min(steps, t) (`stepsAt`). */
  steps: number;
  sampler: SamplerKind;
  eta: number;
}

/** Refuses any consistency but none, with the reason (a one-line UsageError). */
export function checkConsistency(value: unknown): void {
  if (value === undefined || value === 'none') return;
  throw new UsageError(
    `Expected --consistency none for vary but received ${JSON.stringify(value)}: at factor 1, ddnm and ibp ` +
      'project every sample back onto its source, so vary runs vanilla Boomerang',
  );
}

/** Distinct t in the order given (a list repeated by mistake should not double the work). */
function tList(t: VaryOptions['t'], m: ModelManifest): number[] {
  const list = t === undefined ? [m.defaults.t] : typeof t === 'number' ? [t] : [...t];
  if (list.length === 0) throw new UsageError('Expected at least one t but received an empty list');
  return [...new Set(list.map((v) => integerInRange('t', v, 1, m.T - 1)))];
}

/** The model vary uses when none is given: the shipped Gaussian prior (noise to t is the paper's local sampling). */
export const VARY_MODEL = 'gaussian';

/** Resolves and checks the options against the model's manifest, before any file is read or model run. */
export function resolveVarySettings(options: VaryOptions, m: ModelManifest, device: Device = 'cpu'): VarySettings {
  checkConsistency(options.consistency);
  if (options.cascade !== undefined && typeof options.cascade !== 'number') {
    throw new UsageError(
      `Expected a number of passes for cascade in vary (t sets the distance) but received ${JSON.stringify(options.cascade)}`,
    );
  }
  const ts = tList(options.t, m);
  const seed = integerInRange('seed', options.seed ?? 0, 0, 0xffffffff);
  const samples = positiveInteger('samples', options.samples ?? 1);
  const cascade = positiveInteger('cascade', options.cascade ?? 1);
  // upscale's own resolution checks steps, sampler and eta and fills the model's defaults
  const base = resolveSettings({ ...upscaleOptionsOf(options, ts[0]!, cascade), seed }, m, device);
  return { model: m.name, sha256: m.sha256, device, ts, samples, seed, cascade, steps: base.steps, sampler: base.sampler, eta: base.eta };
}

function upscaleOptionsOf(o: Pick<VaryOptions, 'steps' | 'sampler' | 'eta'>, t: number, cascade: number): UpscaleOptions {
  return {
    factor: 1,
    consistency: 'none',
    t,
    cascade,
    samples: 1,
    reduce: 'none',
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.sampler !== undefined ? { sampler: o.sampler } : {}),
    ...(o.eta !== undefined ? { eta: o.eta } : {}),
  };
}

/** The upscale options of one sample: factor 1, vanilla, samples 1, its own seed. */
export function sampleUpscaleOptions(s: VarySettings, t: number, seed: number): UpscaleOptions {
  return { ...upscaleOptionsOf(s, t, s.cascade), seed };
}

/** Reverse steps a pass at t runs (the engine caps steps at t). */
export const stepsAt = (s: Pick<VarySettings, 'steps'>, t: number): number => Math.min(s.steps, t);

/**
 * The seed of sample k (1-based) of the image named `name` (its relative path, with /) at t, under the run's seed.
 * Deterministic, so a rerun writes the same files; independent per image, t and k (itemSeed's hash), so no two
 * samples share a noise field.
 */
export function sampleSeed(runSeed: number, name: string, t: number, k: number): number {
  return itemSeed(runSeed, `${name}#t${t}#${k}`);
}

/** The `sr upscale` arguments that repeat one sample exactly (same bytes), after `sr upscale SRC -o OUT`. */
export function reproduceArgs(s: Pick<VarySettings, 'model' | 'cascade' | 'steps' | 'sampler' | 'eta'>, t: number, seed: number): string[] {
  return [
    '--factor',
    '1',
    '--consistency',
    'none',
    '--t',
    String(t),
    '--cascade',
    String(s.cascade),
    '--steps',
    String(stepsAt(s, t)),
    '--sampler',
    s.sampler,
    ...(s.sampler === 'ddim' ? ['--eta', String(s.eta)] : []),
    '--seed',
    String(seed),
    '--model',
    s.model,
  ];
}
