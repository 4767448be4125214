/**
 * The job engine under batch, vary and sweep: a unit of work (a label, a weight, a `run` with a loaded model) and
 * the one runner that takes a run's units here, in order, with one model, or on a queue's workers (each unit a job,
 * its result coming back here). A feature keeps its planning, its unit's `run` and its payload encoding (an Enqueue
 * and a UnitDecoder); the order of results, the stop rule and the progress are this file's, the same for every
 * feature.
 *
 * The stop rule: a unit's run returns its result and the error that must stop the run (an interruption, a model or
 * device failure), else null; a unit that throws stops the run without a result. On a queue a unit that stops
 * fails its job, and the first failed job stops the run with its error.
 */
import { AbortError } from '../errors.js';
import type { ModelSession } from '../model/session.js';
import { connectQueue, type QueueTarget } from '../queue/connection.js';
import type { QueueUnit } from '../queue/dispatch.js';
import type { JobHandler, JobKind, ModelRef } from '../queue/jobs.js';
import { holdOutput, lockNotReleased, type OutputHold } from '../queue/out-lock.js';
import type { RunContext, WorkProgress } from '../run-context.js';
import { markInterrupted, type Outcome } from './outcome.js';

/** What a unit's run is given besides its model. */
export interface UnitContext {
  signal: AbortSignal | undefined;
  onWarning: ((message: string) => void) | undefined;
  /** The unit's fraction done (0..1) and what runs in it now. */
  onFraction(fraction: number, what: string): void;
}

/** What a unit's run gives back: its result, and the error that must stop the run (else null). */
export interface Ran<R> {
  result: R;
  stop: unknown;
}

/** A unit of work: what it is (for progress), its estimated work, and how it runs with a loaded model. */
export interface WorkUnit<R> {
  label: string;
  weight: number;
  run(model: ModelSession | null, ctx: UnitContext): Promise<Ran<R>>;
}

/**
 * The enqueuer's side of a feature's units on a queue: a unit's payload and an id that is the same for the same work
 * (so a rerun collects what an earlier run's workers finished), and its result as it comes back.
 */
export interface Enqueue<U, R> {
  kind: JobKind;
  encode(unit: U): { id: string; data: unknown };
  /** A result as it came back (a QueueError when it is not one). */
  decodeResult(raw: unknown, id: string): R;
}

/** The worker's side: the unit a payload stands for and the model it needs (BadPayloadError when it cannot be run). */
export interface UnitDecoder<R> {
  decode(data: unknown): { unit: WorkUnit<R>; model: ModelRef | null };
  /** A result as it goes back through Redis (default: as it is). */
  encodeResult?(result: R): unknown;
}

/** Where a run's units run: here with a model (null: units that need none), or on a queue whose output folder is held. */
export type Target<U, R> = { model: ModelSession | null } | { queue: QueueTarget; hold: OutputHold; via: Enqueue<U, R> };

/** The queue a run was given (reached, its output folder held), or null to run here. */
export type QueueHold = { queue: QueueTarget; hold: OutputHold } | null;

/** The runner's progress: work done over the total (the units' weights), the unit running and what runs in it. */
export interface UnitsProgress<U> {
  done: number;
  total: number;
  /** The label of the unit running (here), or of the last one heard of (on a queue). */
  label: string;
  /** The unit running here; null on a queue. */
  unit: U | null;
  /** What runs in the unit now (here), or null. */
  what: string | null;
  /** On a queue: units finished and in all, and the workers connected; null here. */
  queue: { finished: number; units: number; workers: number } | null;
}

/** What a run of units reports: its progress and warnings, each result in the units' order (here) or as they come. */
export interface UnitEvents<U, R> {
  signal?: AbortSignal | undefined;
  onWarning?: ((message: string) => void) | undefined;
  onProgress?: ((e: UnitsProgress<U>) => void) | undefined;
  onResult(unit: U, result: R): Promise<void>;
  /** The reports marked interrupted (those not done yet) when a queued run is interrupted. */
  outcomes?: readonly Pick<Outcome, 'status' | 'error' | 'errorCode'>[];
}

/** Runs `units` on `target`; resolves with the error that stopped the run, or null. */
export async function runUnits<U extends WorkUnit<R>, R>(
  units: readonly U[],
  target: Target<U, R>,
  ev: UnitEvents<U, R>,
): Promise<unknown> {
  return 'queue' in target ? runQueued(units, target, ev) : runHere(units, target.model, ev);
}

