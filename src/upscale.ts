/**
 * The library API: super-resolve an image with Boomerang and a Patched Diffusion UNet.
 *
 *   upsample (centre-aligned) → Boomerang_t (noise to t in one shot, reverse diffusion to 0) × N passes
 *
 * Options are public and optional (`UpscaleOptions`), resolved once against the model's manifest into complete
 * settings (`UpscaleSettings`), validated with one-line UsageErrors at the boundary (`upscale`, `upscaleFile`, a
 * plan); the run itself takes the resolved settings. Long work takes its run context last (`ctx`: signal, progress, warnings). `sr upscale` goes
 * through `upscaleInputs` (src/batch/upscale-inputs.ts), which plans every file (its settings resolved, its outputs
 * checked) and then runs `upscalePlanned` per file; `sr explore` runs `upscale` per candidate.
 */
import { OutputError, UsageError, throwIfAborted } from './errors.js';
import { cascade as runCascade, type BoomerangProgress } from './diffusion/boomerang.js';
import { CONSISTENCY_KINDS, backProject, type Consistency } from './diffusion/consistency.js';
import { createRng } from './diffusion/rng.js';
import {
  JPEG_CONSTRAINT_ITERATIONS,
  JPEG_CONSTRAINT_SLACK,
  clipUnit,
  jpegLumaConstraint,
  jpegProjectionStep,
} from './diffusion/jpeg-constraint.js';
import { levelOfFactor, softCascade } from './diffusion/soft.js';
import { denoiseInput } from './diffusion/denoise-input.js';
import { makeSchedule } from './diffusion/schedule.js';
import { SAMPLER_KINDS, type SamplerKind } from './diffusion/samplers.js';
import { decodeImage, encodeImage, formatFromPath, metadataLost, type DecodedImage, type DecodeOptions } from './image/io.js';
import { detectJpegHistory, type JpegHistory } from './image/jpeg-history.js';
import { ijgLumaTable, type JpegGrid } from './image/jpeg-quality.js';
import { isGreyImage, pcaNoiseLevel } from './image/noise-level.js';
import { createImage, dims, type ImageTensor } from './image/tensor.js';
import { KERNELS, upsample, type Kernel } from './image/upsample.js';
import { createDenoiser, defaultTileBatch, tilePlan, type TilingOptions } from './model/denoiser.js';
import type { ModelManifest, PresetSettings } from './model/manifest.js';
import {
  loadModel,
  modelFileSha256,
  precisionOf,
  resolvePrecision,
  sessionSha256,
  type Device,
  type DeviceRequest,
  type LoadModelOptions,
  type ModelSession,
  type Precision,
  type PrecisionRequest,
} from './model/session.js';
import { DEFAULT_OVERHEAD, lookupSpeed, recordSpeed, type MeasuredSpeed, type SpeedKey } from './model/speed.js';
import { booleanOf, integerInRange, numberInRange, oneOf, positiveInteger } from './validate.js';
import { checkOutputSize } from './io-safety/limits.js';
import { sameFile } from './io-safety/paths.js';
import { OutputExistsError } from './io-safety/atomic.js';
import { lstat } from 'node:fs/promises';
import { basename, extname, resolve as resolvePath } from 'node:path';
import type { RunContext } from './run-context.js';
import { uncertaintyImage, uncertaintyMap, type UncertaintyMap } from './metrics/uncertainty.js';

export type { Consistency };
/** The enlargement factor when none is given. */
export const DEFAULT_FACTOR = 4;

/**
 * What an input is known to have been through: clean, jpeg (compressed: the model's `inputs.jpeg` settings apply),
 * noisy (its Gaussian noise is estimated from the pixels, image/noise-level.ts, and removed first, as `noise` does),
 * or auto: jpeg when the input was a JPEG saved below JPEG_CLEAN_QUALITY (a JPEG file, or pixels found to be a
 * decoded JPEG: image/jpeg-history.ts), else noisy when the estimated noise reaches NOISY_INPUT_SIGMA, else clean.
 */
export const INPUT_KINDS = ['auto', 'clean', 'jpeg', 'noisy'] as const;
/** One of INPUT_KINDS. */
export type InputKind = (typeof INPUT_KINDS)[number];
/** From this estimated quality up, a JPEG input counts as clean under `input` auto. */
export const JPEG_CLEAN_QUALITY = 95;
/**
 * From this estimated noise std up (grey levels, estimateInputNoise), a colour non-JPEG input counts as noisy under
 * `input` auto. On the 98 validation crops (benchmarks/results/noise-estimate-2026-12-07.md) clean LR read at most 4.7
 * (x2, 64 px; 3.6 at x4) and the same LR with σ 10 added at least 6.4 (x2 and x4), so 5.5 was the first choice; but
 * the classic sets' colour LR read up to 6.7 (Set14's flowers at x8, 62×45, a scan with visible grain), which that
 * would have denoised (-0.08 dB), so the bound is 7: above every clean image measured, below 97 of 98 σ-10 crops at x2
 * and x4 (84 → 33 of 98 at x8, 16 px). σ 5 (3.4–6.7) is not found: tell it (`noise`).
 */
export const NOISY_INPUT_SIGMA = 7;

/**
 * The input kind a run uses: the one asked for, or under auto the one the source's JPEG quality implies, then the
 * noise estimated in it (`noiseEstimate`, grey levels; null or undefined when none was made).
 */
export function inputKindOf(
  requested: InputKind | undefined,
  jpegQuality: number | null | undefined,
  noiseEstimate?: number | null,
): 'clean' | 'jpeg' | 'noisy' {
  if (requested === 'clean' || requested === 'jpeg' || requested === 'noisy') return requested;
  if (typeof jpegQuality === 'number' && jpegQuality < JPEG_CLEAN_QUALITY) return 'jpeg';
  return typeof noiseEstimate === 'number' && noiseEstimate >= NOISY_INPUT_SIGMA ? 'noisy' : 'clean';
}

/**
 * Whether a run with these options looks at the input's noise: `input` auto or noisy, no explicit `noise`, no estimate
 * given (`sourceNoise`), and not a JPEG input (its blocks are not Gaussian noise; the JPEG settings apply instead).
 */
export function wantsNoiseEstimate(
  options: Pick<UpscaleOptions, 'input' | 'noise' | 'sourceNoise' | 'sourceJpegQuality' | 'sourceJpegHistory'>,
): boolean {
  return options.sourceNoise === undefined && looksForNoise(options);
}

/** `input` auto or noisy, no explicit `noise`, not a JPEG input: where a noise estimate counts. */
function looksForNoise(options: Pick<UpscaleOptions, 'input' | 'noise' | 'sourceJpegQuality' | 'sourceJpegHistory'>): boolean {
  if (options.noise !== undefined) return false;
  const requested = options.input ?? 'auto';
  return requested === 'noisy' || (requested === 'auto' && inputKindOf('auto', sourceQualityOf(options)) === 'clean');
}

/**
 * Whether a run with these options looks for a JPEG in the input's pixels (detectJpegHistory): `input` auto or jpeg,
 * none looked for already (`sourceJpegHistory`), and not a JPEG file (`sourceJpegQuality`: the file's header says more).
 * `input` clean and noisy never look.
 */
export function wantsJpegHistory(options: Pick<UpscaleOptions, 'input' | 'sourceJpegQuality' | 'sourceJpegHistory'>): boolean {
  const requested = options.input ?? 'auto';
  return (
    options.sourceJpegHistory === undefined &&
    typeof options.sourceJpegQuality !== 'number' &&
    (requested === 'auto' || requested === 'jpeg')
  );
}

