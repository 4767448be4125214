/**
 * The worker loop: takes jobs from the queue, loads each model once and keeps it, runs each job with the handler
 * of its kind (given by the caller: src/worker.ts) and reports progress through the job. A payload it cannot run,
 * a model whose sha256 is not the one the job names, or an error of the work itself fails the job at once with a
 * one-line reason (never retried: the same job would fail the same way). A stop (the signal) aborts the jobs in
 * hand and puts them back in the queue for another worker; their outputs are written atomically, so nothing
 * half-written is left. A worker that dies without stopping (kill -9, a lost machine) stops renewing its jobs'
 * locks; another worker takes them back after `stallSeconds`.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { AbortError, ModelError, SrError } from '../errors.js';
import { loadManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { loadModel, type DeviceRequest, type ModelSession } from '../model/session.js';
import { QUEUE_NAME, asQueueError, connectQueue } from './connection.js';
import { STOP_WAIT_MS, within } from './dispatch.js';
import { BadPayloadError, JOB_KINDS, encodeFailure, type JobHandlers, type JobKind, type ModelRef } from './jobs.js';

/** `runWorker`'s options: the queue, how many jobs at once, the device and threads, and the lock lifetime. */
export interface WorkerOptions {
  queue: string;
  /** Jobs run at once (each with its own model run). Default 1. */
  concurrency?: number;
  device?: DeviceRequest;
  /** ONNX Runtime threads per model (default: all cores). */
  threads?: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is taken back after about this long. Default 30. */
  stallSeconds?: number;
}

/** A worker's run context: the signal that stops it, and where its events go (what it does, as it goes). */
export interface WorkerContext {
  signal?: AbortSignal | undefined;
  onEvent?: ((e: WorkerEvent) => void) | undefined;
}

/** What a worker reports as it goes (the CLI prints them): ready, a model loaded, a job started, done, failed or released, an error. */
export type WorkerEvent =
  | { type: 'ready'; queue: string; name: string; concurrency: number }
  | { type: 'model'; name: string; sha256: string; device: string; dir: string }
  | { type: 'start'; id: string; kind: string; label: string }
  | { type: 'done'; id: string; kind: string; label: string; seconds: number }
  | { type: 'failed'; id: string; kind: string; label: string; reason: string }
  | { type: 'released'; id: string; kind: string; label: string }
  | { type: 'error'; message: string };

/** What a worker did before it stopped: jobs done, failed, and released (put back for another worker). */
export interface WorkerSummary {
  done: number;
  failed: number;
  released: number;
}

/**
 * Runs a worker with `handlers` (one per job kind; src/worker.ts holds the table, so that the queue knows no
 * feature) until `signal` fires; resolves once the jobs in hand are back in the queue and the models closed.
 */
export async function runQueueWorker(o: WorkerOptions, handlers: JobHandlers, ctx: WorkerContext = {}): Promise<WorkerSummary> {
  const target = await connectQueue(o.queue);
  const name = `sr-worker@${hostname()}:${process.pid}`;
  const emit = (e: WorkerEvent) => ctx.onEvent?.(e);
  const models = new ModelCache(name, o, emit);
  const jobs = new JobRunner(models, handlers, emit);
  const stallMs = Math.max(1, o.stallSeconds ?? 30) * 1000;
  const worker = new Worker(QUEUE_NAME, (job, token) => jobs.run(job, token), {
    connection: target.connection,
    concurrency: o.concurrency ?? 1,
    name,
    lockDuration: stallMs,
    stalledInterval: stallMs,
    maxStalledCount: 3,
    autorun: false,
  });
  let lastError = '';
  worker.on('error', (err) => {
    const message = `queue: ${err.message}`;
    if (message !== lastError) emit({ type: 'error', message });
    lastError = message;
  });
  const closed = new Promise<void>((resolveClosed) => {
    const onStop = () => {
      jobs.stopAll();
      // bounded: with Redis down, putting the jobs back and closing wait for a reconnect without end (issue 25 #2)
      void within(worker.close(), STOP_WAIT_MS).then((closed) => {
        if (!closed) {
          emit({
            type: 'error',
            message: `could not release the jobs in hand: the queue at ${target.url} does not answer; another worker takes them back after --stall-seconds`,
          });
          void worker.close(true).catch(() => undefined);
        }
        resolveClosed();
      });
    };
    if (ctx.signal?.aborted) onStop();
    else ctx.signal?.addEventListener('abort', onStop, { once: true });
  });
  try {
    await worker.waitUntilReady();
  } catch (err) {
    await worker.close(true).catch(() => undefined);
    throw asQueueError(err, target.url); // Redis refusing the worker's set-up is the queue's failure (exit 7), not a bug
  }
  emit({ type: 'ready', queue: target.url, name, concurrency: o.concurrency ?? 1 });
  void worker.run().catch((err: unknown) => emit({ type: 'error', message: `queue: ${(err as Error).message}` }));
  await closed;
  await models.disposeAll();
  return jobs.summary;
}

