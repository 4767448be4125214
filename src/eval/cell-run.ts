/**
 * One unit of a sweep's work: one model run (or baseline) of a group of cells on one image, scored into one record
 * per cell (cells in a group differ only in how their K samples reduce, so one run serves them all). The same code
 * runs in `sr sweep` and on a queue worker, so a queued sweep's numbers are the local sweep's.
 */
import { throwIfAborted } from '../errors.js';
import { makeFolder } from '../io-safety/atomic.js';
import type { WorkUnit } from '../jobs/runner.js';
import { join } from 'node:path';
import { itemSeed } from '../diffusion/rng.js';
import type { Consistency } from '../diffusion/consistency.js';
import type { SamplerKind } from '../diffusion/samplers.js';
import { encodeImage } from '../image/io.js';
import { dims, type ImageTensor } from '../image/tensor.js';
import type { Kernel } from '../image/upsample.js';
import type { TilingOptions } from '../model/denoiser.js';
import type { ModelSession } from '../model/session.js';
import { progressFraction, reduceSamples, type Reduce } from '../upscale.js';
import type { TestImage } from './dataset.js';
import { cellSlug, type Cell } from './grid.js';
import { runMethod, type Method } from './methods.js';
import { scoreImages } from './score.js';
import type { SweepRecord } from './summary.js';
import type { SweepTask } from './sweep-types.js';

/** The identity of a run: with cell and image, what a record's resume key is made of. */
export interface RunKey {
  modelSha: string | null;
  seed: number;
  sampler: SamplerKind;
  eta: number;
}

export interface RecordContext {
  /** The model (null for baseline cells). */
  model: ModelSession | null;
  factor: number;
  run: RunKey;
  out: string;
  /** Save the Boomerang outputs under <out>/images/<cell>/ (atomically, under the image's name). */
  saveImage: boolean;
  tiling: TilingOptions | undefined;
  signal: AbortSignal | undefined;
  onFraction: (frac: number) => void;
}

/** Runs one model run of `cells` (cells that differ only in how K samples reduce) on one image; one record per cell. */
export async function computeRecords(im: TestImage, cells: readonly Cell[], ctx: RecordContext): Promise<SweepRecord[]> {
  const first = cells[0]!;
  const { seed, sampler, eta } = ctx.run;
  const method = methodOf(first, { seed: itemSeed(seed, im.name), sampler, eta, ...(ctx.tiling ? { tiling: ctx.tiling } : {}) });
  const output = await runMethod(method, im.lr, ctx.factor, {
    ...(ctx.model ? { model: ctx.model } : {}),
    lrJpegQuality: im.lrJpegQuality,
    lrJpegGrid: im.lrJpegGrid,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (e) => {
      if (e.stage === 'boomerang' && e.totalSteps > 0) ctx.onFraction(progressFraction(e));
    },
  });
  const { height, width } = dims(im.hr);
  const records: SweepRecord[] = [];
  for (const c of cells) {
    const kept = keptOutputs(c, output.samples);
    const { score } = scoreImages(kept, im.hr, ctx.factor);
    const boom = c.kind === 'boomerang';
    records.push({
      ...c,
      image: im.name,
      width,
      height,
      ...score,
      seconds: output.seconds,
      evaluations: output.evaluations,
      model: boom ? ctx.model!.manifest.name : null,
      modelSha: boom ? ctx.model!.manifest.sha256 : null,
      seed: boom ? seed : null,
      noiseSeed: boom ? itemSeed(seed, im.name) : null,
      sampler: boom ? sampler : null,
      eta: boom ? eta : null,
      at: new Date().toISOString(),
    });
    if (boom && ctx.saveImage) {
      const dir = join(ctx.out, 'images', cellSlug(c.id));
      await makeFolder(dir);
      await encodeImage({ rgb: kept[0]! }, join(dir, `${im.name}.png`));
    }
  }
  return records;
}

/** A task of a sweep as a unit of work: one model run of its cells on one image, one record per cell. */
export interface TaskUnit extends WorkUnit<SweepRecord[]> {
  task: SweepTask;
  /** The image's name. */
  image: string;
}

/** The unit of a task on the image `load` gives (the set's, here; read from the shared filesystem, on a worker). */
export function taskUnit(
  task: SweepTask,
  image: string,
  load: () => Promise<TestImage>,
  c: Pick<RecordContext, 'run' | 'out' | 'saveImage' | 'tiling'>,
): TaskUnit {
  return {
    task,
    image,
    label: `${task.cells[0]!.id} on ${image}`,
    weight: task.weight,
    async run(model, ctx) {
      throwIfAborted(ctx.signal);
      const records = await computeRecords(await load(), task.cells, {
        ...c,
        model,
        factor: task.factor,
        signal: ctx.signal,
        onFraction: (f) => ctx.onFraction(f, ''),
      });
      return { result: records, stop: null };
    },
  };
}

/** Whether a task's Boomerang outputs are saved: all images, the first image of its factor's set, or none. */
export function savesImage(save: 'first' | 'all' | 'none', imageIndex: number): boolean {
  return save === 'all' || (save === 'first' && imageIndex === 0);
}

function methodOf(c: Cell, common: { seed: number; sampler: SamplerKind; eta: number; tiling?: TilingOptions }): Method {
  if (c.kind === 'matlab-bicubic') return { kind: 'matlab-bicubic' };
  if (c.kind === 'upsampler')
    return { kind: 'upsampler', kernel: c.upsampler as Kernel, ...(c.backProject ? { backProject: c.backProject } : {}) };
  return {
    kind: 'boomerang',
    options: {
      t: c.t!,
      cascade: c.cascade!,
      steps: c.steps!,
      upsampler: c.upsampler as Kernel,
      backProject: c.backProject ?? 0,
      consistency: c.consistency as Consistency,
      samples: c.samples!,
      reduce: 'none',
      seed: common.seed,
      sampler: common.sampler,
      eta: common.eta,
      ...(common.tiling ? { tiling: common.tiling } : {}),
    },
  };
}

/** The images a cell is scored on: its reduce applied to the K samples (none: all K, scores averaged). */
function keptOutputs(c: Cell, samples: readonly ImageTensor[]): ImageTensor[] {
  if (samples.length === 1 || c.reduce === 'none') return [...samples];
  return [reduceSamples(samples, c.reduce as Exclude<Reduce, 'none'>)];
}