/** The options with a JPEG looked for in the input's pixels where they look for one (wantsJpegHistory). */
export function withJpegHistory<O extends UpscaleOptions>(options: O, image: ImageTensor): O {
  return wantsJpegHistory(options) ? { ...options, sourceJpegHistory: detectJpegHistory(image) } : options;
}

/**
 * The options with what the input's pixels say filled in where the options look for it: the JPEG they were decoded
 * from (withJpegHistory), then their noise (withNoiseEstimate; a JPEG found is not looked at for noise).
 */
export function withPixelEstimates<O extends UpscaleOptions>(options: O, image: ImageTensor): O {
  return withNoiseEstimate(withJpegHistory(options, image), image);
}

/**
 * The JPEG quality a run counts for its input: the file's (`sourceJpegQuality`), else that of a JPEG found in its
 * pixels (`sourceJpegHistory`, under `input` auto or jpeg), else null.
 */
function sourceQualityOf(options: Pick<UpscaleOptions, 'input' | 'sourceJpegQuality' | 'sourceJpegHistory'>): number | null {
  if (typeof options.sourceJpegQuality === 'number') return options.sourceJpegQuality;
  const requested = options.input ?? 'auto';
  return (requested === 'auto' || requested === 'jpeg') && options.sourceJpegHistory ? options.sourceJpegHistory.quality : null;
}

/** The block grid of a JPEG found in the pixels at `quality` (jpegDetected): the IJG table, the image's own (0,0) grid. */
export const detectedJpegGrid = (quality: number): JpegGrid => ({ lumaTable: ijgLumaTable(quality), orientation: 1 });

/**
 * The input's noise std in grey levels, as `input` auto|noisy estimates it (pcaNoiseLevel, 5×5 patches), or null for a
 * grey image (every channel the same): from one channel the estimate reads texture as noise (the validation crops'
 * clean luma reads up to 26, Set14's grey man and bridge 8–10), so a grey input is never found noisy; give `noise`.
 */
export const estimateInputNoise = (image: ImageTensor): number | null => (isGreyImage(image) ? null : pcaNoiseLevel(image, { patch: 5 }));

/** The options with the input's noise estimated from its pixels where they look for it (wantsNoiseEstimate). */
export function withNoiseEstimate<O extends UpscaleOptions>(options: O, image: ImageTensor): O {
  return wantsNoiseEstimate(options) ? { ...options, sourceNoise: estimateInputNoise(image) } : options;
}

/** How K samples combine into one output: mean, median, or none (every sample kept). */
export const REDUCE_KINDS = ['mean', 'median', 'none'] as const;
/** One of REDUCE_KINDS. */
export type Reduce = (typeof REDUCE_KINDS)[number];

/** The settings of a run (all optional, resolved against the manifest). */
export interface UpscaleOptions {
  /** Integer enlargement factor. Default 4. */
  factor?: number;
  /** A named preset from the model's manifest (e.g. fidelity, detail); explicit options override it. */
  preset?: string;
  /** How the input was degraded: auto (default), clean, jpeg or noisy; see INPUT_KINDS. */
  input?: InputKind;
  /**
   * For `input` auto on a tensor: the quality of the JPEG it was decoded from (DecodedImage.jpegQuality), or null.
   * Files and buffers given to `upscale`/`upscaleFile` are read for it.
   */
  sourceJpegQuality?: number | null;
  /**
   * For a tensor decoded from a JPEG: its block grid and luminance quantisation table (DecodedImage.jpegGrid), which
   * `jpegConstraint` needs; null or left out for none. Files and buffers given to `upscale`/`upscaleFile` are read for it.
   */
  sourceJpegGrid?: JpegGrid | null;
  /**
   * For a non-JPEG input under `input` auto or jpeg: the JPEG its pixels were found to be decoded from
   * (detectJpegHistory: a PNG of a JPEG), or null for none. A run counts it as the file's JPEG quality and table: auto
   * then takes it for a JPEG input below JPEG_CLEAN_QUALITY, and the constraint runs on its table. When left out,
   * `upscale` and `upscaleFile` look for it in the input's pixels (wantsJpegHistory says when).
   */
  sourceJpegHistory?: JpegHistory | null;
  /**
   * For `input` auto or noisy: the noise std estimated in the input (grey levels, estimateInputNoise), or null for
   * none. When left out, `upscale` and `upscaleFile` estimate it from the input's pixels (wantsNoiseEstimate says when).
   */
  sourceNoise?: number | null;
  /** Diffusion step to noise to, 1..T−1 (per pass). Default: the model's default t. */
  t?: number;
  /** Number of Boomerang passes N (each at t), or an explicit list of t per pass. Default 1. */
  cascade?: number | readonly number[];
  /** Reverse steps per pass (evenly spaced, FastDPM STEP); capped at t. Default: the model's default steps. */
  steps?: number;
  /** Upsampler feeding the model. Default bicubic. */
  upsampler?: Kernel;
  /**
   * Iterations of back-projection through the bicubic degradation (Irani & Peleg) applied to the upsampled image
   * before the first pass, so Boomerang starts from an image that agrees with the input (a soft-resample model, whose
   * start must be the plain enlargement it was trained on, applies them to its output instead). Default 0 (off).
   */
  backProject?: number;
  /** Reverse update: DDPM ancestral (default) or DDIM. */
  sampler?: SamplerKind;
  /** DDIM η in 0..1. Default 0. */
  eta?: number;
  /**
   * Soft-resample models: start the first pass from the enlarged input corrupted again at its level (shrunk back to
   * the input's size with the antialiased bicubic the model was trained with, then enlarged), not from the plain
   * enlargement. That turns what the input's own compression left (JPEG's 8×8 blocks) into the blur the model undoes:
   * on JPEG-75 validation crops at ×4 the output's blockiness fell from above bicubic's to below it, for 0.1 dB of
   * PSNR. Default: the model's (the default model's manifest turns it on for JPEG inputs below quality 80, `jpeg<80`), else false.
   */
  recorrupt?: boolean;
  /**
   * For a JPEG input whose quantisation table is known (`sourceJpegGrid`): move each output, after its passes, towards
   * the images whose luma DCT coefficients at the input's size lie within the file's quantisation intervals (the middle
   * JPEG_CONSTRAINT_SLACK of each), instead of trusting the decoded pixels or nothing (diffusion/jpeg-constraint.ts).
   * Measured with the default model (benchmarks/jpeg-constraint.ts on the tuning crops, degraded.ts on the reported
   * ones): at ×4 from JPEG-75 LR +0.08 / +0.065 dB PSNR-Y, and no reported crop left below bicubic.
   * Default: the model's (the default model's manifest turns it on for JPEG inputs, `inputs.jpeg`), else false.
   */
  jpegConstraint?: boolean;
  /**
   * Keep each clean-image estimate x̂0 consistent with the input: ddnm projects it exactly onto the images whose
   * f×f average pooling is the input; ibp back-projects through a bicubic degradation (for LR made by bicubic
   * downscaling, as most photos and the classic benchmarks are); none is vanilla Boomerang. Default ddnm.
   */
  consistency?: Consistency;
  /** Seed for repeatable noise; random (and reported) when omitted. */
  seed?: number;
  /** Independent samples K and how to combine them. Default 1, mean. */
  samples?: number;
  reduce?: Reduce;
  /**
   * Also return the uncertainty map (`UpscaleResult.uncertainty`): the per-pixel standard deviation of the luma
   * across the K samples, where the model invents (high) and where the input decides (near 0). Needs samples ≥ 2.
   */
  uncertainty?: boolean;
  /**
   * Gaussian noise in the input, its standard deviation in grey levels (0..255 scale; a low-light phone photo is
   * about 3–10). Above 0 the input is first denoised at its own resolution by one evaluation of a Gaussian-family
   * model (`denoiser`) at the step whose noise level matches (diffusion/denoise-input.ts), and the enlargement and its
   * consistency step work from that. Default 0 (none).
   */
  noise?: number;
  /** The Gaussian-family model that removes `noise`: a folder or shipped name, or a loaded model. Default DENOISER_MODEL. */
  denoiser?: string | ModelSession;
  /** A model folder or shipped model name, or an already loaded model. Default: the shipped default model. */
  model?: string | ModelSession;
  /** Execution device when `model` is a name or folder. Default cpu. */
  device?: DeviceRequest;
  /**
   * Which build of the weights to load when `model` is a name or folder: auto (default: int8 on the CPU when the
   * model has an int8 variant of the same weights and the CPU has VNNI, else float; resolvePrecision), float, or int8
   * (CPU only; loadModel). The settings record the one that ran.
   */
  precision?: PrecisionRequest;
  /** Tiling of large images (tile, overlap, batch). */
  tiling?: TilingOptions;
}

