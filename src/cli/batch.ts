/**
 * `sr upscale` over many files: plan every output first (collisions, the input itself, existing files), load the
 * model once, then process the files in order with one progress bar and ETA. A bad file is reported on one line
 * and the batch goes on; a model or device failure, or an interruption, stops it. At the end: a summary line, the
 * `--json` report (per file: input, output, status, error, seconds, settings), and exit status 3 when any failed.
 */
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AbortError, InputError, OutputError, SrError, UsageError } from '../errors.js';
import { OUTPUT_EXTENSIONS, probeImage, type ImageInfo } from '../image/io.js';
import { checkOutputSize } from '../io-safety/limits.js';
import { pathExists, realTarget, sameFile } from '../io-safety/paths.js';
import { trackTempFile, untrackTempFile } from '../io-safety/temp-files.js';
import type { ModelSession } from '../model/session.js';
import { upscaleFile, type UpscaleFileOptions, type UpscaleSettings } from '../upscale.js';
import { exitCodeFor } from './exit-codes.js';
import type { InputItem } from './inputs.js';
import { createProgressLine, type ProgressLine } from './progress.js';

export type FileStatus = 'ok' | 'failed' | 'skipped' | 'interrupted' | 'pending';

export interface FileReport {
  input: string;
  output: string;
  status: FileStatus;
  /** One-line reason for failed/skipped, else null. */
  error: string | null;
  /** The exit code this error alone would have given (3 input, 5 output, …), else null. */
  exitCode: number | null;
  seconds: number;
  /** Output size, when written. */
  width: number | null;
  height: number | null;
  /** The complete settings used (seed included), when processed. */
  settings: UpscaleSettings | null;
}

export interface BatchReport {
  tool: 'boomerang-sr';
  command: string;
  started: string;
  seconds: number;
  outputDir: string | null;
  model: string;
  /** The options given on the command line (per-file settings are in files[]). */
  options: Record<string, unknown>;
  summary: Record<FileStatus, number> & { total: number };
  files: FileReport[];
}


export interface Job {
  input: string;
  output: string;
  /** The files the job writes (one, or one per sample with reduce none); default [output]. */
  files?: string[];
}

const filesOf = (j: Job): string[] => j.files ?? [j.output];

