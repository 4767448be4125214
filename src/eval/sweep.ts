import { resolve, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { itemSeed } from '../diffusion/rng.js';
import { dims } from '../image/tensor.js';
import { SAMPLER_KINDS, type SamplerKind } from '../diffusion/samplers.js';
import { numberInRange, oneOf } from '../validate.js';
import { loadModel, type ModelSession } from '../model/session.js';
import { loadManifest, type ModelManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { modelRef } from '../queue/jobs.js';
import { runUnits, withTarget, type QueueHold } from '../jobs/runner.js';
import { loadTestSet, type LrSource, type TestSet } from './dataset.js';
import { computeKey, expandGrid, type Cell, type GridLimits, type GridSpec } from './grid.js';
import { repairLog } from '../report/jsonl.js';
import { appendRecord, readLog } from './log.js';
import { savesImage, taskUnit, type RunKey } from './cell-run.js';
import { enqueueTasks } from './sweep-payload.js';
import type { DetailMeasure } from './pareto.js';
import { protocolLine } from './protocol.js';
import { analyse, type Analysis } from './recommend.js';
import { recordKey, summarise, type SummaryRow, type SweepRecord } from './summary.js';
import { toCsv, toJson, writeTextAtomic } from '../report/write.js';
import type { SweepContext, SweepOptions, SweepTask } from './sweep-types.js';

export type { SweepContext, SweepOptions, SweepProgress, SweepTask } from './sweep-types.js';

export interface SweepMeta {
  protocol: string;
  hr: string;
  lr: string | null;
  lrSource: LrSource;
  images: Record<number, string[]>;
  model: { name: string; sha256: string; dir: string; device: string; T: number } | null;
  seed: number;
  sampler: SamplerKind;
  eta: number;
  detail: DetailMeasure;
  grid: GridSpec;
  /** What this run did: records found in the log for this sweep, records computed, model runs. */
  run: { skipped: number; computed: number; modelRuns: number; seconds: number; at: string };
}

/** A finished sweep: its cells, every record, the rows per cell with the Pareto front and the recommendations. */
export interface SweepResult {
  out: string;
  meta: SweepMeta;
  cells: Cell[];
  records: SweepRecord[];
  rows: SummaryRow[];
  analyses: Analysis[];
  files: { log: string; csv: string; summaryCsv: string; summaryJson: string; recommendations: string };
}

export const SWEEP_FILES = {
  log: 'results.jsonl',
  csv: 'results.csv',
  summaryCsv: 'summary.csv',
  summaryJson: 'summary.json',
  recommendations: 'recommendations.json',
  dataset: 'dataset.json',
} as const;

/** The resume key of a cell on an image under this run. */
function keyOf(c: Cell, image: string, run: RunKey): string {
  return recordKey(
    c.kind === 'boomerang'
      ? {
          id: c.id,
          image,
          modelSha: run.modelSha,
          seed: run.seed,
          noiseSeed: itemSeed(run.seed, image),
          sampler: run.sampler,
          eta: run.eta,
        }
      : { id: c.id, image, modelSha: null, seed: null, noiseSeed: null, sampler: null, eta: null },
  );
}

/**
 * The work left (pure): for each group of cells one model run serves, each image of its factor's set whose
 * records the log lacks. Also counts what the log already holds.
 */
export function planSweep(
  cells: readonly Cell[],
  sets: ReadonlyMap<number, TestSet>,
  done: ReadonlyMap<string, SweepRecord>,
  run: RunKey,
): { tasks: SweepTask[]; skipped: number; recordsTotal: number } {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = computeKey(c);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const tasks: SweepTask[] = [];
  let skipped = 0;
  let recordsTotal = 0;
  for (const group of groups.values()) {
    const set = sets.get(group[0]!.factor)!;
    set.images.forEach((im, imageIndex) => {
      const todo = group.filter((c) => !done.has(keyOf(c, im.name, run)));
      skipped += group.length - todo.length;
      if (todo.length === 0) return;
      recordsTotal += todo.length;
      const { height, width } = dims(im.hr);
      tasks.push({ cells: todo, imageIndex, factor: set.factor, weight: workOf(todo[0]!, height * width) });
    });
  }
  return { tasks, skipped, recordsTotal };
}

/** A sweep opened for work: its model (or manifest only), cells, sets, resume log and the work left. */
interface OpenSweep {
  model: ModelSession | null;
  /** The model was loaded here (and is disposed here). */
  ownModel: boolean;
  manifest: ModelManifest | null;
  modelDir: string | null;
  cells: Cell[];
  run: RunKey;
  logPath: string;
  /** Every record of the log (and those appended since), by resume key. */
  done: Map<string, SweepRecord>;
  sets: Map<number, TestSet>;
  plan: ReturnType<typeof planSweep>;
}

/** What this run computed, recording each new record once (a unit delivered twice is recorded once). */
class Recorder {
  computed = 0;
  modelRuns = 0;
  constructor(
    private readonly s: OpenSweep,
    private readonly onRecord: ((r: SweepRecord) => void) | undefined,
  ) {}
  async add(fresh: readonly SweepRecord[], boomerang: boolean): Promise<void> {
    if (boomerang) this.modelRuns++;
    for (const r of fresh) {
      const key = recordKey(r);
      if (this.s.done.has(key)) continue;
      await appendRecord(this.s.logPath, r);
      this.s.done.set(key, r);
      this.computed++;
      this.onRecord?.(r);
    }
  }
}

/**
 * The model (loaded here only when the cells run here: on a queue the workers run it, and only its manifest is
 * needed), the cells, the resume log and the test sets; then the plan of the work left.
 */
async function openSweep(options: SweepOptions): Promise<OpenSweep> {
  const wantsModel = options.ts.length > 0;
  const given = typeof options.model === 'object' ? options.model : null;
  const ownModel = wantsModel && !given && options.queue === undefined;
  const model = !wantsModel
    ? null
    : (given ?? (ownModel ? await loadModel(options.model as string | undefined, { device: options.device ?? 'cpu' }) : null));
  try {
    const modelDir = model?.dir ?? (wantsModel ? resolveModelDir(options.model as string | undefined) : null);
    const manifest = model?.manifest ?? (modelDir ? await loadManifest(modelDir) : null);
    const cells = expandGrid(options, manifest ? gridLimits(manifest) : null);
    const run: RunKey = {
      modelSha: manifest?.sha256 ?? null,
      seed: options.seed ?? 0,
      // checked here, before the sweep's folder is written (the cells are checked by expandGrid)
      sampler: oneOf('sampler', options.sampler ?? 'ancestral', SAMPLER_KINDS),
      eta: numberInRange('eta', options.eta ?? 0, 0, 1),
    };
    const logPath = join(options.out, SWEEP_FILES.log);
    await checkSameSweep(options.out, options);
    await repairLog(logPath);
    const done = new Map((await readLog(logPath)).records.map((r) => [recordKey(r), r]));
    const sets = new Map<number, TestSet>();
    for (const factor of options.factors) {
      sets.set(
        factor,
        await loadTestSet({
          hr: options.hr,
          ...(options.lr !== undefined ? { lr: options.lr } : {}),
          factor,
          ...(options.limit !== undefined ? { limit: options.limit } : {}),
        }),
      );
    }
    const plan = planSweep(cells, sets, done, run);
    return { model, ownModel, manifest, modelDir, cells, run, logPath, done, sets, plan };
  } catch (err) {
    if (ownModel && model) await model.dispose();
    throw err;
  }
}

/** The tasks one after the other here, or as jobs on the queue's workers; their records recorded here as they come. */
async function runTasks(s: OpenSweep, options: SweepOptions, ctx: SweepContext, q: QueueHold, rec: Recorder): Promise<void> {
  const save = options.saveImages ?? 'first';
  const units = s.plan.tasks.map((task) => {
    const set = s.sets.get(task.factor)!;
    const image = set.images[task.imageIndex]!;
    const c = { run: s.run, out: options.out, saveImage: savesImage(save, task.imageIndex), tiling: options.tiling };
    return taskUnit(task, image.name, async () => image, c);
  });
  const spec = typeof options.model === 'string' ? options.model : (s.modelDir ?? undefined);
  const ref = s.manifest ? modelRef(spec, s.manifest) : null;
  const { recordsTotal } = s.plan;
  const stoppedBy = await runUnits(units, q ? { ...q, via: enqueueTasks({ options, run: s.run, ref, save }) } : { model: s.model }, {
    signal: ctx.signal,
    onProgress: (e) =>
      ctx.onProgress?.({
        done: e.done,
        total: e.total,
        ...(e.unit ? { cell: e.unit.task.cells[0]!.id, image: e.unit.image } : { cell: e.label, image: '' }),
        records: rec.computed,
        recordsTotal,
        ...(e.queue ? { workers: e.queue.workers } : {}),
      }),
    onResult: (unit, fresh) => rec.add(fresh, unit.task.cells[0]!.kind === 'boomerang'),
  });
  if (stoppedBy) throw stoppedBy;
}

/** This sweep's records (its cells on its images, with this run's model/seed/sampler), summary, analysis and files. */
async function finishSweep(s: OpenSweep, options: SweepOptions, rec: Recorder, started: number): Promise<SweepResult> {
  const { cells, sets, run, manifest } = s;
  const records = cells.flatMap((c) =>
    sets
      .get(c.factor)!
      .images.map((im) => s.done.get(keyOf(c, im.name, run)))
      .filter((r): r is SweepRecord => r !== undefined),
  );
  const rows = summarise(cells, records);
  const detail = options.detail ?? 'ratio';
  const analyses = analyse(rows, detail);
  const meta: SweepMeta = {
    protocol: protocolLine(),
    hr: resolve(options.hr),
    lr: options.lr !== undefined ? resolve(options.lr) : null,
    lrSource: sets.get(options.factors[0]!)!.lrSource,
    images: Object.fromEntries([...sets].map(([f, set]) => [f, set.images.map((i) => i.name)])),
    model: manifest
      ? {
          name: manifest.name,
          sha256: manifest.sha256,
          dir: s.modelDir!,
          device: s.model?.device ?? (options.queue !== undefined ? 'queue' : 'cpu'),
          T: manifest.T,
        }
      : null,
    seed: run.seed,
    sampler: run.sampler,
    eta: run.eta,
    detail,
    grid: gridOf(options),
    run: {
      skipped: s.plan.skipped,
      computed: rec.computed,
      modelRuns: rec.modelRuns,
      seconds: (performance.now() - started) / 1000,
      at: new Date().toISOString(),
    },
  };
  const files = await writeSweepData(options.out, s.logPath, { meta, records, rows, analyses });
  return { out: options.out, meta, cells, records, rows, analyses, files };
}

/** Runs (or resumes) a sweep, here or on a queue's workers, and writes its results. */
export async function runSweep(options: SweepOptions, ctx: SweepContext = {}): Promise<SweepResult> {
  const started = performance.now();
  if (options.lr !== undefined && options.factors.length !== 1) {
    throw new UsageError(`Expected one factor with an LR folder (its LR images have one scale) but received ${options.factors.join(',')}`);
  }
  // an unreachable queue is found before anything is written; one enqueuer per folder, taken before the log is read
  return withTarget(options.queue, options.out, 'sr sweep', undefined, async (q) => {
    const s = await openSweep(options);
    try {
      const rec = new Recorder(s, ctx.onRecord);
      await runTasks(s, options, ctx, q, rec);
      await q?.hold.assure();
      return await finishSweep(s, options, rec, started);
    } finally {
      if (s.ownModel && s.model) await s.model.dispose();
    }
  });
}

/** results.csv, summary.csv, summary.json and recommendations.json of a finished (or resumed) sweep. */
async function writeSweepData(
  out: string,
  logPath: string,
  d: { meta: SweepMeta; records: SweepRecord[]; rows: SummaryRow[]; analyses: Analysis[] },
): Promise<SweepResult['files']> {
  const files = {
    log: logPath,
    csv: join(out, SWEEP_FILES.csv),
    summaryCsv: join(out, SWEEP_FILES.summaryCsv),
    summaryJson: join(out, SWEEP_FILES.summaryJson),
    recommendations: join(out, SWEEP_FILES.recommendations),
  };
  await writeTextAtomic(files.csv, toCsv(d.records, RECORD_COLUMNS));
  await writeTextAtomic(files.summaryCsv, toCsv(d.rows, SUMMARY_COLUMNS));
  await writeTextAtomic(files.summaryJson, toJson({ meta: d.meta, rows: d.rows, analyses: d.analyses }));
  await writeTextAtomic(
    files.recommendations,
    toJson({ protocol: d.meta.protocol, model: d.meta.model, analyses: d.analyses.map(recommendationView) }),
  );
  return files;
}

const CELL_COLUMNS = ['id', 'kind', 'factor', 't', 'cascade', 'upsampler', 'backProject', 'consistency', 'steps', 'samples', 'reduce'];
const METRIC_COLUMNS = ['psnrY', 'ssimY', 'psnrRgb', 'detailRatio', 'gmsd', 'seconds', 'evaluations'];
export const RECORD_COLUMNS = [
  ...CELL_COLUMNS,
  'image',
  'width',
  'height',
  ...METRIC_COLUMNS,
  'model',
  'modelSha',
  'seed',
  'noiseSeed',
  'sampler',
  'eta',
  'at',
];
export const SUMMARY_COLUMNS = [...CELL_COLUMNS, 'images', ...METRIC_COLUMNS, 'pareto'];

function recommendationView(a: Analysis) {
  return {
    factor: a.factor,
    detail: a.detail,
    front: a.front,
    recommendations: a.recommendations.map((r) => ({
      rule: r.rule,
      cell: r.row?.id ?? null,
      why: r.why,
      figures: r.row ? pick(r.row) : null,
    })),
  };
}

function pick(r: SummaryRow) {
  return { psnrY: r.psnrY, ssimY: r.ssimY, psnrRgb: r.psnrRgb, detailRatio: r.detailRatio, gmsd: r.gmsd, seconds: r.seconds };
}

/** The model's T and the defaults a sweep uses for the axes it is not given (the same as `sr upscale`'s). */
function gridLimits(manifest: ModelManifest): GridLimits {
  const d = manifest.defaults;
  return {
    T: manifest.T,
    defaultSteps: d.steps,
    ...(typeof d.cascade === 'number' ? { defaultCascade: d.cascade } : {}),
    ...(d.upsampler ? { defaultUpsampler: d.upsampler } : {}),
    ...(d.backProject !== undefined ? { defaultBackProject: d.backProject } : {}),
    ...(d.consistency ? { defaultConsistency: d.consistency } : {}),
  };
}

function gridOf(o: GridSpec): GridSpec {
  const g: GridSpec = { factors: o.factors, ts: o.ts };
  if (o.cascades) g.cascades = o.cascades;
  if (o.upsamplers) g.upsamplers = o.upsamplers;
  if (o.backProjects) g.backProjects = o.backProjects;
  if (o.consistencies) g.consistencies = o.consistencies;
  if (o.steps) g.steps = o.steps;
  if (o.samples) g.samples = o.samples;
  if (o.reduces) g.reduces = o.reduces;
  return g;
}

/** Estimated cost of one run: model evaluations × pixels / 256² (baselines: a small constant per pixel). */
function workOf(c: Cell, pixels: number): number {
  const area = pixels / 65536;
  if (c.kind !== 'boomerang') return 0.02 * area;
  return c.cascade! * Math.min(c.steps!, c.t!) * c.samples! * area;
}

/**
 * Refuses to mix two data sets in one output folder (the log's image names would collide): the first run writes
 * <out>/dataset.json, and later runs must name the same HR (and LR) folders.
 */
async function checkSameSweep(out: string, o: SweepOptions): Promise<void> {
  const path = join(out, SWEEP_FILES.dataset);
  const hr = resolve(o.hr);
  const lr = o.lr !== undefined ? resolve(o.lr) : null;
  let meta: { hr?: string; lr?: string | null } | undefined;
  try {
    meta = JSON.parse(await readFile(path, 'utf8')) as { hr?: string; lr?: string | null };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`Cannot read ${path}: ${String(err)}`);
    await writeTextAtomic(path, toJson({ hr, lr }));
    return;
  }
  if (meta.hr !== hr || (meta.lr ?? null) !== lr) {
    throw new UsageError(
      `Output folder ${out} holds a sweep of ${meta.hr}${meta.lr ? ` with LR ${meta.lr}` : ''}; use another --out for ${hr}${lr ? ` with LR ${lr}` : ''}`,
    );
  }
}