/**
 * The run context of one image's work (`upscale`, `upscaleFile`): its stop signal, progress and one-line warnings
 * (notes about the input, e.g. that only the first frame of an animation is used), and its time estimate.
 */
export interface UpscaleContext extends RunContext<ProgressEvent> {
  /**
   * Called once, before the work, with what the run is expected to take: at the speed measured on this machine
   * for this model, device and tile shape (kept from an earlier run, or timed now: one evaluation after a warm-up
   * one, for a job that the manifest puts over CALIBRATE_ABOVE_SECONDS), else at the manifest's reference speed.
   * Throwing stops the run before any work (a cost guard). Without it a run neither times anything nor records its
   * speed (evaluations and sweeps run as they are measured).
   */
  onEstimate?: ((estimate: TimeEstimate) => void) | undefined;
}

/** What a run is expected to take, known once the model is loaded (see UpscaleContext.onEstimate). */
export interface TimeEstimate {
  /** Estimated seconds of the whole run (model evaluations and the pipeline around them), or null when unknown. */
  seconds: number | null;
  /** Model evaluations of one tile over the run (tiles x passes x steps x samples). */
  tileEvaluations: number;
  tiles: number;
  /** Seconds per tile evaluation the estimate uses (model time only), or null. */
  secondsPerEvaluation: number | null;
  /**
   * Where the speed comes from: `measured` on this machine by an earlier run (the speed cache, model/speed.ts),
   * `calibrated` by timing one evaluation now, `manifest` the model's reference figure, null none.
   */
  source: 'measured' | 'calibrated' | 'manifest' | null;
  /** Seconds the timing took (0 unless calibrated). */
  calibrationSeconds: number;
  /**
   * Of `seconds`, the pipeline's full-resolution resampling (back-projection, consistency, a soft-resample model's
   * corruptions: pipelineResizes), timed on this machine with the estimate; null when not estimated (small jobs).
   */
  pipelineSeconds: number | null;
}

/** A job the manifest puts over this many seconds is timed at model load when no figure was measured here before. */
export const CALIBRATE_ABOVE_SECONDS = 2;
/** For that choice only, with a model that has no speed record: the default model's order on a 2-core CPU. */
const ASSUMED_SECONDS_PER_MEGAPIXEL = 1;

/**
 * One progress event type for everything long: which stage, pass, step, sample. `upsample` before the enlargement,
 * then after each back-projection iteration (`step` of `totalSteps`); `boomerang` after each reverse
 * step (`step` of `totalSteps` done); `tile` within a step over several tiles, after each model run (`tile` of
 * `tiles` done in the step after `step`), so that a large image's progress moves every few seconds; `refine` after
 * each iteration of a sample's refinement once its passes are done (its back-projection onto the input, the JPEG
 * constraint: `step` of `totalSteps` iterations).
 */
export interface ProgressEvent {
  stage: 'load' | 'upsample' | 'boomerang' | 'tile' | 'refine' | 'done';
  pass: number;
  passes: number;
  step: number;
  totalSteps: number;
  sample: number;
  samples: number;
  t: number;
  /** Tiles done in the running step (stage tile), else 0; and the tiles per step. */
  tile: number;
  tiles: number;
}

/**
 * How much of a run's reverse steps are done, 0..1, from one of its progress events (samples × passes × steps,
 * and the tiles done within a step).
 */
export function progressFraction(
  e: Pick<ProgressEvent, 'sample' | 'samples' | 'pass' | 'passes' | 'step' | 'totalSteps'> & Partial<Pick<ProgressEvent, 'tile' | 'tiles'>>,
): number {
  const total = e.samples * e.passes * e.totalSteps;
  if (total <= 0) return 0;
  const within = e.tiles ? (e.tile ?? 0) / e.tiles : 0;
  return Math.min(1, (((Math.max(1, e.sample) - 1) * e.passes + (Math.max(1, e.pass) - 1)) * e.totalSteps + e.step + within) / total);
}

/** The complete settings a run used (what to print and record to repeat it). */
export interface UpscaleSettings {
  model: string;
  device: Device;
  /** The build of the weights that ran: float (model.onnx) or int8 (the manifest's int8 variant). */
  precision: Precision;
  factor: number;
  passes: number[];
  steps: number;
  upsampler: Kernel;
  backProject: number;
  sampler: SamplerKind;
  eta: number;
  /** Soft-resample: the first pass started from the input corrupted again at its level. */
  recorrupt: boolean;
  /**
   * The output was moved towards the input JPEG's quantisation constraint (UpscaleOptions.jpegConstraint). Resolved
   * true when asked for a JPEG input; a run whose input has no known table (`--input jpeg` on a PNG, a JPEG converted
   * from its colour profile) records false in its result.
   */
  jpegConstraint: boolean;
  consistency: Consistency;
  seed: number;
  samples: number;
  reduce: Reduce;
  preset: string | null;
  /** The input kind the run used (auto resolved). */
  input: 'clean' | 'jpeg' | 'noisy';
  /**
   * The quality of the JPEG found in a non-JPEG input's pixels (UpscaleOptions.sourceJpegHistory) when the run took
   * it for a JPEG input: its settings are those for that quality, and the constraint runs on that quality's IJG table
   * (detectedJpegGrid); null otherwise (a JPEG file, a clean input, none found or looked for).
   */
  jpegDetected: number | null;
  /**
   * The noise std estimated in the input (grey levels, 2 decimals) under `input` auto or noisy, whether or not it was
   * removed; null when none was made (an explicit `noise`, input clean or jpeg, a JPEG input).
   */
  noiseEstimate: number | null;
  /** The input's noise std removed first (grey levels), 0 for none, and the model that removed it (null for none). */
  noise: number;
  denoiser: string | null;
}

/** The shipped model `noise` is removed with unless `denoiser` names another: the Gaussian prior. */
export const DENOISER_MODEL = 'gaussian';

/** The largest `noise` accepted (grey levels): more is not a photo's noise but a typo. */
export const MAX_NOISE = 50;

/** What `upscale` returns: the image, its samples, the settings it ran with (seed included) and what it cost. */
export interface UpscaleResult {
  /** The super-resolved image (the reduced one when samples > 1). */
  image: ImageTensor;
  /** Every sample, when reduce is none or samples > 1. */
  samples: ImageTensor[];
  settings: UpscaleSettings;
  stats: { seconds: number; modelSeconds: number; evaluations: number };
  /** With `uncertainty: true`: the per-pixel luma std across the samples (grey levels, 0..255 scale); else null. */
  uncertainty: UncertaintyMap | null;
}

