/**
 * Boomerang local sampling (Luzi et al. 2022, §3, Algorithm 1) and its cascade (§6.2).
 *
 * Boomerang_t(x): x_t = √ᾱ_t·x + √(1−ᾱ_t)·ε in one shot, then for each jump (k → prev) of
 * setTimesteps(schedule, t, steps): out = denoise(x_k, k); x̂0 from `out` (clipped); optionally x̂0 projected
 * onto {A·x̂0 = y}; x_prev = step(x_k, x̂0). Returns x_0 clamped to [-1, 1]. Timesteps follow schedule.ts
 * (t in 1..T−1 is the model's training step; the last jump lands on the clean image).
 *
 * The model is an injected `denoise(x_t, t)` returning the raw model output for one image; the caller owns
 * ONNX, padding, batching and tiles. Randomness comes only from `rng`, drawn in a fixed order (forward noise,
 * then one normal per element for each stochastic jump), so one seed repeats a run exactly. The AbortSignal
 * is checked between model evaluations; `onProgress` fires once per completed jump.
 */
import { ModelError, UsageError, throwIfAborted } from '../errors.js';
import { cloneImage, contiguousData, createImage, isContiguous, type ImageTensor } from '../image/tensor.js';
import { backProject, checkLowRes } from './consistency.js';
import { addNoise } from './noise.js';
import { PREDICTION_KINDS, toX0, type PredictionKind } from './predictions.js';
import type { RunContext } from '../run-context.js';
import type { Rng } from './rng.js';
import { SAMPLER_KINDS, jumpCoefficients, type SamplerKind } from './samplers.js';
import { fusedStep } from './update.js';
import { setTimesteps, type Schedule, type TimestepPair } from './schedule.js';

/** Raw model output for one image [C, H, W] at model step t. Must not modify `xt` nor keep it after resolving. */
export type Denoise = (xt: ImageTensor, t: number) => Promise<ImageTensor>;

export interface ConsistencyOptions {
  /** The LR image in [-1, 1], [C, H/factor, W/factor]. */
  y: ImageTensor;
  factor: number;
  /**
   * ddnm (default): exact projection onto A·x̂0 = y with A = factor×factor average pooling (consistency.ts).
   * ibp: one back-projection step through a bicubic degradation per reverse step (LR made by bicubic downscaling).
   */
  kind?: 'ddnm' | 'ibp';
}

export interface BoomerangProgress {
  stage: 'boomerang';
  /** 1-based pass of a cascade (1 of 1 for a single Boomerang). */
  pass: number;
  passes: number;
  /** Jumps completed in this pass, 1..totalSteps. */
  step: number;
  totalSteps: number;
  /** The model step just evaluated. */
  t: number;
}

/** The run context: a stop checked between model evaluations, progress once per completed jump (no warnings). */
export interface BoomerangOptions extends Omit<RunContext<BoomerangProgress>, 'onWarning'> {
  schedule: Schedule;
  prediction: PredictionKind;
  /** Noise to model step t (1..T−1). */
  t: number;
  /** Evenly spaced reverse steps (≤ t); default all t. */
  steps?: number;
  /** Default 'ancestral' (the paper's DDPM sampler). */
  sampler?: SamplerKind;
  /** DDIM η in 0..1, default 0; ignored by 'ancestral'. */
  eta?: number;
  /** Clip x̂0 to [-1, 1] before projection (default true). */
  clip?: boolean;
  /** DDNM-style projection onto the LR image; default null (vanilla Boomerang). */
  consistency?: ConsistencyOptions | null;
  rng: Rng;
  denoise: Denoise;
}

export interface CascadePass {
  /** 1-based. */
  pass: number;
  passes: number;
  t: number;
  output: ImageTensor;
}

export interface CascadeOptions extends Omit<BoomerangOptions, 't'> {
  /** Model step t of each pass, in order (see `cascadeTs`). */
  passes: readonly number[];
  /**
   * The caller gives up the input image: the first pass noises it in place instead of into a copy (later passes
   * always work in place on the previous pass's output). Saves one image of memory. Default false.
   */
  consumeInput?: boolean;
  /** After each pass; `output` is valid during the call only (the next pass noises it in place): copy it to keep it. */
  onPass?: (event: CascadePass) => void;
}

/** Boomerang_t(x): noise x to step t in one shot, then run the reverse pass back to a clean image. */
export async function boomerang(x: ImageTensor, opts: BoomerangOptions): Promise<ImageTensor> {
  const r = resolve(x, opts);
  return runPass(x, r, opts.t, 1, 1, true);
}

