/**
 * The enqueuing side: planned units of work become BullMQ jobs (one each, under a deterministic id, so a unit
 * enqueued twice is one job and a rerun finds what an earlier run's workers finished), and their results come
 * back, each exactly once, to one caller that records them (one per output folder: the caller holds its folder's
 * lock, out-lock.ts, and passes it as `hold`). Progress sums the finished units' work and each
 * running unit's reported fraction, over all workers. A unit that fails on a worker stops the dispatch with its
 * error; an interruption withdraws the units no worker has taken yet. Results of units already running stay in
 * Redis for a week, so a rerun collects them instead of computing them again.
 */
import type { RunContext } from '../run-context.js';
import { Queue, QueueEvents } from 'bullmq';
import { AbortError, QueueError } from '../errors.js';
import { QUEUE_NAME, asQueueError, connectQueue, type QueueTarget } from './connection.js';
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

export interface DispatchEvents<R> extends RunContext<DispatchProgress> {
  /** Once per unit, one at a time, in the order results arrive; the unit counts as done when it resolves. */
  onResult: (unit: QueueUnit, result: R) => Promise<void>;
  /** How often to look at jobs whose events may have been missed, ms (default 2000). */
  pollMs?: number;
  /**
   * The lock on the output folder the results go to (out-lock.ts), held by the caller for the whole run: each
   * result is recorded only while it is still this run's (a lock lost to another run stops the dispatch).
   */
  hold?: { assure(): Promise<void> };
}

/** Kept this long after finishing, so an interrupted caller's rerun can collect them. */
const KEEP_SECONDS = 7 * 24 * 3600;

/**
 * How long a stop waits for Redis (withdrawing jobs, closing): commands wait for a reconnect without end, so a stop
 * while Redis is down never finished (issue 25 #2).
 */
export const STOP_WAIT_MS = 3000;