async function runHere<U extends WorkUnit<R>, R>(units: readonly U[], model: ModelSession | null, ev: UnitEvents<U, R>): Promise<unknown> {
  const total = units.reduce((a, u) => a + u.weight, 0);
  let before = 0;
  for (const unit of units) {
    const at = before;
    const progress = (f: number, what: string | null) =>
      ev.onProgress?.({ done: at + f * unit.weight, total, label: unit.label, unit, what, queue: null });
    progress(0, null);
    let ran: Ran<R>;
    try {
      ran = await unit.run(model, { signal: ev.signal, onWarning: ev.onWarning, onFraction: progress });
    } catch (err) {
      return err;
    }
    await ev.onResult(unit, ran.result);
    if (ran.stop) return ran.stop;
    before += unit.weight;
    progress(1, null);
  }
  return null;
}

async function runQueued<U extends WorkUnit<R>, R>(
  units: readonly U[],
  target: { queue: QueueTarget; hold: OutputHold; via: Enqueue<U, R> },
  ev: UnitEvents<U, R>,
): Promise<unknown> {
  const kind = target.via;
  const byId = new Map<string, U>();
  const queued: QueueUnit[] = units.map((u) => {
    const { id, data } = kind.encode(u);
    byId.set(id, u);
    return { id, kind: kind.kind, data, weight: u.weight, label: u.label };
  });
  const { dispatch } = await import('../queue/dispatch.js'); // BullMQ loads only for a queued run
  try {
    await dispatch<unknown>(target.queue, queued, {
      ...(ev.signal ? { signal: ev.signal } : {}),
      ...(ev.onWarning ? { onWarning: ev.onWarning } : {}),
      hold: target.hold,
      onProgress: (e) =>
        ev.onProgress?.({
          done: e.done,
          total: e.total,
          label: e.label,
          unit: null,
          what: null,
          queue: { finished: e.finished, units: e.units, workers: e.workers },
        }),
      onResult: (q, raw) => {
        const unit = byId.get(q.id)!;
        return ev.onResult(unit, kind.decodeResult(raw, q.id));
      },
    });
    return null;
  } catch (err) {
    if (err instanceof AbortError && ev.outcomes) markInterrupted(ev.outcomes);
    return err;
  }
}

/** The worker's handler of a kind of unit: decode the payload, load its model, run it; a unit that stops fails its job. */
export function unitHandler<R>(kind: UnitDecoder<R>): JobHandler<{ unit: WorkUnit<R>; model: ModelRef | null }> {
  return {
    check: (data) => kind.decode(data),
    label: (d) => d.unit.label,
    async run({ unit, model }, ctx) {
      const loaded = model ? await ctx.model(model) : null;
      const { result, stop } = await unit.run(loaded, { signal: ctx.signal, onWarning: undefined, onFraction: (f) => ctx.onFraction(f) });
      if (stop) throw stop; // an interruption puts the job back; a model or device failure fails it (and stops the run)
      return kind.encodeResult ? kind.encodeResult(result) : result;
    },
  };
}

/**
 * Runs `fn` with the target its options name: a queue (reached and its output folder `out` held for the whole run,
 * one enqueuer per folder; an unreachable queue or a held folder is an error before anything is written), else `here`.
 */
export async function withTarget<T>(
  queue: string | undefined,
  out: string,
  command: string,
  onWarning: ((message: string) => void) | undefined,
  fn: (q: QueueHold) => Promise<T>,
): Promise<T> {
  if (queue === undefined) return fn(null);
  const target = await connectQueue(queue);
  const hold = await holdOutput(target, out, command);
  try {
    return await fn({ queue: target, hold });
  } finally {
    if (!(await hold.release())) onWarning?.(lockNotReleased(hold, target.url));
  }
}

/**
 * A run over files (a batch, a vary run): each unit stands for the report at its `index` in `files`, which its
 * result becomes (`report`) before `onFile`; progress reads "i/n <input> <what>" here, "k/n files, w workers;
 * <input>" on a queue; an interruption on a queue marks every file not done yet interrupted.
 */
export function runFiles<U extends WorkUnit<R> & { index: number }, R, F extends Pick<Outcome, 'status' | 'error' | 'errorCode'>>(
  units: readonly U[],
  target: Target<U, R>,
  files: F[],
  events: RunContext<WorkProgress> & { onFile?: ((file: F, index: number, total: number) => void) | undefined },
  report: (unit: U, result: R) => Promise<F>,
): Promise<unknown> {
  return runUnits(units, target, {
    signal: events.signal,
    onWarning: events.onWarning,
    onProgress: (e) => events.onProgress?.(filesProgress(files.length, e)),
    outcomes: files,
    onResult: async (unit, result) => {
      files[unit.index] = await report(unit, result);
      events.onFile?.(files[unit.index]!, unit.index, files.length);
    },
  });
}

function filesProgress<U extends { label: string; index: number }>(n: number, e: UnitsProgress<U>): WorkProgress {
  const label = e.queue
    ? `${e.queue.finished}/${e.queue.units} files, ${e.queue.workers} workers; ${e.label}`
    : `${(e.unit?.index ?? 0) + 1}/${n} ${e.label}${e.what ? ` ${e.what}` : ''}`;
  return { done: e.done, total: e.total, label };
}