/** Back-projection converges in ~10 iterations at x4 (measured on validation crops); more is a typo. */
export const MAX_BACK_PROJECT = 100;

/**
 * Resolves and validates options against a model's manifest (presets, defaults), before any work and before the
 * model file is read; `device` and `precision` (default: options.precision resolved for this device and model:
 * resolvePrecision, auto when not given) are recorded in the settings.
 */
export function resolveSettings(
  options: UpscaleOptions,
  m: ModelManifest,
  device: Device = 'cpu',
  precision: Precision = resolvePrecision(precisionOf(options.precision), { device, manifest: m }).precision,
): UpscaleSettings {
  let preset: PresetSettings = {};
  if (options.preset !== undefined) {
    const names = Object.keys(m.presets);
    if (!names.includes(options.preset)) {
      throw new UsageError(`Unknown preset ${JSON.stringify(options.preset)} for model ${m.name}; it has: ${names.join(', ') || 'none'}`);
    }
    preset = m.presets[options.preset]!;
  }
  const requested = oneOf('input', options.input ?? 'auto', INPUT_KINDS);
  // an estimate counts only where one is looked for (an explicit noise, clean or a JPEG input ignore it)
  const estimated = typeof options.sourceNoise === 'number' && looksForNoise(options) ? options.sourceNoise : null;
  // a JPEG file's quality, else that of a JPEG found in the pixels (auto or jpeg)
  const jpegQuality = sourceQualityOf({ ...options, input: requested });
  const input = inputKindOf(requested, jpegQuality, estimated);
  const forInput: PresetSettings = input === 'jpeg' ? jpegInputSettings(m, jpegQuality) : {};
  const detected = input === 'jpeg' && typeof options.sourceJpegQuality !== 'number' && jpegQuality !== null ? jpegQuality : null;
  // An explicit option wins, then the model's settings for a degraded input, then the preset, then the model's
  // defaults, then the library's.
  const pick = <K extends keyof PresetSettings & keyof UpscaleOptions>(k: K) =>
    (options[k] !== undefined
      ? options[k]
      : forInput[k] !== undefined
        ? forInput[k]
        : preset[k] !== undefined
          ? preset[k]
          : m.defaults[k]) as UpscaleOptions[K] | undefined;
  const factor = positiveInteger('factor', options.factor ?? DEFAULT_FACTOR);
  const t = integerInRange('t', pick('t') ?? m.defaults.t, 1, m.T - 1);
  const c = pick('cascade') ?? 1;
  let passes: number[];
  if (typeof c === 'number') passes = new Array<number>(positiveInteger('cascade', c)).fill(t);
  else {
    if (!Array.isArray(c) || c.length === 0)
      throw new UsageError(`Expected a positive integer or a non-empty list of t for cascade but received ${JSON.stringify(c)}`);
    passes = c.map((v) => integerInRange('t', v, 1, m.T - 1));
  }
  // a soft-resample model's first pass starts at the level the factor implies (its t is recorded, not chosen)
  if (m.family.kind === 'soft-resample' && factor > 1) passes[0] = Math.round(m.family.levels * levelOfFactor(m.family, factor));
  const samples = positiveInteger('samples', options.samples ?? pick('samples') ?? 1);
  const seed = options.seed ?? createRng().seed;
  integerInRange('seed', seed, 0, 0xffffffff);
  // a noisy input's estimate is removed to a tenth of a grey level (what `--noise` repeats), at most MAX_NOISE
  const found = input === 'noisy' && estimated !== null ? Math.min(MAX_NOISE, Math.round(estimated * 10) / 10) : 0;
  const noise = numberInRange('noise', options.noise ?? found, 0, MAX_NOISE);
  const denoiser = options.denoiser ?? DENOISER_MODEL;
  return {
    model: m.name,
    device,
    precision,
    factor,
    passes,
    // the steps that run: a pass runs at most t reverse steps (setTimesteps), so `--steps 50 --t 20` records 20
    // (the same run when repeated); a soft-resample model's steps are levels, not capped by t
    steps: ((n) => (m.family.kind === 'soft-resample' ? n : Math.min(n, Math.max(...passes))))(
      positiveInteger('steps', pick('steps') ?? m.defaults.steps),
    ),
    upsampler: oneOf('upsampler', pick('upsampler') ?? 'bicubic', KERNELS),
    backProject: integerInRange('backProject', pick('backProject') ?? 0, 0, MAX_BACK_PROJECT),
    sampler: oneOf('sampler', pick('sampler') ?? 'ancestral', SAMPLER_KINDS),
    eta: numberInRange('eta', pick('eta') ?? 0, 0, 1),
    recorrupt: recorruptOf(pick('recorrupt') as boolean | number | undefined, m, input === 'jpeg' ? jpegQuality : null),
    jpegConstraint: booleanOf('jpegConstraint', pick('jpegConstraint') ?? false) && input === 'jpeg',
    consistency: oneOf('consistency', pick('consistency') ?? 'ddnm', CONSISTENCY_KINDS),
    seed,
    samples,
    reduce: oneOf('reduce', options.reduce ?? 'mean', REDUCE_KINDS),
    preset: options.preset ?? null,
    input,
    jpegDetected: detected,
    noiseEstimate: estimated === null ? null : Math.round(estimated * 100) / 100,
    noise,
    denoiser: noise > 0 ? (typeof denoiser === 'object' ? denoiser.manifest.name : denoiser) : null,
  };
}

/**
 * A model's settings for a JPEG input saved at `quality` (null: unknown, as for `input` jpeg on a PNG, which counts as
 * below every bound): its `inputs.jpeg`, then over them each `jpeg<Q` the quality is below, the highest Q first.
 */
export function jpegInputSettings(m: Pick<ModelManifest, 'inputs'>, quality: number | null): PresetSettings {
  let s: PresetSettings = { ...(m.inputs.jpeg ?? {}) };
  for (const band of m.inputs.jpegBelow ?? []) if (quality === null || quality < band.quality) s = { ...s, ...band.settings };
  return s;
}

/**
 * `recorrupt` resolved: a boolean (only true for a soft-resample model: a Gaussian one has no level to corrupt to), or
 * a model's JPEG quality bound: true for a JPEG input saved below it, or of unknown quality (`--input jpeg` on a PNG).
 */
function recorruptOf(v: boolean | number | undefined, m: ModelManifest, jpegQuality: number | null): boolean {
  if (v !== undefined && typeof v !== 'boolean' && typeof v !== 'number') {
    throw new UsageError(`Expected true or false for recorrupt but received ${String(v)}`);
  }
  const on = typeof v === 'number' ? jpegQuality === null || jpegQuality < v : (v ?? false);
  if (on && m.family.kind !== 'soft-resample') throw new UsageError(`recorrupt is for soft-resample models; ${m.name} is ${m.family.kind}`);
  return on;
}

/** What a job will cost, known before it starts. */
export interface WorkEstimate {
  /** Model evaluations per tile: passes × reverse steps × samples. */
  evaluations: number;
  /** Tiles the output is split into. */
  tiles: number;
  /** Megapixels of model input over the whole job (tile area × tiles × evaluations). */
  megapixelEvaluations: number;
  /** Estimated seconds on the CPU EP (the manifest's reference speed), or null when the model has no speed record. */
  cpuSeconds: number | null;
  /** The tiles' height and width (every tile of a plan has this shape). */
  tileHeight: number;
  tileWidth: number;
  /**
   * The best estimate of the job's seconds: at the speed measured on this machine (`speed` measured) when one was
   * given, else cpuSeconds (`speed` manifest); null when neither is known.
   */
  seconds: number | null;
  speed: 'measured' | 'manifest' | null;
}

