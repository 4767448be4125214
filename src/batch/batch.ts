/**
 * Many images in one job, as a library: expand the inputs (folders, globs, files), plan every output first
 * (collisions, the input itself, existing files, the work of each), then process the files in order with one
 * model. A bad file is reported and the batch goes on; a model or device failure, or an interruption, stops it.
 * Nothing here writes to stderr: progress, per-file results and warnings are events, and the result is the report
 * (per file: input, outputs, status, error, seconds, settings, estimate). The CLI renders these and maps errors to exit codes.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { InputError, OutputError, UsageError, type ErrorCode } from '../errors.js';
import { OUTPUT_EXTENSIONS, decodeImage, probeImage, readJpegQuality, type ImageInfo } from '../image/io.js';
import { DEFAULT_MAX_INPUT_PIXELS } from '../io-safety/limits.js';
import { OutputExistsError } from '../io-safety/atomic.js';
import { pathExists, realTarget, sameFile } from '../io-safety/paths.js';
import type { ModelManifest } from '../model/manifest.js';
import type { RunContext, WorkProgress } from '../run-context.js';
import type { Device, ModelSession } from '../model/session.js';
import {
  checkFileOptions,
  DEFAULT_FACTOR,
  estimateWorkHere,
  outputFiles,
  progressFraction,
  resolveSettings,
  upscalePlanned,
  wantsJpegHistory,
  wantsNoiseEstimate,
  withPixelEstimates,
  type UpscaleFileOptions,
  type ProgressEvent,
  type TimeEstimate,
  type UpscaleSettings,
  type WorkEstimate,
} from '../upscale.js';
import { expandInputs, type InputItem } from '../jobs/inputs.js';
import { ensureOutDir, fillWeights, preflight, settle, summarise, type FileStatus, type StatusCounts } from '../jobs/outcome.js';
import { runFiles, type Enqueue, type QueueHold, type WorkUnit } from '../jobs/runner.js';

export type { FileStatus } from '../jobs/outcome.js';
/** A batch's counts: files in each status, and in all. */
export type BatchSummary = StatusCounts;

/** One input's line in a batch report. */
export interface FileReport {
  input: string;
  output: string;
  /** Every file written for this input (one, or one per sample with reduce none). */
  outputs: string[];
  status: FileStatus;
  /** One-line reason for failed/skipped, else null. */
  error: string | null;
  /** The kind of error (USAGE, INPUT, MODEL, OUTPUT, DEVICE, ABORTED, INTERNAL), else null. */
  errorCode: ErrorCode | null;
  seconds: number;
  /** Output size, when written. */
  width: number | null;
  height: number | null;
  /** The complete settings used (seed included), when processed. */
  settings: UpscaleSettings | null;
  /** What the run was expected to take when the model had loaded (TimeEstimate.seconds and source), when processed. */
  estimate?: { seconds: number | null; source: TimeEstimate['source'] } | null;
}

/** A batch's report (what `--json` writes): one FileReport per input in plan order, and the counts. */
export interface BatchReport {
  tool: 'boomerang-sr';
  started: string;
  seconds: number;
  outputDir: string | null;
  model: string;
  summary: BatchSummary;
  files: FileReport[];
}

/** One input's planned work: the files it writes (one, or one per sample with reduce none) and its resolved settings. */
export interface Job {
  input: string;
  output: string;
  files: string[];
  settings: UpscaleSettings;
}

const filesOf = (j: Pick<Job, 'files'>): string[] => j.files;

/**
 * A batch's options: each file's settings and output policy (`upscaleFile`'s, less what the batch itself gives each
 * file: the model, loaded once, and the decoder's options, from `maxPixels`), the output format, and what to do with
 * existing outputs. Its run context is BatchEvents.
 */
export interface BatchOptions extends Omit<UpscaleFileOptions, 'model' | 'decode'> {
  /** Output format (extension without the dot) for every output; default the input's when writable, else png. */
  format?: string;
  /** Overwrite existing outputs. */
  force?: boolean;
  /** Skip inputs whose outputs all exist. */
  resume?: boolean;
  /** Largest input width × height to decode (decompression-bomb guard). */
  maxPixels?: number;
}