/** Output path under `outDir` for each input: same relative name, the extension of `format` or a writable one. */
export function planJobs(items: readonly InputItem[], outDir: string, format: string | undefined): Job[] {
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
export async function checkJobs(jobs: Job[], opts: { force: boolean; resume: boolean }): Promise<{ jobs: Job[]; existing: Set<string> }> {
  const seenIn = new Set<string>();
  const byOut = new Map<string, string>();
  const inputs = new Set<string>();
  const unique: Job[] = [];
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
  for (const rout of byOut.keys()) {
    if (inputs.has(rout)) throw new OutputError(`Refusing to write over the input ${rout}; choose another output folder`);
  }
  if (existing.size > 0 && !opts.force && !opts.resume) {
    const first = [...existing][0]!;
    throw new OutputError(existing.size === 1
      ? `Output ${first} exists; use --force to overwrite it or --resume to skip it`
      : `${existing.size} outputs exist (e.g. ${first}); use --force to overwrite them or --resume to skip them`);
  }
  return { jobs: unique, existing };
}

export interface ProcessContext {
  model: ModelSession;
  options: UpscaleFileOptions;
  maxPixels: number;
  force: boolean;
  signal: AbortSignal;
  onWarning: (message: string) => void;
  /** Fraction (0..1) of the current file done, and a label. */
  onFileProgress?: (fraction: number, label: string) => void;
}

/** The input checks done before the model runs: header, pixel limit, output size. */
export async function preflight(input: string, factor: number, maxPixels: number): Promise<ImageInfo> {
  const info = await probeImage(input, { limitInputPixels: false });
  const px = info.width * info.height;
  if (px > maxPixels) {
    throw new InputError(`Cannot decode ${input}: ${info.width}x${info.height} (${(px / 1e6).toFixed(1)} MP) is over the limit ` +
      `of ${maxPixels} pixels (${(maxPixels / 1e6).toFixed(1)} MP); refusing a possible decompression bomb (raise it with --max-pixels)`);
  }
  checkOutputSize(info.height, info.width, factor, input);
  return info;
}

/** One file, start to end; throws what went wrong. */
export async function processFile(job: Job, ctx: ProcessContext): Promise<FileReport> {
  const started = performance.now();
  await preflight(job.input, ctx.options.factor ?? 4, ctx.maxPixels);
  const r = await upscaleFile(job.input, job.output, {
    ...ctx.options,
    model: ctx.model,
    decode: { limitInputPixels: ctx.maxPixels },
    overwrite: ctx.force,
    signal: ctx.signal,
    onWarning: ctx.onWarning,
    onProgress: (e) => {
      if (e.stage !== 'boomerang' || !ctx.onFileProgress) return;
      const total = e.totalSteps * e.passes * e.samples;
      const done = ((e.sample - 1) * e.passes + (e.pass - 1)) * e.totalSteps + e.step;
      ctx.onFileProgress(done / total, `pass ${e.pass}/${e.passes} step ${e.step}/${e.totalSteps} t=${e.t}` +
        (e.samples > 1 ? ` sample ${e.sample}/${e.samples}` : ''));
    },
  });
  return {
    input: job.input, output: job.output, status: 'ok', error: null, exitCode: null,
    seconds: round((performance.now() - started) / 1000),
    width: r.image.shape[2]!, height: r.image.shape[1]!, settings: r.settings,
  };
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

/** The error as one line, naming the file when the message does not already. */
export function oneLine(err: unknown, file: string): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  const named = msg.includes(file) ? msg : `${file}: ${msg}`;
  return err instanceof SrError ? named : `internal error: ${named} (set SR_DEBUG=1 for the stack trace)`;
}

export interface BatchOptions extends Omit<ProcessContext, 'onFileProgress' | 'onWarning'> {
  resume: boolean;
  quiet: boolean;
  existing: Set<string>;
  outDir: string | null;
  json: string | undefined;
  command: string;
  cliOptions: Record<string, unknown>;
  /** Estimated work per job (e.g. megapixel-evaluations), NaN where unknown; default equal. */
  work?: readonly number[];
}

/** Runs the planned jobs; returns the report (also written to `json`). Throws only for stop-the-batch errors. */
export async function runBatch(jobs: readonly Job[], b: BatchOptions): Promise<BatchReport> {
  const started = new Date();
  const t0 = performance.now();
  const line: ProgressLine = createProgressLine({ quiet: b.quiet });
  const say = (text: string) => {
    line.done();
    process.stderr.write(text + '\n');
  };
  const files: FileReport[] = jobs.map((j) => ({
    input: j.input, output: j.output, status: 'pending', error: null, exitCode: null, seconds: 0, width: null, height: null, settings: null,
  }));
  const report = (): BatchReport => {
    const summary = { total: files.length, ok: 0, failed: 0, skipped: 0, interrupted: 0, pending: 0 };
    for (const f of files) summary[f.status] += 1;
    return {
      tool: 'boomerang-sr', command: b.command, started: started.toISOString(), seconds: round((performance.now() - t0) / 1000),
      outputDir: b.outDir, model: b.model.manifest.name, options: b.cliOptions, summary, files,
    };
  };
  // progress in units of work (pixels x model evaluations per file), so that the ETA after a large file is not
  // off by the ratio of sizes
  const weights = fillWeights(b.work ?? jobs.map(() => 1));
  const before = weights.map((_, i) => weights.slice(0, i).reduce((a, w) => a + w, 0));
  const totalWork = weights.reduce((a, w) => a + w, 0);
  let stop: unknown = null;
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const file = files[i]!;
    if (b.resume && (b.existing.has(job.output) || (await pathExists(job.output)))) {
      file.status = 'skipped';
      file.error = 'output exists (--resume)';
      continue;
    }
    const label = `${i + 1}/${jobs.length} ${job.input}`;
    line.update(before[i]!, totalWork, label);
    const fStart = performance.now();
    try {
      if (b.outDir) await mkdir(dirname(job.output), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw new OutputError(`Cannot create folder ${dirname(job.output)}: ${err.code ?? err.message}`);
      });
      Object.assign(file, await processFile(job, {
        ...b,
        onWarning: (m) => say(`sr: warning: ${m}`),
        onFileProgress: (f, what) => line.update(before[i]! + f * weights[i]!, totalWork, `${label} ${what}`),
      }));
    } catch (err) {
      file.seconds = round((performance.now() - fStart) / 1000);
      if (err instanceof AbortError || b.signal.aborted) {
        file.status = 'interrupted';
        file.error = 'interrupted';
        stop = err instanceof AbortError ? err : new AbortError('Aborted', { cause: err });
        break;
      }
      file.status = 'failed';
      file.error = oneLine(err, job.input);
      file.exitCode = exitCodeFor(err);
      if (err instanceof SrError && (err.code === 'MODEL' || err.code === 'DEVICE')) {
        stop = err; // every other file would fail the same way
        break;
      }
      say(`sr: ${file.error}`);
      if (process.env.SR_DEBUG && err instanceof Error) process.stderr.write((err.stack ?? '') + '\n');
    }
  }
  line.done();
  const r = report();
  if (b.json) await writeJson(b.json, r);
  const s = r.summary;
  if (!b.quiet || s.failed > 0) {
    const parts = [`${s.ok} ok`];
    if (s.failed) parts.push(`${s.failed} failed`);
    if (s.skipped) parts.push(`${s.skipped} skipped (outputs exist, --resume)`);
    if (s.interrupted || s.pending) parts.push(`${s.interrupted + s.pending} not done`);
    process.stderr.write(`sr: ${parts.join(', ')} of ${s.total} files in ${r.seconds.toFixed(1)} s` +
      (b.outDir ? ` -> ${b.outDir}` : '') + (b.json ? ` (report ${b.json})` : '') + '\n');
  }
  if (stop) throw stop;
  return r;
}