/**
 * The work of super-resolving a height x width input with these settings (no model file needed); `measured`: the
 * speed measured on this machine for the plan's tile shape (lookupSpeed), which `seconds` then uses.
 */
export function estimateWork(
  s: UpscaleSettings,
  manifest: ModelManifest,
  height: number,
  width: number,
  tiling?: TilingOptions,
  measured?: MeasuredSpeed | null,
): WorkEstimate {
  const evaluations = evaluationsPerTile(s);
  const plan = tilePlan(manifest.multiple, height * s.factor, width * s.factor, tilingFor(s, manifest, tiling), manifest.patch);
  const tileArea = plan.tiles.reduce((a, tl) => a + tl.height * tl.width, 0);
  const megapixelEvaluations = (tileArea * evaluations) / 1e6;
  const cpuSeconds = manifest.cpuSecondsPerMegapixel === null ? null : megapixelEvaluations * manifest.cpuSecondsPerMegapixel;
  const seconds = measured ? secondsAt(measured, plan.tiles.length * evaluations) : cpuSeconds;
  return {
    evaluations,
    tiles: plan.tiles.length,
    megapixelEvaluations,
    cpuSeconds,
    tileHeight: plan.tiles[0]!.height,
    tileWidth: plan.tiles[0]!.width,
    seconds,
    speed: measured ? 'measured' : cpuSeconds === null ? null : 'manifest',
  };
}

/** Model evaluations of each tile over a run: reverse steps over all passes, times the samples. */
function evaluationsPerTile(s: UpscaleSettings): number {
  return s.passes.reduce((sum, t) => sum + Math.min(s.steps, t), 0) * s.samples;
}

/**
 * The radius (in p×p blocks) of the patch-grid removal on a soft-resample model's outputs (TilingOptions.removeGrid).
 * Chosen on the shipped default model (benchmarks/patch-grid.ts): at radius 2 its output's spectrum spike at the
 * patch period on a flat-textured input is at most 2× its neighbours' at x3 and x4; PSNR-Y on 48 validation crops
 * moves by −0.018 / −0.012 / +0.001 dB at x2 / x4 / x8. Radius 3 costs less (−0.007 / −0.002 / 0) but leaves a 2.2×
 * spike at x4.
 */
export const GRID_RADIUS = 2;

/**
 * The tiling a run uses, unless the caller says otherwise: the patch grid moves between evaluations
 * (TilingOptions.shiftGrid) when the run evaluates each tile more than once (else nothing to average, and no extra
 * padding); a soft-resample model's outputs lose their grid pattern (TilingOptions.removeGrid).
 */
function tilingFor(s: UpscaleSettings, manifest: ModelManifest, tiling: TilingOptions | undefined): TilingOptions {
  return {
    ...tiling,
    shiftGrid: tiling?.shiftGrid ?? evaluationsPerTile(s) > 1,
    removeGrid: tiling?.removeGrid ?? (manifest.family.kind === 'soft-resample' ? GRID_RADIUS : false),
  };
}

/** A run's seconds at a measured speed: its tile evaluations, and the pipeline's share around them. */
const secondsAt = (m: Pick<MeasuredSpeed, 'secondsPerEvaluation' | 'overhead'>, tileEvaluations: number): number =>
  tileEvaluations * m.secondsPerEvaluation * (1 + m.overhead);

/**
 * estimateWork at the speed measured on this machine when there is one for this model, device and tile shape
 * (the speed cache; device auto counts as cpu, the slower one, before the model is loaded), else at the manifest's.
 */
export async function estimateWorkHere(
  s: UpscaleSettings,
  manifest: ModelManifest,
  height: number,
  width: number,
  options: { tiling?: TilingOptions | undefined; device?: DeviceRequest | undefined } = {},
): Promise<WorkEstimate> {
  const plain = estimateWork(s, manifest, height, width, options.tiling);
  const device: Device = options.device === 'webgpu' ? 'webgpu' : 'cpu';
  const batch = options.tiling?.batch ?? defaultTileBatch(device, plain.tiles);
  const sha256 = modelFileSha256(manifest, s.precision);
  const measured = await lookupSpeed({ sha256, device, height: plain.tileHeight, width: plain.tileWidth, batch });
  return measured ? estimateWork(s, manifest, height, width, options.tiling, measured) : plain;
}

/** Super-resolves an image (a [3, H, W] tensor in [-1, 1], a file path or encoded bytes). */
export async function upscale(
  input: ImageTensor | string | Buffer,
  options: UpscaleOptions = {},
  ctx: UpscaleContext = {},
): Promise<UpscaleResult> {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const decoded = await decodeImage(input);
    const known = { sourceJpegQuality: decoded.jpegQuality, sourceJpegGrid: decoded.jpegGrid, ...options };
    return withModel(options, (model) => upscaleWith(decoded.rgb, model, known, ctx));
  }
  return withModel(options, (model) => upscaleWith(input, model, options, ctx));
}

/** Loads the model named in options (or uses the one given), runs `fn`, and releases a model it loaded. */
export async function withModel<R>(
  options: Pick<UpscaleOptions, 'model' | 'device' | 'precision'>,
  fn: (m: ModelSession) => Promise<R>,
  load: Pick<LoadModelOptions, 'onNote' | 'manifest'> = {},
): Promise<R> {
  if (typeof options.model === 'object') return fn(options.model);
  const model = await loadModel(options.model, { ...load, device: options.device ?? 'cpu', precision: precisionOf(options.precision) });
  try {
    return await fn(model);
  } finally {
    await model.dispose();
  }
}

/** A tensor's run: its options resolved and checked here (the boundary), then run with the model. */
async function upscaleWith(input: ImageTensor, model: ModelSession, given: UpscaleOptions, ctx: UpscaleContext): Promise<UpscaleResult> {
  // input auto|jpeg: a JPEG in the pixels; auto|noisy: the noise in them, estimated once (at most 20,000 patches)
  const options = withPixelEstimates(given, input);
  const s = resolveSettings(options, model.manifest, model.device, model.precision ?? 'float');
  checkUncertainty(options, s);
  const { channels, height, width } = dims(input);
  if (channels !== 3) throw new UsageError(`Expected a 3-channel RGB image but received ${channels} channels`);
  checkOutputSize(height, width, s.factor);
  return runSettings(input, model, s, { ...options, uncertainty: options.uncertainty === true }, ctx);
}

/** What a run takes besides its settings and context: the tiling, the model that removes noise, the map, the JPEG's table. */
type RunOptions = Pick<UpscaleOptions, 'tiling' | 'denoiser' | 'sourceJpegGrid'> & { uncertainty: boolean };