/** Progress: work done over the total, in estimated units (pixels × model evaluations), and what is running. */
export interface BatchEvents extends RunContext<WorkProgress> {
  /** After each file, whatever became of it. */
  onFile?: (file: FileReport, index: number, total: number) => void;
}

export interface BatchPlan {
  outDir: string;
  jobs: Job[];
  /** Outputs that exist already (skipped with resume). */
  existing: Set<string>;
  /** Each job's work, or null where the input's header could not be read (it fails in its turn). */
  estimates: (WorkEstimate | null)[];
}

/** Output path under `outDir` for each input: same relative name, the extension of `format` or a writable one. */
function planJobs(items: readonly InputItem[], outDir: string, format: string | undefined): Pick<Job, 'input' | 'output'>[] {
  return items.map(({ path, rel }) => {
    const ext = extname(rel);
    const stem = ext ? rel.slice(0, -ext.length) : rel;
    const outExt = format ? `.${format}` : OUTPUT_EXTENSIONS.includes(ext.toLowerCase()) ? ext : '.png';
    return { input: path, output: join(outDir, stem + outExt) };
  });
}

/**
 * Checks a plan before any work: the same input twice is dropped; two inputs to one output is a UsageError;
 * an output that is an input is an OutputError; existing outputs are an OutputError unless `force` (overwrite)
 * or `resume` (skip: returned in `existing`).
 */
async function checkJobs<J extends Pick<Job, 'input' | 'output' | 'files'>>(
  jobs: J[],
  opts: { force: boolean; resume: boolean },
): Promise<{ jobs: J[]; existing: Set<string> }> {
  const seenIn = new Set<string>();
  const byOut = new Map<string, string>();
  const inputs = new Set<string>();
  const unique: J[] = [];
  for (const j of jobs) {
    const rin = await realTarget(j.input);
    if (seenIn.has(rin)) continue;
    seenIn.add(rin);
    inputs.add(rin);
    unique.push(j);
  }
  const existing = new Set<string>();
  for (const j of unique) {
    for (const file of filesOf(j)) {
      const rout = await realTarget(file);
      const prev = byOut.get(rout);
      if (prev !== undefined) throw new UsageError(`Inputs ${prev} and ${j.input} would both write ${file}; use --format or separate runs`);
      byOut.set(rout, j.input);
      if (inputs.has(rout) || (await sameFile(j.input, file))) {
        throw new OutputError(`Refusing to write over the input ${j.input}; choose another output folder or --format`);
      }
    }
    let present = 0;
    for (const f of filesOf(j)) if (await pathExists(f)) present++;
    if (present > 0) existing.add(j.output);
    if (present > 0 && present < filesOf(j).length && opts.resume && !opts.force) {
      throw new OutputError(`Some of the sample outputs of ${j.input} exist (e.g. ${filesOf(j)[0]}); use --force to write them again`);
    }
  }
  if (existing.size > 0 && !opts.force && !opts.resume) {
    const first = [...existing][0]!;
    throw new OutputError(
      existing.size === 1
        ? `Output ${first} exists; use --force to overwrite it or --resume to skip it`
        : `${existing.size} outputs exist (e.g. ${first}); use --force to overwrite them or --resume to skip them`,
    );
  }
  return { jobs: unique, existing };
}

/**
 * The settings of one input, resolved once, when it is planned: the options against the manifest, with what the
 * input's file says of it: the JPEG quality it was saved at (`input` auto and the model's settings for JPEG inputs),
 * and, where the options look for them (wantsJpegHistory, wantsNoiseEstimate), a JPEG and the noise in its pixels,
 * decoded as the run decodes them (the run rebuilds a JPEG found from the settings' jpegDetected).
 */
async function settingsOf(
  input: string,
  info: Pick<ImageInfo, 'format'> | null,
  options: BatchOptions,
  manifest: ModelManifest,
  device: Device,
): Promise<UpscaleSettings> {
  const jpegQuality = info?.format === 'jpeg' ? await readJpegQuality(input) : null;
  const known = { sourceJpegQuality: jpegQuality, ...options };
  const limitInputPixels = options.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const decoded =
    info && (wantsNoiseEstimate(known) || wantsJpegHistory(known))
      ? await decodeImage(input, { limitInputPixels, keepIccProfile: options.stripMetadata !== true }).catch(() => null)
      : null;
  // an input that cannot be decoded here fails in its turn
  return resolveSettings(decoded ? withPixelEstimates(known, decoded.rgb) : known, manifest, device);
}

