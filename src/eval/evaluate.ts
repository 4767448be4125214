/**
 * The evaluator behind `sr eval`: scores a folder of SR outputs against ground truth, or makes the outputs first
 * (from given LR images, or from LR made by MATLAB-bicubic downsampling of the HR), one image at a time, with
 * per-image and mean figures and timing.
 */
import type { RunContext } from '../run-context.js';
import { join } from 'node:path';
import { makeFolder } from '../io-safety/atomic.js';
import { InputError, UsageError, throwIfAborted } from '../errors.js';
import { decodeImage, encodeImage } from '../image/io.js';
import { dims } from '../image/tensor.js';
import { createRng, itemSeed } from '../diffusion/rng.js';
import type { ModelSession } from '../model/session.js';
import { MAX_BACK_PROJECT, withModel, type ProgressEvent, type UpscaleSettings } from '../upscale.js';
import { integerInRange, positiveInteger } from '../validate.js';
import { LR_SOURCE_TEXT, cropToMultiple, loadTestSet, type LrSource } from './dataset.js';
import { matchFolders } from './match.js';
import { methodName, runMethod, type Method } from './methods.js';
import { protocolLine } from './protocol.js';
import { meanScore, scoreImages, type ImageScore, type MeanScore } from './score.js';

/** What to score: ground truth, and SR outputs or LR inputs and a method. */
export interface EvaluateOptions {
  /** Folder of ground-truth images. */
  hr: string;
  /** Folder of finished SR outputs to score (matched by name); no method runs. Needs `factor` or `shave`. */
  sr?: string;
  /** Folder of LR inputs (matched by name); the method makes the outputs. */
  lr?: string;
  /** Enlargement factor: with neither sr nor lr, LR is made from HR by MATLAB bicubic at 1/factor. */
  factor?: number;
  /** Pixels shaved from each border; default the factor. */
  shave?: number;
  /** How outputs are made (not with `sr`). Default Boomerang with the model's defaults. */
  method?: Method;
  /** For Boomerang: a model name/folder, or a loaded model. */
  model?: string | ModelSession;
  device?: 'cpu' | 'webgpu' | 'auto';
  /** Only the first N images by name. */
  limit?: number;
  /** Write each output here as <name>.png. */
  saveDir?: string;
}

/** An evaluation's run context: its progress is the method's within an image, with which image it is. */
export interface EvaluateContext extends Omit<RunContext<ProgressEvent & { index: number; total: number; name: string }>, 'onWarning'> {
  /** After each image is scored. */
  onImage?: ((e: { index: number; total: number; score: ImageScore }) => void) | undefined;
}

export type OutputSource = 'sr' | LrSource;

/** `evaluate`'s result: the protocol line, one score per image and their mean. */
export interface Evaluation {
  protocol: string;
  factor: number | null;
  shave: number;
  source: OutputSource;
  sourceText: string;
  method: string;
  settings: UpscaleSettings | null;
  images: ImageScore[];
  mean: MeanScore;
  notes: string[];
}

/** Scores SR outputs, or makes and scores them. See EvaluateOptions. */
export async function evaluate(options: EvaluateOptions, ctx: EvaluateContext = {}): Promise<Evaluation> {
  if (options.sr !== undefined && options.lr !== undefined) throw new UsageError('Expected either an SR folder or an LR folder, not both');
  if (options.sr === undefined && options.lr === undefined && options.factor === undefined) {
    throw new UsageError('Expected an SR folder, an LR folder or a factor');
  }
  if (options.factor !== undefined) positiveInteger('factor', options.factor);
  if (options.shave !== undefined && (!Number.isInteger(options.shave) || options.shave < 0)) {
    throw new UsageError(`Expected non-negative integer for shave but received ${String(options.shave)}`);
  }
  if (options.limit !== undefined) positiveInteger('limit', options.limit);
  if (options.saveDir !== undefined) await makeFolder(options.saveDir);
  return options.sr !== undefined ? scoreFolder(options, options.sr, ctx) : makeAndScore(options, ctx);
}