/** The work of a run with settings already resolved and checked (a 3-channel input, an output within the limits). */
async function runSettings(
  input: ImageTensor,
  model: ModelSession,
  s: UpscaleSettings,
  options: RunOptions,
  ctx: UpscaleContext,
): Promise<UpscaleResult> {
  const started = performance.now();
  const { height, width } = dims(input);
  const { signal, onProgress } = ctx;
  throwIfAborted(signal);
  // the noise removed first, at the input's size (one evaluation there; loading the denoiser, when named, costs more)
  const lr =
    s.noise > 0
      ? await withModel({ model: options.denoiser ?? DENOISER_MODEL, device: model.device }, (d) => removeNoise(input, s.noise, d, signal))
      : input;
  // Where the sampler is, for the tile events within a step: the step after the last one reported (the next pass's
  // first, or the next sample's, after a pass's last step).
  let at = { sample: 1, pass: 1, step: 0, totalSteps: s.steps, t: s.passes[0]! };
  const denoiser = createDenoiser(model, height * s.factor, width * s.factor, {
    ...tilingFor(s, model.manifest, options.tiling),
    ...(signal ? { signal } : {}),
    onTiles: (tile, tiles) => onProgress?.({ ...base, ...at, stage: 'tile', tile, tiles }),
  });
  const tiles = denoiser.plan.tiles.length;
  const base = { pass: 0, passes: s.passes.length, step: 0, totalSteps: 0, sample: 0, samples: s.samples, t: 0, tile: 0, tiles };
  // only for a caller that asks (the CLI): evaluations, sweeps and benchmarks neither time nor record anything
  const estimate = ctx.onEstimate ? await estimateRun(s, model, height, width, options, denoiser) : null;
  if (estimate) ctx.onEstimate?.(estimate.estimate);
  throwIfAborted(signal);
  const sampling = performance.now();
  onProgress?.({ ...base, stage: 'upsample' });
  const { family, prediction } = model.manifest;
  const soft = family.kind === 'soft-resample' ? family : null;
  const up = upsample(lr, s.factor, s.upsampler);
  // The Gaussian family starts from a back-projected enlargement. A soft-resample model must start from the plain
  // enlargement it was trained on, so for it the back-projection runs on each output instead.
  // One iteration at a time (the same as all at once), reported and with the stop checked between: on a large
  // output (x8 of 1024x680: 44 MP) the iterations take seconds each, before the first tile.
  for (let i = 0; i < (soft ? 0 : s.backProject); i++) {
    backProject(up, lr, s.factor, 1, up);
    onProgress?.({ ...base, stage: 'upsample', step: i + 1, totalSteps: s.backProject });
    await new Promise((r) => setImmediate(r));
    throwIfAborted(signal);
  }
  const schedule = makeSchedule(model.manifest.T, model.manifest.betas);
  const rng = createRng(s.seed);
  const outputs: ImageTensor[] = [];
  const consistency = s.consistency === 'none' ? null : { y: lr, factor: s.factor, kind: s.consistency };
  // the JPEG's own coefficients constrain the input as it was decoded (before any noise removal)
  // (a JPEG file's grid, else that of a JPEG found in the pixels)
  const grid = options.sourceJpegGrid ?? (s.jpegDetected !== null ? detectedJpegGrid(s.jpegDetected) : null);
  const jpeg = s.jpegConstraint && grid ? jpegLumaConstraint(input, grid, JPEG_CONSTRAINT_SLACK) : null;
  // An output's refinement after its passes: `backProject` iterations onto the input (a soft-resample model's), then
  // the JPEG constraint's. One iteration at a time (the same as all at once), reported and with the stop checked
  // between: on a large output (x8 of 1024x680: 44 MP) each takes about 3 s.
  const refine = async (out: ImageTensor, backProjections: number, sample: number) => {
    const total = backProjections + (jpeg ? JPEG_CONSTRAINT_ITERATIONS : 0);
    for (let i = 0; i < total; i++) {
      if (i < backProjections) backProject(out, lr, s.factor, 1, out);
      else jpegProjectionStep(out, jpeg!, s.factor);
      if (jpeg && i === total - 1) clipUnit(out);
      onProgress?.({ ...base, ...at, sample, stage: 'refine', step: i + 1, totalSteps: total });
      await new Promise((r) => setImmediate(r));
      throwIfAborted(signal);
    }
  };
  for (let k = 0; k < s.samples; k++) {
    at = { ...at, sample: k + 1, pass: 1, step: 0, t: s.passes[0]! };
    const common = {
      passes: s.passes,
      steps: s.steps,
      consistency,
      rng,
      denoise: denoiser.denoise,
      ...(signal ? { signal } : {}),
      onProgress: (e: BoomerangProgress) => {
        const last = e.step >= e.totalSteps && e.pass < e.passes;
        at = {
          sample: k + 1,
          pass: last ? e.pass + 1 : e.pass,
          step: last ? 0 : e.step,
          totalSteps: e.totalSteps,
          t: last ? s.passes[e.pass]! : e.t,
        };
        onProgress?.({ ...base, stage: 'boomerang', pass: e.pass, step: e.step, totalSteps: e.totalSteps, sample: k + 1, t: e.t });
      },
    };
    if (soft) {
      // ancestral: the level's noise at the start and fresh noise at every jump (η = 1); ddim: η of both
      const eta = s.sampler === 'ancestral' ? 1 : s.eta;
      const out = await softCascade(up, { ...common, corruption: soft, factor: s.factor, eta, recorrupt: s.recorrupt });
      await refine(out, s.backProject, k + 1);
      outputs.push(out);
      continue;
    }
    const out = await runCascade(up, {
      ...common,
      schedule,
      prediction: prediction as Exclude<typeof prediction, 'residual'>,
      sampler: s.sampler,
      eta: s.eta,
      // the last sample may noise the upsampled image in place: it is not needed after that (one image less)
      consumeInput: k === s.samples - 1,
    });
    await refine(out, 0, k + 1);
    outputs.push(out);
  }
  const image = s.samples === 1 ? outputs[0]! : s.reduce === 'none' ? outputs[0]! : reduceSamples(outputs, s.reduce);
  if (estimate)
    await recordRun(estimate.key, denoiser.stats, (performance.now() - sampling) / 1000 - (estimate.estimate.pipelineSeconds ?? 0));
  onProgress?.({ ...base, stage: 'done', sample: s.samples });
  return {
    image,
    samples: outputs,
    // what ran: the constraint needs the JPEG's table, which a PNG or a colour-converted JPEG lacks
    settings: s.jpegConstraint && !jpeg ? { ...s, jpegConstraint: false } : s,
    uncertainty: options.uncertainty ? uncertaintyMap(outputs) : null,
    stats: {
      seconds: (performance.now() - started) / 1000,
      modelSeconds: denoiser.stats.modelSeconds,
      evaluations: denoiser.stats.evaluations,
    },
  };
}

/** The input denoised by one evaluation of a Gaussian-family model at the step of its noise level (denoiseInput). */
async function removeNoise(lr: ImageTensor, noise: number, d: ModelSession, signal: AbortSignal | undefined): Promise<ImageTensor> {
  const m = d.manifest;
  if (m.family.kind !== 'gaussian' || m.prediction === 'residual') {
    throw new UsageError(`Expected a Gaussian-family model to remove --noise, but ${m.name} is ${m.family.kind}`);
  }
  const { height, width } = dims(lr);
  const denoise = createDenoiser(d, height, width, signal ? { signal } : {}).denoise;
  return denoiseInput(lr, noise, { schedule: makeSchedule(m.T, m.betas), prediction: m.prediction, denoise });
}

/** UsageError when an uncertainty map is asked for (a flag or an output path) with fewer than 2 samples. */
export function checkUncertainty(options: Pick<UpscaleOptions, 'uncertainty'>, s: Pick<UpscaleSettings, 'samples'>): void {
  if (options.uncertainty !== undefined && typeof options.uncertainty !== 'boolean') {
    throw new UsageError(`Expected boolean for uncertainty but received ${String(options.uncertainty)}`);
  }
  if (options.uncertainty === true && s.samples < 2) {
    throw new UsageError(`An uncertainty map needs at least 2 samples (--samples K) but the run has ${s.samples}`);
  }
}

/**
 * What a run will take (see UpscaleContext.onEstimate): at the speed measured here for this model, device and run
 * shape when there is one; else, for a job the manifest puts over CALIBRATE_ABOVE_SECONDS (without a manifest
 * speed: at about 1 s per megapixel evaluated), timed now at the run shape; else at the manifest's speed.
 */