/**
 * Expands `inputs` and plans the batch into `outDir`, before any model is loaded: inputs under the output folder
 * (earlier outputs, with `-o` inside an input tree) are left out, each input's settings resolved (settingsOf),
 * outputs checked, each job's work estimated from its header.
 */
export async function planBatch(
  inputs: readonly string[] | readonly InputItem[],
  outDir: string,
  manifest: ModelManifest,
  options: BatchOptions = {},
  device: Device = 'cpu',
): Promise<BatchPlan> {
  // already expanded items (the CLI expands once to tell a batch from one file) are taken as they are
  const items = inputs.every((i) => typeof i === 'string')
    ? (await expandInputs(inputs as readonly string[])).items
    : (inputs as readonly InputItem[]);
  const outReal = await realTarget(outDir);
  const fresh: InputItem[] = [];
  for (const it of items) {
    const base = await realTarget(it.base);
    const nested = outReal.startsWith(base + sep) && (await realTarget(it.path)).startsWith(outReal + sep);
    if (!nested) fresh.push(it);
  }
  if (fresh.length === 0) throw new InputError(`No inputs outside the output folder ${outDir}`);
  const planned: (Job & { info: ImageInfo | null })[] = [];
  for (const j of planJobs(fresh, outDir, options.format)) {
    const info = await probeImage(j.input, { limitInputPixels: false }).catch(() => null);
    const settings = await settingsOf(j.input, info, options, manifest, device);
    planned.push({ ...j, files: outputFiles(j.output, settings), settings, info });
  }
  const { jobs, existing } = await checkJobs(planned, { force: options.force ?? false, resume: options.resume ?? false });
  const estimates: (WorkEstimate | null)[] = [];
  for (const j of jobs) estimates.push(j.info ? await estimateWorkHere(j.settings, manifest, j.info.height, j.info.width, options) : null);
  return { outDir, jobs: jobs.map(({ info: _, ...job }) => job), existing, estimates };
}

/** One input to one output (or one per sample), planned and checked before the model loads. */
export interface FilePlan {
  job: Job;
  /** The input's header, checked (pixel limit, output size). */
  info: ImageInfo;
  estimate: WorkEstimate;
  /** With resume, every output exists: nothing to do. */
  skip: boolean;
}

/**
 * Plans `sr upscale IN -o OUT`: the input's header (pixel limit, output size), then the outputs: never the input,
 * an existing one only with `force` (or, with `resume` and all present, nothing to do), the folder must exist.
 */
export async function planFile(
  input: string,
  output: string,
  manifest: ModelManifest,
  options: BatchOptions = {},
  device: Device = 'cpu',
): Promise<FilePlan> {
  // the factor as the caller's run-level resolution checked it
  const info = await preflight(input, options.factor ?? DEFAULT_FACTOR, options.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS);
  const settings = await settingsOf(input, info, options, manifest, device);
  const estimate = await estimateWorkHere(settings, manifest, info.height, info.width, options);
  const files = outputFiles(output, settings);
  for (const file of files) if (await sameFile(input, file)) throw new OutputError(`Refusing to write over the input ${input}`);
  const present: string[] = [];
  for (const file of files) if (await pathExists(file)) present.push(file);
  const job: Job = { input, output, files, settings };
  if (present.length > 0) {
    if (options.resume && present.length === files.length) return { job, info, estimate, skip: true };
    if (!options.force) throw new OutputError(`Output ${present[0]} exists; use --force to overwrite it`);
  }
  const dir = dirname(output);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new OutputError(`Cannot write ${output}: no such folder ${dir}`);
  return { job, info, estimate, skip: false };
}

/** What processFile reports while it works: the file's fraction done (0..1) and what runs, and its time estimate. */
export interface FileEvents {
  signal?: AbortSignal | undefined;
  onWarning?: ((message: string) => void) | undefined;
  onFraction?: (f: number, label: string) => void;
  onEstimate?: ((e: TimeEstimate) => void) | undefined;
}

