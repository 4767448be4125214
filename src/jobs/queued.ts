/**
 * The queued runner of a run over files (a batch, a vary run): its units go to the queue's workers, each result
 * comes back to the file it belongs to, progress reads "k/n files, w workers; <file>", and the stop rule is the
 * local runner's: a failed unit stops the run with its error, an interruption marks every file not done yet
 * interrupted. The caller encodes its units and decodes their results; this file knows neither.
 */
import { AbortError } from '../errors.js';
import type { QueueTarget } from '../queue/connection.js';
import { dispatch, filesLabel, type QueueUnit } from '../queue/dispatch.js';
import type { OutputHold } from '../queue/out-lock.js';
import type { RunContext, WorkProgress } from '../run-context.js';
import { markInterrupted, type Outcome } from './outcome.js';

/** A unit of a run over files, with the index of the file (in the run's reports) it stands for. */
export interface FileUnit<D> extends QueueUnit<D> {
  file: number;
}

/**
 * Runs `units` on the queue's workers; `onResult` records each result (the file's index, what the worker returned).
 * `files`: the run's reports, for the stop rule. `hold`: the lock on the output folder the caller holds
 * (out-lock.ts), so that one enqueuer writes into it. Resolves with the error that stopped the run, or null.
 */
export async function runFilesQueued<R>(
  queue: string | QueueTarget,
  units: readonly FileUnit<unknown>[],
  files: readonly Pick<Outcome, 'status' | 'error' | 'errorCode'>[],
  events: RunContext<WorkProgress>,
  hold: OutputHold | undefined,
  onResult: (file: number, result: R, unit: QueueUnit) => Promise<void>,
): Promise<unknown> {
  const index = new Map(units.map((u) => [u.id, u.file]));
  try {
    await dispatch<R>(queue, units, {
      ...(events.signal ? { signal: events.signal } : {}),
      ...(events.onWarning ? { onWarning: events.onWarning } : {}),
      ...(hold ? { hold } : {}),
      onProgress: (e) => events.onProgress?.({ done: e.done, total: e.total, label: filesLabel(e) }),
      onResult: (unit, result) => onResult(index.get(unit.id)!, result, unit),
    });
    return null;
  } catch (err) {
    if (err instanceof AbortError) markInterrupted(files);
    return err;
  }
}
