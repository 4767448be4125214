/**
 * Varying a dataset, with the batch engine's conventions and the outcome kit of src/jobs/outcome.ts: plan first,
 * one model, files in order; a bad file is reported and the run goes on; a model or device failure, or an
 * interruption, stops it. Nothing here writes to stderr: progress, per-file results and warnings are events, and
 * the result is the report.
 *
 * Per sample: write the image (atomic; never over an existing file without force), then append its record. With
 * resume, a sample whose output exists is not redone: a record missing for it (a crash between the two writes) is
 * made from the file.
 */
import { mkdir } from 'node:fs/promises';
import { fillWeights, preflight, settle, summarise, type FileStatus, type StatusCounts } from '../jobs/outcome.js';
import { runFiles, type Enqueue, type QueueHold, type WorkUnit } from '../jobs/runner.js';
import { OutputError, throwIfAborted, type ErrorCode } from '../errors.js';
import { repairLog } from '../report/jsonl.js';
import { decodeImage, encodeImage, type DecodedImage } from '../image/io.js';
import type { ImageTensor } from '../image/tensor.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { pathExists, realTarget } from '../io-safety/paths.js';
import type { TilingOptions } from '../model/denoiser.js';
import type { RunContext, WorkProgress } from '../run-context.js';
import type { DeviceNote, ModelSession } from '../model/session.js';
import { distanceToSource } from './distance.js';
import { folderOf, type SampleJob, type SourceJob, type VaryPlan } from './plan.js';
import { appendRecord, compactRecords, type VaryRecord } from './records.js';
import { reproduceArgs, stepsAt, type VaryOptions, type VarySettings } from './settings.js';
import { varySample } from './vary.js';

/** `varyDataset`'s options: the samples to draw (t, K, seed, …) and the output policy, here or on a queue. */
export interface VaryDatasetOptions extends VaryOptions {
  /** Overwrite existing outputs (and replace their records). */
  force?: boolean;
  /** Skip samples whose output exists. */
  resume?: boolean;
  /** Largest input width × height to decode (decompression-bomb guard). */
  maxPixels?: number;
  /** Run the sources on the workers of this Redis (`redis://host:port`, see `sr worker`) instead of here. */
  queue?: string;
}

/** Progress: work done over the total, in estimated units (pixels × model evaluations), and what is running. */
export interface VaryEvents extends RunContext<WorkProgress> {
  /** After each source file, whatever became of it. */
  onFile?: (file: VaryFileReport, index: number, total: number) => void;
  /** How the device was chosen (--device auto), or a warning about it (a software adapter). */
  onNote?: (note: DeviceNote) => void;
}

export interface VaryFileReport {
  input: string;
  source: string;
  status: FileStatus;
  error: string | null;
  errorCode: ErrorCode | null;
  seconds: number;
  /** Samples computed and written in this run. */
  written: number;
  /** Samples left as they were (output exists, --resume). */
  skipped: number;
  /** Of the skipped, those whose missing record was made from the existing file. */
  recovered: number;
  /** Every output of this source (relative to the output folder). */
  outputs: string[];
}

export interface VarySummary extends StatusCounts {
  samplesWritten: number;
  samplesSkipped: number;
}

/** A vary run's report (what `--json` writes): its settings, one line per source, and the counts. */
export interface VaryReport {
  tool: 'boomerang-sr';
  kind: 'vary';
  started: string;
  seconds: number;
  outputDir: string;
  records: string;
  settings: VarySettings;
  summary: VarySummary;
  files: VaryFileReport[];
}

/** What `varyDataset` returns: the report, and the error that stopped it, if any. */
export interface VaryOutcome {
  report: VaryReport;
  /** The error that stopped the run (the remaining files are pending), or null. */
  stoppedBy: unknown;
}

/**
 * What one source's work needs: the settings and model, the output policy, how to tell whether an output already
 * has a record, and where its records go (the log here; a worker's result on a queue). `progress`: the work done in
 * the source (in its samples' weights) and what runs.
 */
interface SourceContext {
  settings: VarySettings;
  model: ModelSession;
  force: boolean;
  resume: boolean;
  maxPixels: number | undefined;
  tiling: TilingOptions | undefined;
  signal: AbortSignal | undefined;
  onWarning: ((message: string) => void) | undefined;
  isRecorded(output: string): boolean;
  onRecord(rec: VaryRecord): Promise<void>;
  progress(done: number, label: string): void;
}