/** The progress line's label for a run's progress event, or null for an event it does not show. */
function progressLabel(e: ProgressEvent): string | null {
  const sample = e.samples > 1 ? ` sample ${e.sample}/${e.samples}` : '';
  if (e.stage === 'upsample') return e.totalSteps > 0 ? `back-projecting ${e.step}/${e.totalSteps}` : 'upsampling';
  if (e.stage === 'boomerang') return `pass ${e.pass}/${e.passes} step ${e.step}/${e.totalSteps} t=${e.t}${sample}`;
  // within a step: the step running (one after the last done) and its tiles
  if (e.stage === 'tile')
    return `pass ${e.pass}/${e.passes} step ${e.step + 1}/${e.totalSteps} tile ${e.tile}/${e.tiles} t=${e.t}${sample}`;
  if (e.stage === 'refine') return `refining ${e.step}/${e.totalSteps}${sample}`;
  return null;
}

/** The file's fraction done at a progress event: 0 while upsampling; a sample's refinement comes after all its steps. */
function fractionOf(e: ProgressEvent): number {
  if (e.stage === 'upsample') return 0;
  return e.stage === 'refine' ? e.sample / e.samples : progressFraction(e);
}

/**
 * One planned file, start to end, with a loaded model; throws what went wrong. `onFraction` reports 0..1 of the file.
 * Its settings and outputs are the plan's; its header is checked here (a bad file fails in its turn) unless the
 * plan checked it (`checked`).
 */
export async function processFile(
  job: Job,
  model: ModelSession,
  options: BatchOptions,
  events: FileEvents = {},
  checked?: ImageInfo,
): Promise<FileReport> {
  const started = performance.now();
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  if (!checked) await preflight(job.input, job.settings.factor, maxPixels);
  let estimate: FileReport['estimate'] = null;
  const r = await upscalePlanned(
    job,
    { ...options, model, decode: { limitInputPixels: maxPixels }, force: options.force ?? false },
    {
      signal: events.signal,
      onWarning: events.onWarning,
      onEstimate: (e) => {
        estimate = { seconds: e.seconds === null ? null : round(e.seconds), source: e.source };
        events.onEstimate?.(e);
      },
      onProgress: (e) => {
        const label = events.onFraction ? progressLabel(e) : null;
        if (label !== null) events.onFraction?.(fractionOf(e), label);
      },
    },
  );
  return {
    input: job.input,
    output: job.output,
    outputs: job.files,
    status: 'ok',
    error: null,
    errorCode: null,
    seconds: round((performance.now() - started) / 1000),
    width: r.image.shape[2]!,
    height: r.image.shape[1]!,
    settings: r.settings,
    estimate,
  };
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

/** A batch's report and, when it stopped early (interrupted, model or device failure), why. */
export interface BatchOutcome {
  report: BatchReport;
  /** The error that stopped the batch (the remaining files are pending), or null. */
  stoppedBy: unknown;
}

/** The report of a file not done yet. */
export function pendingReport(j: Job): FileReport {
  return {
    input: j.input,
    output: j.output,
    outputs: filesOf(j),
    status: 'pending',
    error: null,
    errorCode: null,
    seconds: 0,
    width: null,
    height: null,
    settings: null,
  };
}

/**
 * One file of a batch, whatever becomes of it: its report, and the error that must stop the batch (an interruption,
 * or a model or device failure, which every other file would hit too), else null. A bad file is a failed report.
 */
async function attemptFile(
  job: Job,
  model: ModelSession,
  options: BatchOptions,
  events: FileEvents = {},
): Promise<{ file: FileReport; stop: unknown }> {
  const file = pendingReport(job);
  const started = performance.now();
  try {
    await mkdir(dirname(job.output), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new OutputError(`Cannot create folder ${dirname(job.output)}: ${err.code ?? err.message}`);
    });
    return { file: await processFile(job, model, options, events), stop: null };
  } catch (err) {
    file.seconds = round((performance.now() - started) / 1000);
    if (err instanceof OutputExistsError && options.resume && !events.signal?.aborted) {
      // another run (a racing --resume) finished this output meanwhile: done, not failed
      markSkipped(file);
      return { file, stop: null };
    }
    return { file, stop: settle(err, file, events.signal) };
  }
}