async function estimateRun(
  s: UpscaleSettings,
  model: ModelSession,
  height: number,
  width: number,
  options: Pick<UpscaleOptions, 'tiling'>,
  denoiser: ReturnType<typeof createDenoiser>,
): Promise<{ estimate: TimeEstimate; key: SpeedKey }> {
  const first = denoiser.plan.tiles[0]!;
  const key: SpeedKey = {
    sha256: sessionSha256(model),
    device: model.device,
    height: first.height,
    width: first.width,
    batch: denoiser.batch,
  };
  const measured = await lookupSpeed(key);
  const work = estimateWork(s, model.manifest, height, width, options.tiling, measured);
  const common = { tileEvaluations: work.tiles * work.evaluations, tiles: work.tiles, calibrationSeconds: 0 };
  const pipeline = () => pipelineResizes(s, model.manifest) * height * s.factor * width * s.factor * secondsPerResizedPixel(s.factor);
  if (measured) {
    const pipelineSeconds = pipeline();
    return {
      key,
      estimate: {
        ...common,
        seconds: work.seconds! + pipelineSeconds,
        secondsPerEvaluation: measured.secondsPerEvaluation,
        source: 'measured',
        pipelineSeconds,
      },
    };
  }
  if ((work.cpuSeconds ?? work.megapixelEvaluations * ASSUMED_SECONDS_PER_MEGAPIXEL) < CALIBRATE_ABOVE_SECONDS) {
    const source = work.cpuSeconds === null ? null : 'manifest';
    return { key, estimate: { ...common, seconds: work.cpuSeconds, secondsPerEvaluation: null, source, pipelineSeconds: null } };
  }
  const t0 = performance.now();
  const secondsPerEvaluation = await denoiser.time(s.passes[0]!);
  const pipelineSeconds = pipeline();
  const seconds = secondsAt({ secondsPerEvaluation, overhead: DEFAULT_OVERHEAD }, common.tileEvaluations) + pipelineSeconds;
  const calibrationSeconds = (performance.now() - t0) / 1000;
  return { key, estimate: { ...common, calibrationSeconds, seconds, secondsPerEvaluation, source: 'calibrated', pipelineSeconds } };
}

/**
 * Full-resolution resize pairs (a shrink to the input's size and an enlargement back, as one back-projection
 * iteration does) a run makes besides the model, per the settings: the back-projection iterations, one per reverse
 * step for ibp, and for a soft-resample model the corruption of each later pass (and of the first with recorrupt) and
 * the two of every jump that is not the last of its pass, and the JPEG constraint's iterations. ddnm's block means
 * are cheap and not counted.
 */
export function pipelineResizes(s: UpscaleSettings, m: ModelManifest): number {
  const steps = s.passes.reduce((sum, t) => sum + (m.family.kind === 'soft-resample' ? s.steps : Math.min(s.steps, t)), 0);
  let pairs = s.backProject + (s.consistency === 'ibp' ? steps : 0) + (s.jpegConstraint ? JPEG_CONSTRAINT_ITERATIONS : 0);
  if (m.family.kind === 'soft-resample') pairs += s.passes.length - 1 + (s.recorrupt ? 1 : 0) + 2 * (steps - s.passes.length);
  return pairs * s.samples;
}

/** Seconds per output pixel of one resize pair at this factor on this machine: one back-projection iteration, timed. */
function secondsPerResizedPixel(factor: number): number {
  const side = factor * Math.max(1, Math.ceil(256 / factor));
  const lr = createImage(3, side / factor, side / factor);
  const x = createImage(3, side, side);
  for (let i = 0; i < x.data.length; i++) x.data[i] = 0.5 * Math.sin(0.37 * i);
  backProject(x, lr, factor, 1, x); // warm-up
  const t0 = performance.now();
  backProject(x, lr, factor, 2, x);
  return (performance.now() - t0) / 1000 / 2 / (side * side);
}

/**
 * Keeps what a finished run measured (model time per tile evaluation, the time around it) for the next estimate;
 * `seconds` without the pipeline's resizes, which the next estimate times afresh for its own settings.
 */
async function recordRun(key: SpeedKey, stats: { evaluations: number; modelSeconds: number }, seconds: number): Promise<void> {
  if (stats.evaluations < 3 || !(stats.modelSeconds > 0)) return; // too little to go by
  await recordSpeed(key, {
    secondsPerEvaluation: stats.modelSeconds / stats.evaluations,
    overhead: Math.max(0, (seconds - stats.modelSeconds) / stats.modelSeconds),
    measured: new Date().toISOString(),
    evaluations: stats.evaluations,
  });
}

/** Per-pixel mean or median of K images of one size. */
export function reduceSamples(images: readonly ImageTensor[], how: 'mean' | 'median'): ImageTensor {
  const first = images[0]!;
  const { channels, height, width } = dims(first);
  const out = createImage(channels, height, width);
  const n = images.length;
  const buf = new Float64Array(n);
  for (let i = 0; i < out.data.length; i++) {
    if (how === 'mean') {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += images[k]!.data[i]!;
      out.data[i] = sum / n;
    } else {
      for (let k = 0; k < n; k++) buf[k] = images[k]!.data[i]!;
      buf.sort();
      out.data[i] = n % 2 ? buf[(n - 1) / 2]! : (buf[n / 2 - 1]! + buf[n / 2]!) / 2;
    }
  }
  return out;
}

/** `upscaleFile`'s options: `upscale`'s, and how the input is decoded and the output written. */
export interface UpscaleFileOptions extends UpscaleOptions {
  /** Passed to the decoder (e.g. limitInputPixels). */
  decode?: DecodeOptions;
  /**
   * Encoder quality 1..100 for .jpg, .webp and .avif outputs (ignored by the lossless .png and .tif). Default
   * sharp's: 80 for JPEG and WebP, 50 for AVIF.
   */
  quality?: number;
  /**
   * Write the output without the input's metadata. By default an output keeps the input's EXIF (Orientation set
   * to 1, as the pixels are turned upright at decode; the thumbnail dropped; not in TIFF outputs), XMP and ICC
   * profile (the pixels stay in the profile's colour space throughout); IPTC is never kept (onWarning says so).
   * With stripMetadata the pixels are converted to sRGB and the output carries no metadata at all.
   */
  stripMetadata?: boolean;
  /**
   * Replace an existing output file. Default false, as in `upscaleBatch`, `upscaleInputs` and `sr upscale`
   * (`--force`): an existing output is an OutputError, checked before any work and again, atomically, when the
   * finished file is put in place.
   */
  force?: boolean;
  /**
   * Also write the uncertainty map (see `uncertainty`) as a PNG at this path, coloured on the fixed scale of
   * docs/cli.md (black = the samples agree, pale yellow = a std of 32 grey levels or more). Needs samples ≥ 2;
   * follows the same overwrite rule as the output (`force`).
   */
  uncertaintyMap?: string;
}

/**
 * The files one output path stands for: the path itself, or with K samples kept apart (reduce none, K > 1)
 * one file per sample, `<stem>-s1<ext>` … `<stem>-sK<ext>`.
 */
export function outputFiles(output: string, s: Pick<UpscaleSettings, 'samples' | 'reduce'>): string[] {
  if (s.samples <= 1 || s.reduce !== 'none') return [output];
  const ext = extname(output);
  const stem = ext ? output.slice(0, -ext.length) : output;
  return Array.from({ length: s.samples }, (_, k) => `${stem}-s${k + 1}${ext}`);
}