/** What one run shares between its files (the records it wrote, and whether the log needs compaction). */
interface RunState {
  plan: VaryPlan;
  /** Outputs recorded by this run (a second record for one of them asks for compaction). */
  recorded: Map<string, VaryRecord>;
  compact: boolean;
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

/** Decodes a source after the header checks, warning about frames beyond the first. */
async function loadSource(job: SourceJob, ctx: SourceContext): Promise<DecodedImage> {
  const maxPixels = ctx.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  await preflight(job.input, 1, maxPixels);
  const decoded = await decodeImage(job.input, { limitInputPixels: maxPixels });
  if (decoded.frames > 1) {
    ctx.onWarning?.(`${job.input} has ${decoded.frames} frames (animated or multi-page); using the first frame only`);
  }
  return decoded;
}

/** The record of a written sample. */
async function makeRecord(
  job: SourceJob,
  sj: SampleJob,
  image: ImageTensor,
  src: DecodedImage,
  s: VarySettings,
  seconds: number,
): Promise<VaryRecord> {
  const [, height, width] = image.shape as [number, number, number];
  const cmd = ['sr', 'upscale', quote(job.input), '-o', quote(sj.path), ...reproduceArgs(s, sj.t, sj.seed)].join(' ');
  return {
    output: sj.output,
    source: job.source,
    input: await realTarget(job.input),
    t: sj.t,
    sample: sj.sample,
    seed: sj.seed,
    runSeed: s.seed,
    steps: stepsAt(s, sj.t),
    cascade: s.cascade,
    sampler: s.sampler,
    eta: s.eta,
    model: { name: s.model, sha256: s.sha256 },
    width,
    height,
    distance: distanceToSource(image, src.rgb),
    seconds: round(seconds),
    reproduce: cmd,
  };
}

const quote = (p: string): string => (/^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

/** A run's state over its records log: a torn last line ended first; duplicates or bad lines ask for compaction. */
async function openRunState(plan: VaryPlan): Promise<RunState> {
  await repairLog(plan.recordsPath);
  return { plan, recorded: new Map(), compact: plan.log.duplicates > 0 || plan.log.badLines > 0 };
}

/** At the end of a run (whatever ended it): the log rewritten with one record per output, when it needs it. */
async function closeRunState(ctx: RunState): Promise<void> {
  const { plan } = ctx;
  if (ctx.compact) await compactRecords(plan.recordsPath, new Map([...plan.log.records, ...ctx.recorded]).values());
}

async function record(ctx: RunState, rec: VaryRecord): Promise<void> {
  await appendRecord(ctx.plan.recordsPath, rec);
  if (ctx.plan.log.records.has(rec.output) || ctx.recorded.has(rec.output)) ctx.compact = true;
  ctx.recorded.set(rec.output, rec);
}

/** Computes, writes and records one sample; `before`: the source's work done before it. */
async function writeSample(
  job: SourceJob,
  sj: SampleJob,
  src: DecodedImage,
  ctx: SourceContext,
  label: string,
  before: number,
  weight: number,
): Promise<void> {
  const started = performance.now();
  const { image } = await varySample(src.rgb, ctx.model, ctx.settings, sj.t, sj.seed, {
    ...(ctx.tiling ? { tiling: ctx.tiling } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (e) => {
      if (e.stage === 'boomerang') {
        ctx.progress(
          before + (weight * ((e.pass - 1) * e.totalSteps + e.step)) / (e.passes * e.totalSteps),
          `${label} step ${e.step}/${e.totalSteps}`,
        );
      }
    },
  });
  throwIfAborted(ctx.signal);
  await mkdir(folderOf(sj), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new OutputError(`Cannot create folder ${folderOf(sj)}: ${err.code ?? err.message}`);
  });
  const bitDepth = src.bitDepth === 16 ? 16 : 8; // as upscaleFile writes a PNG, so `reproduce` gives the same bytes
  await encodeImage({ rgb: image, alpha: src.alpha }, sj.path, {
    bitDepth,
    overwrite: ctx.force,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  await ctx.onRecord(await makeRecord(job, sj, image, src, ctx.settings, (performance.now() - started) / 1000));
}

/** With resume, an existing output is left; its record is made from the file when missing. True when skipped. */
async function skipExisting(job: SourceJob, sj: SampleJob, src: DecodedImage, ctx: SourceContext, file: VaryFileReport): Promise<boolean> {
  if (!ctx.resume || !(await pathExists(sj.path))) return false;
  file.skipped++;
  if (!ctx.isRecorded(sj.output)) {
    const written = await decodeImage(sj.path);
    await ctx.onRecord(await makeRecord(job, sj, written.rgb, src, ctx.settings, 0));
    file.recovered++;
  }
  return true;
}

/** One source: every sample it still needs, counted in `file`; throws what went wrong. `weights`: its samples' work. */
async function varySource(job: SourceJob, ctx: SourceContext, file: VaryFileReport, weights: readonly number[]): Promise<void> {
  const src = await loadSource(job, ctx);
  let before = 0;
  for (const [n, sj] of job.samples.entries()) {
    throwIfAborted(ctx.signal);
    const weight = weights[n] ?? 0;
    if (await skipExisting(job, sj, src, ctx, file)) {
      before += weight;
      continue;
    }
    const what = `t=${sj.t} sample ${sj.sample}/${ctx.settings.samples}`;
    ctx.progress(before, what);
    await writeSample(job, sj, src, ctx, what, before, weight);
    before += weight;
    file.written++;
  }
}

/** What a source's unit gives back: its report, and the records it did not hand to its context (a worker's). */
export interface SourceResult {
  file: VaryFileReport;
  records: VaryRecord[];
}

/** A source of a vary run as a unit of work (all its samples), and its place in the run's report. */
export interface SourceUnit extends WorkUnit<SourceResult> {
  index: number;
  job: SourceJob;
}

/**
 * The unit of a source: its samples with `weights` (their work, for progress), in `context` (the output policy and
 * where records go; the model, signal and progress are the runner's). `records`: those to send back with the result.
 */
export function sourceUnit(
  job: SourceJob,
  index: number,
  weights: readonly number[],
  context: Omit<SourceContext, 'model' | 'signal' | 'onWarning' | 'progress'>,
  records: VaryRecord[] = [],
): SourceUnit {
  const weight = weights.reduce((a, w) => a + w, 0);
  return {
    index,
    job,
    label: job.input,
    weight,
    async run(model, ctx) {
      const started = performance.now();
      const file = emptyReport(job);
      const source: SourceContext = {
        ...context,
        model: model!,
        signal: ctx.signal,
        onWarning: ctx.onWarning,
        progress: (done, what) => ctx.onFraction(done / (weight || 1), what),
      };
      let stop: unknown = null;
      try {
        await varySource(job, source, file, weights);
        file.status = file.written === 0 && file.skipped > 0 ? 'skipped' : 'ok';
      } catch (err) {
        stop = settle(err, file, ctx.signal);
      }
      file.seconds = round((performance.now() - started) / 1000);
      return { result: { file, records }, stop };
    },
  };
}

/** Progress weights: every sample still to do, in order (a known-unreadable header counts as the mean); 0 when skipped. */
function sampleWeights(plan: VaryPlan): number[][] {
  const todo = (sj: SampleJob) => !(plan.resume && plan.existing.has(sj.output));
  const filled = fillWeights(plan.sources.flatMap((j) => j.samples.filter(todo).map((sj) => j.work.get(sj.t)!)));
  let i = 0;
  return plan.sources.map((j) => j.samples.map((sj) => (todo(sj) ? filled[i++]! : 0)));
}

function emptyReport(job: SourceJob): VaryFileReport {
  return {
    input: job.input,
    source: job.source,
    status: 'pending',
    error: null,
    errorCode: null,
    seconds: 0,
    written: 0,
    skipped: 0,
    recovered: 0,
    outputs: job.samples.map((sj) => sj.output),
  };
}

function summariseVary(files: readonly VaryFileReport[]): VarySummary {
  const s: VarySummary = { ...summarise(files), samplesWritten: 0, samplesSkipped: 0 };
  for (const f of files) {
    s.samplesWritten += f.written;
    s.samplesSkipped += f.skipped;
  }
  return s;
}

/**
 * Runs a planned vary here with a loaded model, or on a queue's workers (`via`: the payload of its units, see
 * payload.ts), appending each record to the log once; never throws for one file's failure (see the report).
 */
export async function runVaryPlan(
  plan: VaryPlan,
  target: { model: ModelSession } | (NonNullable<QueueHold> & { via: Enqueue<SourceUnit, SourceResult> }),
  options: VaryDatasetOptions = {},
  events: VaryEvents = {},
): Promise<VaryOutcome> {
  const started = new Date();
  const t0 = performance.now();
  const state = await openRunState(plan);
  const weights = sampleWeights(plan);
  const files = plan.sources.map(emptyReport);
  const units = plan.sources.map((job, i) =>
    sourceUnit(job, i, weights[i]!, {
      settings: plan.settings,
      force: plan.force,
      resume: plan.resume,
      maxPixels: options.maxPixels,
      tiling: options.tiling,
      isRecorded: (output) => plan.log.records.has(output) || state.recorded.has(output),
      onRecord: (rec) => record(state, rec),
    }),
  );
  let stoppedBy: unknown;
  try {
    stoppedBy = await runFiles(units, target, files, events, async ({ job }, result) => {
      for (const rec of result.records) await record(state, rec);
      return { ...result.file, input: job.input };
    });
  } finally {
    await closeRunState(state);
  }
  return { report: varyReport(plan, files, started, (performance.now() - t0) / 1000), stoppedBy };
}

/** The run's report from its per-source reports. */
function varyReport(plan: VaryPlan, files: VaryFileReport[], started: Date, seconds: number): VaryReport {
  return {
    tool: 'boomerang-sr',
    kind: 'vary',
    started: started.toISOString(),
    seconds: round(seconds),
    outputDir: plan.outDir,
    records: plan.recordsPath,
    settings: plan.settings,
    summary: summariseVary(files),
    files,
  };
}