/** Marks a report skipped by --resume; returns it. */
export function markSkipped(file: FileReport): FileReport {
  return Object.assign(file, { status: 'skipped', error: 'output exists (--resume)' });
}

/** The report from the per-file reports (`outDir` null: one file to one output). */
export function batchReport(outDir: string | null, model: string, files: FileReport[], started: Date, seconds: number): BatchReport {
  return {
    tool: 'boomerang-sr',
    started: started.toISOString(),
    seconds: round(seconds),
    outputDir: outDir,
    model,
    summary: summarise(files),
    files,
  };
}

/** Work weights of a plan's jobs for progress (pixels × model evaluations; an unknown one as the mean). */
function planWeights(plan: BatchPlan): number[] {
  return fillWeights(plan.estimates.map((e) => e?.megapixelEvaluations ?? NaN));
}

/** A file of a batch as a unit of work: its planned job and its place in the batch's report. */
export interface FileUnit extends WorkUnit<FileReport> {
  index: number;
  job: Job;
}

/** The unit of a planned file: attemptFile with the batch's options. */
export function fileUnit(job: Job, index: number, weight: number, options: BatchOptions): FileUnit {
  return {
    index,
    job,
    label: job.input,
    weight,
    run: async (model, ctx) => {
      const { file, stop } = await attemptFile(job, model!, options, ctx);
      return { result: file, stop };
    },
  };
}

/**
 * Runs a planned batch here with a loaded model, or on a queue's workers (`via`: the payload of its units, see
 * payload.ts); never throws for one file's failure (see the report). Files skipped by --resume are not run.
 */
export async function runPlan(
  plan: BatchPlan,
  target: { model: ModelSession } | (NonNullable<QueueHold> & { via: Enqueue<FileUnit, FileReport> }),
  modelName: string,
  options: BatchOptions = {},
  events: BatchEvents = {},
): Promise<BatchOutcome> {
  const { jobs } = plan;
  const started = new Date();
  const t0 = performance.now();
  const files: FileReport[] = jobs.map(pendingReport);
  // progress in units of work (pixels x model evaluations per file), so that the ETA after a large file is not off
  // by the ratio of sizes
  const weights = planWeights(plan);
  const units: FileUnit[] = [];
  for (const [i, job] of jobs.entries()) {
    if (options.resume && (plan.existing.has(job.output) || (await allExist(job.files)))) {
      markSkipped(files[i]!);
      events.onFile?.(files[i]!, i, jobs.length);
    } else units.push(fileUnit(job, i, weights[i]!, options));
  }
  // the names as planned here (a worker reports absolute paths)
  const stoppedBy = await runFiles(units, target, files, events, async ({ job }, file) => ({
    ...file,
    input: job.input,
    output: job.output,
    outputs: job.files,
  }));
  return { report: batchReport(plan.outDir, modelName, files, started, (performance.now() - t0) / 1000), stoppedBy };
}

async function allExist(paths: readonly string[]): Promise<boolean> {
  for (const p of paths) if (!(await pathExists(p))) return false;
  return true;
}

/**
 * Super-resolves every image of `inputs` (files, folders, quoted globs) into `outDir`, loading nothing: the model
 * is given (load it once with loadModel). Returns the report; a stop (interruption, model or device failure) is
 * in `stoppedBy`, with the files not done marked pending.
 */
export async function upscaleBatch(
  inputs: readonly string[],
  outDir: string,
  model: ModelSession,
  options: BatchOptions = {},
  events: BatchEvents = {},
): Promise<BatchOutcome> {
  checkFileOptions(options);
  // the loaded model's precision is the one each file's settings record
  const given: BatchOptions = { ...options, precision: model.precision ?? 'float' };
  resolveSettings(given, model.manifest, model.device); // the options' checks, before the inputs are looked at
  const plan = await planBatch(inputs, outDir, model.manifest, given, model.device);
  await ensureOutDir(outDir);
  return runPlan(plan, { model }, model.manifest.name, given, events);
}
