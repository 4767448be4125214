/**
 * The enqueuing side: planned units of work become BullMQ jobs (one each, under a deterministic id, so a unit
 * enqueued twice is one job and a rerun finds what an earlier run's workers finished), and their results come
 * back, each exactly once, to one caller that records them. Progress sums the finished units' work and each
 * running unit's reported fraction, over all workers. A unit that fails on a worker stops the dispatch with its
 * error; an interruption withdraws the units no worker has taken yet. Results of units already running stay in
 * Redis for a week, so a rerun collects them instead of computing them again.
 */
import type { RunContext } from '../run-context.js';
import { Queue, QueueEvents } from 'bullmq';
import { AbortError, QueueError } from '../errors.js';
import { QUEUE_NAME, connectQueue, type QueueTarget } from './connection.js';
import { decodeFailure, type JobKind } from './jobs.js';

export interface QueueUnit<D = unknown> {
  id: string;
  kind: JobKind;
  data: D;
  /** Estimated work, for progress. */
  weight: number;
  /** What to show while it runs. */
  label: string;
}

export interface DispatchProgress {
  done: number;
  total: number;
  label: string;
  /** Units finished and in all. */
  finished: number;
  units: number;
  /** Workers connected to the queue (as Redis sees them). */
  workers: number;
}

export interface DispatchEvents<R> extends Omit<RunContext<DispatchProgress>, 'onWarning'> {
  /** Once per unit, one at a time, in the order results arrive; the unit counts as done when it resolves. */
  onResult: (unit: QueueUnit, result: R) => Promise<void>;
  /** How often to look at jobs whose events may have been missed, ms (default 2000). */
  pollMs?: number;
}

/** Kept this long after finishing, so an interrupted caller's rerun can collect them. */
const KEEP_SECONDS = 7 * 24 * 3600;

/** Queue + events for one URL, opened after a reachability check (QueueError when Redis cannot be reached). */
export async function openQueue(
  url: string | QueueTarget,
): Promise<{ target: QueueTarget; queue: Queue; events: QueueEvents; close: () => Promise<void> }> {
  const target = typeof url === 'string' ? await connectQueue(url) : url;
  const queue = new Queue(QUEUE_NAME, { connection: target.connection });
  const events = new QueueEvents(QUEUE_NAME, { connection: target.connection });
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  await events.waitUntilReady();
  return {
    target,
    queue,
    events,
    close: async () => {
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
    },
  };
}

/** Runs every unit on the queue's workers and hands each result to `onResult`; resolves when all are recorded. */
export async function dispatch<R>(url: string | QueueTarget, units: readonly QueueUnit[], ev: DispatchEvents<R>): Promise<void> {
  if (units.length === 0) return;
  const { queue, events, close } = await openQueue(url);
  const pending = new Map(units.map((u) => [u.id, u]));
  const fraction = new Map<string, number>();
  const total = units.reduce((a, u) => a + u.weight, 0);
  let doneWork = 0;
  let workers = 0;
  let lastLabel = units[0]!.label;
  let failure: unknown = null;
  /** Set once the dispatch ends (done, failed or aborted): no result is recorded after that. */
  let stopped = false;
  let wake: () => void = () => undefined;
  let chain: Promise<void> = Promise.resolve();

  const report = () =>
    ev.onProgress?.({
      done: doneWork + [...fraction].reduce((a, [id, f]) => a + f * (pending.get(id)?.weight ?? 0), 0),
      total,
      label: lastLabel,
      finished: units.length - pending.size,
      units: units.length,
      workers,
    });

  // one job at a time: results are recorded in order, each once (a late duplicate event finds it settled)
  const settle = (id: string) => {
    chain = chain.then(async () => {
      const unit = pending.get(id);
      if (!unit || failure || stopped) return;
      const j = await queue.getJob(id);
      if (!j) return;
      const state = await j.getState();
      if (state === 'completed') {
        await ev.onResult(unit, j.returnvalue as R);
        pending.delete(id);
        fraction.delete(id);
        doneWork += unit.weight;
        await j.remove().catch(() => undefined);
      } else if (state === 'failed') {
        failure = decodeFailure(j.failedReason, id);
      } else return;
      report();
      wake();
    });
    chain = chain.catch((err: unknown) => {
      failure ??= err;
      wake();
    });
  };

  events.on('progress', ({ jobId, data }) => {
    const unit = pending.get(jobId);
    if (!unit) return;
    const f = typeof data === 'number' ? data : typeof data === 'object' && data && 'fraction' in data ? Number(data.fraction) : NaN;
    if (Number.isFinite(f)) fraction.set(jobId, Math.min(1, Math.max(0, f)));
    lastLabel = unit.label;
    report();
  });
  events.on('active', ({ jobId }) => {
    if (pending.has(jobId)) fraction.set(jobId, fraction.get(jobId) ?? 0);
  });
  events.on('completed', ({ jobId }) => settle(jobId));
  events.on('failed', ({ jobId }) => settle(jobId));

  const onAbort = () => wake();
  ev.signal?.addEventListener('abort', onAbort);
  try {
    const added = await queue.addBulk(
      units.map((u) => ({
        name: u.kind,
        data: u.data,
        opts: { jobId: u.id, attempts: 1, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } },
      })),
    );
    // a job of the same id from an earlier run: finished ones are collected, failed ones run again
    for (const j of added) {
      const state = await j.getState();
      if (state === 'failed') await j.retry('failed');
      else if (state === 'completed') settle(j.id!);
    }
    report();
    const pollMs = ev.pollMs ?? 2000;
    while (pending.size > 0 && !failure) {
      if (ev.signal?.aborted) throw new AbortError('Aborted', { cause: ev.signal.reason });
      await new Promise<void>((r) => {
        const timer = setTimeout(r, pollMs);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      await chain;
      if (failure || pending.size === 0 || ev.signal?.aborted) continue;
      // events can be missed (a reconnect): look at what is still pending
      workers = await queue.getWorkersCount().catch(() => workers);
      for (const id of [...pending.keys()].slice(0, 500)) {
        const state = await queue.getJobState(id);
        if (state === 'completed' || state === 'failed') settle(id);
        else if (state === 'unknown')
          throw new QueueError(
            `Queued job ${id} disappeared from the queue (removed by hand, or Redis restarted without persistence?); run again to enqueue it`,
          );
      }
      await chain;
      report();
    }
    if (failure) throw failure;
  } catch (err) {
    stopped = true;
    await chain; // a result being recorded is finished before the caller hears of the stop; none starts after
    // withdraw what no worker has started (running jobs finish; a rerun collects their results)
    await Promise.all(
      [...pending.keys()].map(async (id) => {
        const j = await queue.getJob(id).catch(() => undefined);
        if (j && ['waiting', 'delayed', 'prioritized'].includes(await j.getState())) await j.remove().catch(() => undefined);
      }),
    ).catch(() => undefined);
    throw err;
  } finally {
    stopped = true;
    await chain;
    ev.signal?.removeEventListener('abort', onAbort);
    await close();
  }
}
