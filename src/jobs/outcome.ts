/**
 * The outcome kit every job engine shares (batch, vary, and what a sweep reports): what became of each unit of work
 * (status, one-line error and its code), the counts of a run, the stop rule, progress weights, the checks before
 * the model runs (overwrite policy, input header, output folder). Nothing here writes to stderr.
 */
import { mkdir, stat } from 'node:fs/promises';
import { AbortError, InputError, OutputError, SrError, UsageError, errorLine, escapeControls, type ErrorCode } from '../errors.js';
import { pixels, probeImage, type ImageInfo } from '../image/io.js';
import { checkOutputSize } from '../io-safety/limits.js';

/** What became of one unit of work (an input of a batch or a vary run): done, failed, skipped by --resume, stopped mid-way, or never started. */
export type FileStatus = 'ok' | 'failed' | 'skipped' | 'interrupted' | 'pending';

/** Files in each status, and in all. */
export interface StatusCounts extends Record<FileStatus, number> {
  total: number;
}

/** The fields of a unit's report the kit sets: its input, and what became of it. */
export interface Outcome {
  input: string;
  status: FileStatus;
  /** One-line reason for failed/skipped, else null. */
  error: string | null;
  errorCode: ErrorCode | null;
}

/** The counts of a run's reports, in the order reports show them (total, ok, failed, skipped, interrupted, pending). */
export function summarise(files: readonly Pick<Outcome, 'status'>[]): StatusCounts {
  const counts: StatusCounts = { total: files.length, ok: 0, failed: 0, skipped: 0, interrupted: 0, pending: 0 };
  for (const f of files) counts[f.status] += 1;
  return counts;
}

/**
 * The stop rule: how an error ends a unit, set on its report. An interruption (AbortError, or any error once
 * `signal` fired) marks it interrupted and returns the AbortError that stops the run; a model or device failure
 * (which every other unit would hit too) marks it failed and returns the error that stops the run; any other
 * error marks it failed and returns null: the run goes on.
 */
export function settle(err: unknown, file: Outcome, signal: AbortSignal | undefined): unknown {
  if (err instanceof AbortError || signal?.aborted) {
    Object.assign(file, { status: 'interrupted', error: 'interrupted', errorCode: 'ABORTED' });
    return err instanceof AbortError ? err : new AbortError('Aborted', { cause: err });
  }
  Object.assign(file, { status: 'failed', error: oneLine(err, file.input), errorCode: err instanceof SrError ? err.code : 'INTERNAL' });
  return err instanceof SrError && (err.code === 'MODEL' || err.code === 'DEVICE') ? err : null;
}

/** Marks every file not done yet as interrupted (a run stopped by a signal). */
export function markInterrupted(files: readonly Pick<Outcome, 'status' | 'error' | 'errorCode'>[]): void {
  for (const f of files)
    if (f.status === 'pending') Object.assign(f, { status: 'interrupted', error: 'interrupted', errorCode: 'ABORTED' });
}

/** The error as one line, naming the file when the message does not already. */
export function oneLine(err: unknown, file: string): string {
  // control characters escaped, not cut at: a newline in a file name used to lose the reason (issue 25 #4)
  const msg = errorLine(err);
  const name = escapeControls(file);
  const named = msg.includes(name) ? msg : `${name}: ${msg}`;
  return err instanceof SrError ? named : `internal error: ${named} (set SR_DEBUG=1 for the stack trace)`;
}

/** Work weights for progress: the known ones as given, an unknown one (NaN) as the mean of the others. */
export function fillWeights(work: readonly number[]): number[] {
  const known = work.filter((w) => Number.isFinite(w));
  const fill = known.length ? known.reduce((a, w) => a + w, 0) / known.length : 1;
  return work.map((w) => (Number.isFinite(w) ? w : fill));
}

/** force and resume as given; both at once is a UsageError (overwrite existing outputs, or skip them). */
export function overwritePolicy(o: { force?: boolean | undefined; resume?: boolean | undefined }): { force: boolean; resume: boolean } {
  const force = o.force ?? false;
  const resume = o.resume ?? false;
  if (force && resume) throw new UsageError('Use either --force (overwrite existing outputs) or --resume (skip them), not both');
  return { force, resume };
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

/** The input checks done before the model runs: header, pixel limit, output size. */
export async function preflight(input: string, factor: number, maxPixels: number): Promise<ImageInfo> {
  const info = await probeImage(input, { limitInputPixels: false });
  const px = info.width * info.height;
  if (px > maxPixels) {
    throw new InputError(
      `Cannot decode ${input}: ${info.width}x${info.height} = ${pixels(px)} is over the limit of ${pixels(maxPixels)}; ` +
        'refusing a possible decompression bomb (raise it with --max-pixels)',
    );
  }
  checkOutputSize(info.height, info.width, factor, input);
  return info;
}