/** Each model loaded once, on its first job, after its manifest's sha256 is checked against the job's. */
class ModelCache {
  private readonly models = new Map<string, Promise<ModelSession>>();
  constructor(
    private readonly worker: string,
    private readonly o: Pick<WorkerOptions, 'device' | 'threads'>,
    private readonly emit: (e: WorkerEvent) => void,
  ) {}

  async get(ref: ModelRef): Promise<ModelSession> {
    const dir = resolveModelDir(ref.spec);
    const manifest = await loadManifest(dir);
    if (manifest.sha256 !== ref.sha256) {
      throw new ModelError(
        `Worker ${this.worker} has model ${ref.spec} as ${manifest.name} ${manifest.sha256.slice(0, 12)}…, the job needs ${ref.name} ${ref.sha256.slice(0, 12)}…; give every worker the same model files`,
      );
    }
    const key = `${dir}\n${manifest.sha256}`;
    let m = this.models.get(key);
    if (!m) {
      // float, explicitly: the enqueuer planned float (upscaleInputs); precision auto would pick per worker machine
      m = loadModel(dir, {
        device: this.o.device ?? 'cpu',
        precision: 'float',
        ...(this.o.threads !== undefined ? { threads: this.o.threads } : {}),
      });
      this.models.set(key, m);
      m.then(
        (s) => this.emit({ type: 'model', name: s.manifest.name, sha256: s.manifest.sha256, device: s.device, dir }),
        () => this.models.delete(key),
      );
    }
    return m;
  }

  async disposeAll(): Promise<void> {
    for (const m of this.models.values()) await (await m.catch(() => null))?.dispose();
  }
}

/** Runs one job with its kind's handler: progress through the job, a stop puts it back, a failure is final. */
class JobRunner {
  readonly summary: WorkerSummary = { done: 0, failed: 0, released: 0 };
  private readonly stopping = new AbortController();
  constructor(
    private readonly models: ModelCache,
    private readonly handlers: JobHandlers,
    private readonly emit: (e: WorkerEvent) => void,
  ) {}

  /** Aborts every job in hand (each goes back to the queue). */
  stopAll(): void {
    this.stopping.abort();
  }

  async run(job: Job, token?: string): Promise<unknown> {
    const kind = job.name as JobKind;
    const label = `${kind} ${job.id}`;
    const started = performance.now();
    const inHand = new AbortController();
    const stop = () => inHand.abort(new AbortError('Worker stopping'));
    this.stopping.signal.addEventListener('abort', stop);
    let lastProgress = 0;
    try {
      if (!JOB_KINDS.includes(kind))
        throw new BadPayloadError(`unknown job kind ${JSON.stringify(job.name)} (this worker runs ${JOB_KINDS.join(', ')})`);
      const handler = this.handlers[kind];
      const data = handler.check(job.data);
      const what = handler.label(data);
      this.emit({ type: 'start', id: job.id!, kind, label: what });
      const result = await handler.run(data, {
        model: (ref) => this.models.get(ref),
        signal: inHand.signal,
        onFraction: (f) => {
          const now = performance.now();
          if (now - lastProgress < 500 && f < 1) return;
          lastProgress = now;
          job.updateProgress({ fraction: f }).catch(() => undefined);
        },
      });
      this.summary.done++;
      this.emit({ type: 'done', id: job.id!, kind, label: what, seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (err) {
      throw await this.failed(job, token, label, err, inHand.signal.aborted);
    } finally {
      this.stopping.signal.removeEventListener('abort', stop);
    }
  }

  /** What to throw to BullMQ: a stopped job goes back to the queue (not a failed attempt); any other error is final. */
  private async failed(job: Job, token: string | undefined, label: string, err: unknown, stopped: boolean): Promise<Error> {
    const kind = job.name;
    if (stopped) {
      await job.moveToWait(token);
      this.summary.released++;
      this.emit({ type: 'released', id: job.id!, kind, label });
      return new WaitingError();
    }
    const reason = err instanceof BadPayloadError ? `USAGE: bad job payload: ${err.message}` : encodeFailure(err);
    this.summary.failed++;
    this.emit({ type: 'failed', id: job.id!, kind, label, reason });
    if (!(err instanceof SrError) && !(err instanceof BadPayloadError) && process.env.SR_DEBUG) {
      this.emit({ type: 'error', message: (err as Error).stack ?? String(err) });
    }
    return new UnrecoverableError(reason);
  }
}