async function scoreFolder(options: EvaluateOptions, srDir: string, ctx: EvaluateContext): Promise<Evaluation> {
  const shave = options.shave ?? options.factor;
  if (shave === undefined) throw new UsageError('Expected a factor (or a shave) to score an SR folder: the protocol shaves scale pixels');
  const m = await matchFolders(options.hr, srDir, 'sr');
  if (m.pairs.length === 0) throw new InputError(`No images of ${options.hr} and ${srDir} match by name`);
  const notes: string[] = [];
  if (m.onlyHr.length) notes.push(`no SR image for ${m.onlyHr.join(', ')} (skipped)`);
  if (m.onlyOther.length) notes.push(`no HR image for ${m.onlyOther.join(', ')} (skipped)`);
  const pairs = options.limit !== undefined ? m.pairs.slice(0, options.limit) : m.pairs;
  const images: ImageScore[] = [];
  for (const [i, p] of pairs.entries()) {
    throwIfAborted(ctx.signal);
    let hr = (await decodeImage(p.hr)).rgb;
    let sr = (await decodeImage(p.other)).rgb;
    if (options.factor !== undefined) {
      // the HR is cropped to a multiple of the factor; an output made from the uncropped HR is cropped alike
      hr = cropToMultiple(hr, options.factor);
      sr = cropToMultiple(sr, options.factor);
    }
    const a = dims(hr);
    const b = dims(sr);
    if (a.width !== b.width || a.height !== b.height) {
      throw new InputError(`SR ${p.other} is ${b.width}x${b.height} but its HR ${p.hr} is ${a.width}x${a.height}`);
    }
    const t0 = performance.now();
    const { score } = scoreImages([sr], hr, shave);
    const s: ImageScore = {
      name: p.name,
      width: a.width,
      height: a.height,
      ...score,
      seconds: (performance.now() - t0) / 1000,
      evaluations: 0,
    };
    images.push(s);
    ctx.onImage?.({ index: i, total: pairs.length, score: s });
  }
  return {
    protocol: protocolLine(shave),
    factor: options.factor ?? null,
    shave,
    source: 'sr',
    sourceText: `SR images given (${srDir})`,
    method: 'given outputs',
    settings: null,
    images,
    mean: meanScore(images),
    notes,
  };
}

async function makeAndScore(options: EvaluateOptions, ctx: EvaluateContext): Promise<Evaluation> {
  const set = await loadTestSet({
    hr: options.hr,
    ...(options.lr !== undefined ? { lr: options.lr } : {}),
    ...(options.factor !== undefined ? { factor: options.factor } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  });
  const method: Method = options.method ?? { kind: 'boomerang', options: {} };
  if (method.kind === 'upsampler' && method.backProject !== undefined) {
    integerInRange('backProject', method.backProject, 0, MAX_BACK_PROJECT);
  }
  const shave = options.shave ?? set.factor;
  const run = async (model: ModelSession | undefined): Promise<Evaluation> => {
    // one seed for the set (random when not given), so the run can be repeated; each image draws its own noise
    // from it (itemSeed), so that a mean over images averages over noise draws
    const setSeed = method.kind === 'boomerang' ? (method.options.seed ?? createRng().seed) : null;
    const methodFor = (name: string): Method =>
      method.kind === 'boomerang' ? { kind: 'boomerang', options: { ...method.options, seed: itemSeed(setSeed!, name) } } : method;
    const images: ImageScore[] = [];
    let settings: UpscaleSettings | null = null;
    const total = set.images.length;
    for (const [index, im] of set.images.entries()) {
      throwIfAborted(ctx.signal);
      const out = await runMethod(methodFor(im.name), im.lr, set.factor, {
        ...(model ? { model } : {}),
        lrJpegQuality: im.lrJpegQuality,
        lrJpegGrid: im.lrJpegGrid,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.onProgress ? { onProgress: (e: ProgressEvent) => ctx.onProgress!({ ...e, index, total, name: im.name }) } : {}),
      });
      settings ??= out.settings && { ...out.settings, seed: setSeed! };
      const kept = out.settings?.reduce === 'none' ? out.samples : [out.image];
      const { score, perSample } = scoreImages(kept, im.hr, shave);
      const { height, width } = dims(im.hr);
      const s: ImageScore = {
        name: im.name,
        width,
        height,
        ...score,
        seconds: out.seconds,
        evaluations: out.evaluations,
        ...(out.settings ? { seed: out.settings.seed } : {}),
        ...(perSample ? { perSample } : {}),
      };
      images.push(s);
      if (options.saveDir !== undefined) {
        if (kept.length === 1) await encodeImage({ rgb: out.image }, join(options.saveDir, `${im.name}_SR.png`));
        else for (const [k, o] of kept.entries()) await encodeImage({ rgb: o }, join(options.saveDir, `${im.name}_s${k + 1}_SR.png`));
      }
      ctx.onImage?.({ index, total, score: s });
    }
    return {
      protocol: protocolLine(shave),
      factor: set.factor,
      shave,
      source: set.lrSource,
      sourceText: LR_SOURCE_TEXT[set.lrSource],
      method: methodName(method),
      settings,
      images,
      mean: meanScore(images),
      notes: set.notes,
    };
  };
  if (method.kind !== 'boomerang') return run(undefined);
  return withModel(
    {
      ...(options.model !== undefined ? { model: options.model } : {}),
      ...(options.device ? { device: options.device } : {}),
      ...(method.options.precision ? { precision: method.options.precision } : {}),
    },
    run,
  );
}