/** Each input's size from its header, or null when it cannot be read (that file fails when its turn comes). */
export async function probeSizes(jobs: readonly Job[]): Promise<({ height: number; width: number } | null)[]> {
  const sizes: ({ height: number; width: number } | null)[] = [];
  for (const j of jobs) sizes.push(await probeImage(j.input, { limitInputPixels: false }).then((i) => ({ height: i.height, width: i.width }), () => null));
  return sizes;
}

/** Work weights for progress: the known ones as given, an unknown one (NaN) as the mean of the others. */
export function fillWeights(work: readonly number[]): number[] {
  const known = work.filter((w) => Number.isFinite(w));
  const fill = known.length ? known.reduce((a, w) => a + w, 0) / known.length : 1;
  return work.map((w) => (Number.isFinite(w) ? w : fill));
}

/** Writes a JSON report through a temp file + rename. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  const temp = join(dirname(path), `.${path.split(/[\\/]/).pop()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  trackTempFile(temp);
  try {
    await writeFile(temp, JSON.stringify(value, null, 2) + '\n', { flag: 'wx' });
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new OutputError(`Cannot write report ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  } finally {
    untrackTempFile(temp);
  }
}

/** The output folder: created when missing; an OutputError when it is a file or cannot be made. */
export async function ensureOutDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new OutputError(`Output ${dir} is a file; with several inputs, a folder or a glob, -o names a folder`);
  if (!st) {
    await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new OutputError(`Cannot create output folder ${dir}: ${err.code ?? err.message}`, { cause: err });
    });
  }
}