/** The reverse pass alone, from an x_t already at model step `opts.t` (no forward noising). */
export async function reverseFrom(xt: ImageTensor, opts: BoomerangOptions): Promise<ImageTensor> {
  const r = resolve(xt, opts);
  return runPass(xt, r, opts.t, 1, 1, false);
}

/**
 * Cascaded Boomerang (§6.2): Boomerang once per entry of `passes`, each pass starting from the previous
 * output, with the same rng stream, model and consistency target. Denoise calls = sum of each pass's steps.
 */
export async function cascade(x: ImageTensor, opts: CascadeOptions): Promise<ImageTensor> {
  const { passes } = opts;
  if (!Array.isArray(passes) || passes.length === 0) {
    throw new UsageError(`Expected a non-empty list of t for passes but received ${JSON.stringify(passes)}`);
  }
  const resolved = passes.map((t) => resolve(x, { ...opts, t })); // validate every pass before any work
  let cur = x;
  for (let k = 0; k < passes.length; k++) {
    cur = await runPass(cur, resolved[k]!, passes[k]!, k + 1, passes.length, true, k > 0 || (opts.consumeInput ?? false));
    opts.onPass?.({ pass: k + 1, passes: passes.length, t: passes[k]!, output: cur });
  }
  return cur;
}

/**
 * The default t per pass for an n-pass cascade: n copies of t. The paper (§6.2) repeats the *same*
 * Boomerang, x_N = B(…B(B(x, t), t)…, t), where t is chosen smaller than a single pass would use; it does not
 * split or decay t across passes. So `t` here is the per-pass t; give an explicit list for any other plan.
 */
export function cascadeTs(t: number, n: number): number[] {
  if (!Number.isInteger(t) || t < 1) throw new UsageError(`Expected positive integer for t but received ${t}`);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`Expected positive integer for passes but received ${n}`);
  return new Array<number>(n).fill(t);
}

interface Resolved {
  schedule: Schedule;
  prediction: PredictionKind;
  pairs: readonly TimestepPair[];
  sampler: SamplerKind;
  eta: number;
  clip: boolean;
  consistency: { y: ImageTensor; factor: number; kind: 'ddnm' | 'ibp' } | null;
  rng: Rng;
  denoise: Denoise;
  signal: AbortSignal | undefined;
  onProgress: ((event: BoomerangProgress) => void) | undefined;
}

/** Validates the options once and fills in the defaults. */
function resolve(x: ImageTensor, opts: BoomerangOptions): Resolved {
  if (x.shape.length !== 3) throw new UsageError(`Expected a [C, H, W] image but received shape ${x.shape.join('x')}`);
  if (!PREDICTION_KINDS.includes(opts.prediction)) {
    throw new UsageError(`Expected prediction eps, x0 or v but received ${String(opts.prediction)}`);
  }
  const sampler = opts.sampler ?? 'ancestral';
  if (!SAMPLER_KINDS.includes(sampler)) throw new UsageError(`Expected sampler ancestral or ddim but received ${String(sampler)}`);
  const eta = opts.eta ?? 0;
  if (!(Number.isFinite(eta) && eta >= 0 && eta <= 1)) throw new UsageError(`Expected eta in 0..1 but received ${eta}`);
  const pairs = setTimesteps(opts.schedule, opts.t, opts.steps);
  let consistency: Resolved['consistency'] = null;
  if (opts.consistency) {
    const { y, factor } = opts.consistency;
    const kind = opts.consistency.kind ?? 'ddnm';
    if (kind !== 'ddnm' && kind !== 'ibp') throw new UsageError(`Expected consistency kind ddnm or ibp but received ${String(kind)}`);
    checkLowRes(x.shape, y, factor);
    consistency = { y: isContiguous(y) ? y : cloneImage(y), factor, kind };
  }
  return {
    schedule: opts.schedule,
    prediction: opts.prediction,
    pairs,
    sampler,
    eta,
    clip: opts.clip ?? true,
    consistency,
    rng: opts.rng,
    denoise: opts.denoise,
    signal: opts.signal,
    onProgress: opts.onProgress,
  };
}

/**
 * Above this many elements (a ~2500x2500 image) the whole-image work between model runs takes seconds, so the
 * pass lets pending events (a Ctrl-C handler) run between its phases and checks the signal again.
 */
const YIELD_ELEMENTS = 3 * 2048 * 2048;

/** Normals drawn at a time when noising in place. */
const NOISE_BAND = 1 << 16;

async function yieldToEvents(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}