/** Whether `p` settled within `ms` (its failure counts as settled); it is left to run on otherwise. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `p`, or an AbortError as soon as `signal` fires (what `p` waits on, e.g. a Redis that is down, is left behind). */
function orAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(new AbortError('Aborted', { cause: signal.reason }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(res, rej).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Queue + events for one URL, opened after a reachability check (QueueError when Redis cannot be reached). */
export async function openQueue(
  url: string | QueueTarget,
): Promise<{ target: QueueTarget; queue: Queue; events: QueueEvents; close: (waitMs?: number) => Promise<void> }> {
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
    close: async (waitMs = STOP_WAIT_MS) => {
      // bounded: with Redis down a close waits for a reconnect; then the connections are dropped
      if (!(await within(Promise.all([events.close(), queue.close()]), waitMs))) {
        void events.disconnect().catch(() => undefined);
        void queue.disconnect().catch(() => undefined);
      }
    },
  };
}

/** Runs every unit on the queue's workers and hands each result to `onResult`; resolves when all are recorded. */
export async function dispatch<R>(url: string | QueueTarget, units: readonly QueueUnit[], ev: DispatchEvents<R>): Promise<void> {
  if (units.length === 0) return;
  const shown = typeof url === 'string' ? url : url.url;
  let opened: Awaited<ReturnType<typeof openQueue>>;
  try {
    opened = await openQueue(url);
  } catch (err) {
    throw asQueueError(err, shown);
  }
  const d = new Dispatcher<R>(opened.queue, units, ev);
  const onAbort = () => d.wake();
  ev.signal?.addEventListener('abort', onAbort);
  let silent = false; // Redis did not answer the stop: nothing more is waited for
  try {
    d.listen(opened.events);
    await orAbort(d.enqueue(), ev.signal);
    await d.waitAll();
  } catch (err) {
    // the stop is bounded, all its steps together: Redis may be the reason for it, or be down
    const stopBy = performance.now() + STOP_WAIT_MS;
    const left = () => Math.max(0, stopBy - performance.now());
    const stopped = (await within(d.stop(), left())) && (await within(d.withdraw(), left()));
    if (!stopped) {
      silent = true;
      ev.onWarning?.(
        `could not withdraw the queued jobs: the queue at ${opened.target.url} does not answer; jobs no worker has taken stay queued (a rerun collects or redoes them)`,
      );
    }
    throw asQueueError(err, opened.target.url); // a refused command (OOM…) is the queue's failure, exit 7
  } finally {
    if (!silent) await within(d.stop(), STOP_WAIT_MS);
    ev.signal?.removeEventListener('abort', onAbort);
    await opened.close(silent ? 0 : STOP_WAIT_MS);
  }
}

/** The state of one dispatch: what is pending, how far each running unit is, and the one chain results go through. */
class Dispatcher<R> {
  private readonly pending: Map<string, QueueUnit>;
  private readonly fraction = new Map<string, number>();
  private readonly total: number;
  private doneWork = 0;
  private workers = 0;
  private lastLabel: string;
  private failure: unknown = null;
  /** Set once the dispatch ends (done, failed or aborted): no result is recorded after that. */
  private stopped = false;
  private wakeUp: () => void = () => undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: Queue,
    private readonly units: readonly QueueUnit[],
    private readonly ev: DispatchEvents<R>,
  ) {
    this.pending = new Map(units.map((u) => [u.id, u]));
    this.total = units.reduce((a, u) => a + u.weight, 0);
    this.lastLabel = units[0]!.label;
  }

  wake(): void {
    this.wakeUp();
  }

  private report(): void {
    const running = [...this.fraction].reduce((a, [id, f]) => a + f * (this.pending.get(id)?.weight ?? 0), 0);
    this.ev.onProgress?.({
      done: this.doneWork + running,
      total: this.total,
      label: this.lastLabel,
      finished: this.units.length - this.pending.size,
      units: this.units.length,
      workers: this.workers,
    });
  }

  /** Looks at a job that may be finished; one at a time, so results are recorded in order, each once. */
  private settle(id: string): void {
    this.chain = this.chain
      .then(async () => {
        const unit = this.pending.get(id);
        if (!unit || this.failure || this.stopped) return;
        const j = await this.queue.getJob(id);
        if (!j) return;
        const state = await j.getState();
        if (state === 'completed') {
          await this.ev.hold?.assure();
          await this.ev.onResult(unit, j.returnvalue as R);
          this.pending.delete(id);
          this.fraction.delete(id);
          this.doneWork += unit.weight;
          await j.remove().catch(() => undefined);
        } else if (state === 'failed') {
          this.failure = decodeFailure(j.failedReason, id);
        } else return;
        this.report();
        this.wakeUp();
      })
      .catch((err: unknown) => {
        this.failure ??= err;
        this.wakeUp();
      });
  }

  listen(events: QueueEvents): void {
    events.on('progress', ({ jobId, data }) => {
      const unit = this.pending.get(jobId);
      if (!unit) return;
      const f = typeof data === 'number' ? data : typeof data === 'object' && data && 'fraction' in data ? Number(data.fraction) : NaN;
      if (Number.isFinite(f)) this.fraction.set(jobId, Math.min(1, Math.max(0, f)));
      this.lastLabel = unit.label;
      this.report();
    });
    events.on('active', ({ jobId }) => {
      if (this.pending.has(jobId)) this.fraction.set(jobId, this.fraction.get(jobId) ?? 0);
    });
    events.on('completed', ({ jobId }) => this.settle(jobId));
    events.on('failed', ({ jobId }) => this.settle(jobId));
  }

  /** Adds every unit; a job of the same id from an earlier run: finished ones are collected, failed ones run again. */
  async enqueue(): Promise<void> {
    await this.ev.hold?.assure();
    const added = await this.queue.addBulk(
      this.units.map((u) => ({
        name: u.kind,
        data: u.data,
        opts: { jobId: u.id, attempts: 1, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } },
      })),
    );
    for (const j of added) {
      const state = await j.getState();
      if (state === 'failed') await j.retry('failed');
      else if (state === 'completed') this.settle(j.id!);
    }
    this.workers = await this.queue.getWorkersCount().catch(() => 0);
    this.report();
  }

  /** Until every unit is recorded, a unit failed (its error is thrown) or the signal fired (AbortError). */
  async waitAll(): Promise<void> {
    const pollMs = this.ev.pollMs ?? 2000;
    const signal = this.ev.signal;
    while (this.pending.size > 0 && !this.failure) {
      if (signal?.aborted) throw new AbortError('Aborted', { cause: signal.reason });
      await new Promise<void>((r) => {
        const timer = setTimeout(r, pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          r();
        };
      });
      await orAbort(this.chain, signal);
      if (this.failure || this.pending.size === 0 || signal?.aborted) continue;
      await orAbort(this.reconcile(), signal);
    }
    if (this.failure) throw this.failure;
  }

  /** Events can be missed (a reconnect): looks at what is still pending, and counts the workers. */
  private async reconcile(): Promise<void> {
    this.workers = await this.queue.getWorkersCount().catch(() => this.workers);
    for (const id of [...this.pending.keys()].slice(0, 500)) {
      const state = await this.queue.getJobState(id);
      if (state === 'completed' || state === 'failed') this.settle(id);
      else if (state === 'unknown') {
        throw new QueueError(
          `Queued job ${id} disappeared from the queue (removed by hand, or Redis restarted without persistence?); run again to enqueue it`,
        );
      }
    }
    await this.chain;
    this.report();
  }

  /** No result is recorded from now on; the one being recorded is finished first. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }

  /** Removes what no worker has started (running jobs finish; a rerun collects their results). */
  async withdraw(): Promise<void> {
    await Promise.all(
      [...this.pending.keys()].map(async (id) => {
        const j = await this.queue.getJob(id).catch(() => undefined);
        if (j && ['waiting', 'delayed', 'prioritized'].includes(await j.getState())) await j.remove().catch(() => undefined);
      }),
    ).catch(() => undefined);
  }
}