/**
 * Reads `input`, super-resolves it and writes `output` (format by extension; written to a temporary file and
 * renamed, so no half-written file is left). Alpha is enlarged with the upsampler and re-attached; 16-bit inputs
 * give 16-bit outputs where the format allows. Of an animation only the first frame is used (onWarning says so).
 * Refuses (OutputError) to write over the input or, without `force: true`, over an existing output, and
 * (UsageError) an output beyond the supported size, before any work. With K samples and reduce none, every sample is written (`outputFiles` names them). The output keeps
 * the input's EXIF (Orientation 1), XMP and ICC profile unless `stripMetadata` (see UpscaleFileOptions).
 */
export async function upscaleFile(
  input: string,
  output: string,
  options: UpscaleFileOptions = {},
  ctx: UpscaleContext = {},
): Promise<UpscaleResult> {
  formatFromPath(output);
  checkFileOptions(options);
  if (await sameFile(input, output)) throw new OutputError(`Refusing to write over the input ${input}`);
  // before any work (with reduce none the sample files are checked once the settings name them)
  if (options.force !== true && options.reduce !== 'none' && (await pathExists(output))) {
    throw new OutputExistsError(output, `Output ${output} exists; refusing to overwrite it (force: true, --force in sr, replaces it)`);
  }
  if (options.uncertaintyMap !== undefined) await checkUncertaintyFile(input, output, options);
  const decoded = await decodeImage(input, decodeOptions(options));
  // before the model loads (the pipeline checks the tensor too, after)
  checkOutputSize(decoded.height, decoded.width, options.factor ?? DEFAULT_FACTOR, input);
  warnFrames(input, decoded, ctx);
  const wantsMap = options.uncertaintyMap !== undefined;
  const opts = withPixelEstimates(
    {
      sourceJpegQuality: decoded.jpegQuality,
      sourceJpegGrid: decoded.jpegGrid,
      ...options,
      ...(wantsMap ? { uncertainty: true } : {}),
    },
    decoded.rgb,
  );
  const result = await withModel(options, async (model) => {
    const s = resolveSettings(opts, model.manifest, model.device, model.precision ?? 'float');
    checkUncertainty(opts, s);
    const files = outputFiles(output, s);
    for (const file of files.length > 1 ? files : []) {
      if (await sameFile(input, file)) throw new OutputError(`Refusing to write over the input ${input}`);
    }
    return runSettings(decoded.rgb, model, s, { ...opts, uncertainty: opts.uncertainty === true }, ctx);
  });
  await writeResult(input, decoded, output, result, options, ctx);
  return result;
}

/**
 * A file as a plan checked it (its header; its outputs: none is the input, none exists unless `force`; the
 * uncertainty map's path) with the settings resolved for it: what `upscalePlanned` runs without checking again.
 */
export interface PlannedUpscale {
  input: string;
  output: string;
  /** Resolved for this input (its JPEG quality included); the device is the model's when it runs. */
  settings: UpscaleSettings;
}

/** What a planned file's run takes besides its settings: the loaded model, and how the file is read and written. */
export interface PlannedUpscaleOptions
  extends Pick<UpscaleFileOptions, 'decode' | 'quality' | 'stripMetadata' | 'force' | 'uncertaintyMap' | 'tiling' | 'denoiser'> {
  model: ModelSession;
}

/** Runs a planned file: decode, the work with the plan's settings, write; nothing resolved or checked again. */
export async function upscalePlanned(p: PlannedUpscale, options: PlannedUpscaleOptions, ctx: UpscaleContext = {}): Promise<UpscaleResult> {
  const { model } = options;
  const decoded = await decodeImage(p.input, decodeOptions(options));
  warnFrames(p.input, decoded, ctx);
  // the device and precision recorded are the model's, what ran (a queue worker's, a webgpu fallback's)
  const s = { ...p.settings, device: model.device, precision: model.precision ?? 'float' };
  const run = { ...options, sourceJpegGrid: decoded.jpegGrid, uncertainty: options.uncertaintyMap !== undefined };
  const result = await runSettings(decoded.rgb, model, s, run, ctx);
  await writeResult(p.input, decoded, p.output, result, options, ctx);
  return result;
}

/** UsageError for a bad quality, stripMetadata or force: checked before anything is read. */
export function checkFileOptions(options: Pick<UpscaleFileOptions, 'quality' | 'stripMetadata' | 'force'>): void {
  if (options.quality !== undefined) integerInRange('quality', options.quality, 1, 100);
  for (const key of ['stripMetadata', 'force'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new UsageError(`Expected boolean for ${key} but received ${String(options[key])}`);
    }
  }
}

/** The uncertainty map's path: a .png, not the input or the output, not an existing file without force. */
export async function checkUncertaintyFile(input: string, output: string, options: UpscaleFileOptions): Promise<void> {
  const path = options.uncertaintyMap!;
  if (formatFromPath(path) !== 'png') throw new UsageError(`Expected a .png path for the uncertainty map but received ${path}`);
  if (await sameFile(input, path)) throw new OutputError(`Refusing to write the uncertainty map over the input ${input}`);
  if (resolvePath(path) === resolvePath(output) || (await sameFile(output, path))) {
    throw new OutputError(`Refusing to write the uncertainty map ${path} over the output ${output}`);
  }
  if (options.force !== true && (await pathExists(path))) {
    throw new OutputExistsError(path, `Output ${path} exists; refusing to overwrite it (force: true, --force in sr, replaces it)`);
  }
}

const pathExists = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** Keeping metadata keeps the pixels in the input's ICC profile (attached again at encode). */
const decodeOptions = (options: UpscaleFileOptions): DecodeOptions => ({
  ...options.decode,
  keepIccProfile: options.stripMetadata !== true,
});

/** Of an animation or a multi-page file only the first frame is used: a warning says so. */
function warnFrames(input: string, decoded: DecodedImage, ctx: UpscaleContext): void {
  if (decoded.frames > 1) {
    ctx.onWarning?.(`${input} has ${decoded.frames} frames (animated or multi-page); using the first frame only`);
  }
}

/** Writes a finished run: its output (or one file per sample), alpha enlarged alongside, metadata kept or not, the map. */
async function writeResult(
  input: string,
  decoded: DecodedImage,
  output: string,
  result: UpscaleResult,
  options: Pick<UpscaleFileOptions, 'quality' | 'stripMetadata' | 'force' | 'uncertaintyMap'>,
  ctx: UpscaleContext,
): Promise<void> {
  const { signal } = ctx;
  throwIfAborted(signal);
  const alpha = decoded.alpha ? upsample(decoded.alpha, result.settings.factor, result.settings.upsampler) : null;
  const fmt = output.toLowerCase();
  const bitDepth = decoded.bitDepth === 16 && /\.(png|tiff?)$/.test(fmt) ? 16 : 8;
  const files = outputFiles(output, result.settings);
  const images = files.length === 1 ? [result.image] : result.samples;
  const metadata = options.stripMetadata === true ? null : decoded.metadata;
  const lost = metadata ? metadataLost(metadata, formatFromPath(output)) : [];
  if (lost.length > 0) ctx.onWarning?.(`${input}: its ${lost.join(' and ')} metadata cannot be kept in ${basename(output)}`);
  for (const [k, file] of files.entries()) {
    await encodeImage({ rgb: images[k]!, alpha }, file, {
      bitDepth,
      metadata,
      ...(options.quality !== undefined ? { quality: options.quality } : {}),
      ...(options.force === true ? {} : { overwrite: false }),
      ...(signal ? { signal } : {}),
    });
  }
  if (options.uncertaintyMap !== undefined && result.uncertainty) {
    // no metadata: the map's colours are sRGB whatever the input's profile
    await encodeImage({ rgb: uncertaintyImage(result.uncertainty) }, options.uncertaintyMap, {
      ...(options.force === true ? {} : { overwrite: false }),
      ...(signal ? { signal } : {}),
    });
  }
}