/** One Boomerang pass over a private working buffer; returns a new image clamped to [-1, 1]. */
async function runPass(
  x: ImageTensor,
  r: Resolved,
  t: number,
  pass: number,
  passes: number,
  forward: boolean,
  inPlace = false,
): Promise<ImageTensor> {
  const [C, H, W] = x.shape as [number, number, number];
  const { pairs, signal } = r;
  throwIfAborted(signal);
  const xt = startingPoint(contiguousData(x), r, t, forward, inPlace);
  const xtImage = createImage(C, H, W, xt);
  for (let i = 0; i < pairs.length; i++) {
    const { t: k, prevT } = pairs[i]!;
    throwIfAborted(signal);
    // 2. The model's raw output at (x_k, k).
    const out = await r.denoise(xtImage, k);
    throwIfAborted(signal);
    if (out.shape.length !== 3 || out.shape[0] !== C || out.shape[1] !== H || out.shape[2] !== W) {
      throw new ModelError(`Expected denoise output of shape ${C}x${H}x${W} but received ${out.shape.join('x')}`);
    }
    await reverseStep(xtImage, contiguousData(out), r, k, prevT);
    if (xt.length >= YIELD_ELEMENTS) await yieldToEvents(signal);
    r.onProgress?.({ stage: 'boomerang', pass, passes, step: i + 1, totalSteps: pairs.length, t: k });
  }
  // 6. x_0, clamped to the image range.
  for (let i = 0; i < xt.length; i++) {
    const v = xt[i]!;
    xt[i] = v < -1 ? -1 : v > 1 ? 1 : v;
  }
  return xtImage;
}

/**
 * 1. x_t: one-shot forward noising (§3) of `src`, or `src` itself as the given x_t (reverseFrom). In place, the
 *    noise is drawn a band at a time (the same stream as one array).
 */
function startingPoint(src: Float32Array, r: Resolved, t: number, forward: boolean, inPlace: boolean): Float32Array {
  const n = src.length;
  const xt = inPlace ? src : new Float32Array(n);
  if (forward && !inPlace) addNoise(r.schedule, src, t, r.rng.fillNormal(xt), xt);
  else if (forward) {
    const band = new Float32Array(Math.min(n, NOISE_BAND));
    for (let a = 0; a < n; a += band.length) {
      const b = Math.min(n, a + band.length);
      const noise = r.rng.fillNormal(b - a === band.length ? band : band.subarray(0, b - a));
      addNoise(r.schedule, src.subarray(a, b), t, noise, xt.subarray(a, b));
    }
  } else if (!inPlace) xt.set(src);
  return xt;
}

/**
 * 3. x̂0 (clipped), 4. optional projection onto A·x̂0 = y, 5. the jump k → prevT, in place on x_t: one fused pass,
 * bit for bit toX0 → projectConsistency → step (update.ts). Noise is drawn only for a stochastic jump, from rng
 * inside the pass, a band at a time: the stream one array would hold.
 */
async function reverseStep(xtImage: ImageTensor, modelOut: Float32Array, r: Resolved, k: number, prevT: number): Promise<void> {
  const [C, H, W] = xtImage.shape as [number, number, number];
  const xt = xtImage.data as Float32Array;
  const { schedule } = r;
  const alphaBar = schedule.alphasCumprod[k]!;
  const { cx0, cxt, sigma } = jumpCoefficients(schedule, r.sampler, k, prevT, r.eta); // checked once, in resolve
  const common = { cx0, cxt, sigma, channels: C, height: H, width: W, xt, noise: sigma > 0 ? r.rng : undefined };
  if (r.consistency?.kind === 'ibp') {
    // ibp resamples, so it cannot join the fused pass: x̂0 (into the model's output buffer), one back-projection
    // in place, then the jump as a fused pass over that x̂0 given as an x0-prediction (no clip after projecting).
    const x0 = createImage(C, H, W, toX0(r.prediction, modelOut, xt, alphaBar, { clip: r.clip, out: modelOut }));
    backProject(x0, r.consistency.y, r.consistency.factor, 1, x0);
    if (xt.length >= YIELD_ELEMENTS) await yieldToEvents(r.signal);
    fusedStep({ ...common, prediction: 'x0', alphaBar, clip: false, modelOut: x0.data, consistency: null });
    return;
  }
  const consistency = r.consistency ? { y: r.consistency.y.data, factor: r.consistency.factor } : null;
  fusedStep({ ...common, prediction: r.prediction, alphaBar, clip: r.clip, modelOut, consistency });
}
