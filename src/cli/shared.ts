/**
 * What several commands print or write the same way: the model's device notes, the file events above the
 * progress bar, and the --json report with each failed file's exit code.
 */
import { escapeControls, type ErrorCode } from '../errors.js';
import { writeFileAtomic } from '../io-safety/atomic.js';
import type { DeviceNote } from '../model/session.js';
import { exitCodeForKind } from './exit-codes.js';
import type { TextSink } from './context.js';
import type { ProgressLine } from './progress.js';
import type { WorkProgress } from '../run-context.js';
import { UsageError } from '../errors.js';
import type { WorkEstimate } from '../upscale.js';

/**
 * The device notes of a model load: with --device auto, which device it chose and why (a software WebGPU adapter
 * is skipped); with --device webgpu on a software adapter, a warning that it is slow (shown even with -q).
 */
export function noteWriter(stderr: TextSink, quiet: boolean): (n: DeviceNote) => void {
  return (n) => {
    if (n.level === 'warning') stderr.write(`sr: warning: ${escapeControls(n.message)}\n`);
    else if (!quiet) stderr.write(`sr: ${escapeControls(n.message)}\n`);
  };
}

/** Progress on the line, warnings and each failed file's one line above it: what a batch and vary print. */
export function fileEvents(line: ProgressLine, signal: AbortSignal) {
  return {
    signal,
    onProgress: (e: WorkProgress) => line.update(e.done, e.total, e.label),
    onWarning: (m: string) => line.say(`sr: warning: ${m}`),
    onFile: (f: { status: string; error: string | null }) => {
      if (f.status === 'failed') line.say(`sr: ${f.error}`);
    },
  };
}

/** The --json report: the library's, with the command line and each failed file's exit code added. */
export async function writeReport<R extends { files: { errorCode: ErrorCode | null }[] }>(
  path: string,
  report: R,
  meta: { command: string; options: Record<string, unknown> },
): Promise<void> {
  const files = report.files.map((f) => ({ ...f, exitCode: f.errorCode === null ? null : exitCodeForKind(f.errorCode) }));
  const body = { ...report, command: meta.command, options: meta.options, files };
  await writeFileAtomic(path, JSON.stringify(body, null, 2) + '\n', { what: 'report' });
}

/** Jobs estimated to take longer than this on the CPU EP need --yes. */
export const LARGE_JOB_SECONDS = 600;

/**
 * Refuses work whose estimated CPU time is over LARGE_JOB_SECONDS unless --yes was given, saying what it would
 * cost; with --yes, says the estimate and goes on.
 */
export function guardCost(
  label: string,
  estimates: readonly WorkEstimate[],
  flags: { yes?: boolean | undefined; quiet?: boolean | undefined },
  stderr: TextSink,
): void {
  const seconds = estimates.reduce((a, e) => a + (e.cpuSeconds ?? 0), 0);
  if (seconds <= LARGE_JOB_SECONDS) return;
  const text = `${label}: ${costText(estimates)}`;
  if (!flags.yes) throw new UsageError(`${text}; run again with --yes to start it, or lower --factor, --cascade or --steps`);
  if (!flags.quiet) stderr.write(`sr: ${text}; starting (--yes)\n`);
}

/** "1,200 model evaluations (16 tiles), about 3 min on a 2-core CPU at the model's measured speed". */
export function costText(estimates: readonly WorkEstimate[]): string {
  const seconds = estimates.reduce((a, e) => a + (e.cpuSeconds ?? 0), 0);
  const known = estimates.some((e) => e.cpuSeconds !== null);
  const tiles = estimates.reduce((a, e) => a + e.tiles, 0);
  const evals = estimates.reduce((a, e) => a + e.tiles * e.evaluations, 0);
  return (
    `${evals.toLocaleString('en-US')} model evaluations (${tiles.toLocaleString('en-US')} tile${tiles === 1 ? '' : 's'})` +
    (known ? `, about ${duration(seconds)} on a 2-core CPU at the model's measured speed` : '')
  );
}

const duration = (s: number): string =>
  s < 90 ? `${Math.max(1, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
