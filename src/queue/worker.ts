/**
 * `sr worker` as a library: takes jobs from the queue, loads each model once and keeps it, runs each job with the
 * handler of its kind and reports progress through the job. A payload it cannot run, a model whose sha256 is not
 * the one the job names, or an error of the work itself fails the job at once with a one-line reason (never
 * retried: the same job would fail the same way). A stop (the signal) aborts the jobs in hand and puts them back
 * in the queue for another worker; their outputs are written atomically, so nothing half-written is left. A
 * worker that dies without stopping (kill -9, a lost machine) stops renewing its jobs' locks; another worker
 * takes them back after `stallSeconds`.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { AbortError, ModelError, SrError } from '../errors.js';
import { loadManifest } from '../model/manifest.js';
import { resolveModelDir } from '../model/locate.js';
import { loadModel, type DeviceRequest, type ModelSession } from '../model/session.js';
import { QUEUE_NAME, connectQueue } from './connection.js';
import { HANDLERS } from './handlers.js';
import { BadPayloadError, JOB_KINDS, encodeFailure, type JobKind, type ModelRef } from './jobs.js';

export interface WorkerOptions {
  queue: string;
  /** Jobs run at once (each with its own model run). Default 1. */
  concurrency?: number;
  device?: DeviceRequest;
  /** ONNX Runtime threads per model (default: all cores). */
  threads?: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is taken back after about this long. Default 30. */
  stallSeconds?: number;
  signal?: AbortSignal;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'ready'; queue: string; name: string; concurrency: number }
  | { type: 'model'; name: string; sha256: string; device: string; dir: string }
  | { type: 'start'; id: string; kind: string; label: string }
  | { type: 'done'; id: string; kind: string; label: string; seconds: number }
  | { type: 'failed'; id: string; kind: string; label: string; reason: string }
  | { type: 'released'; id: string; kind: string; label: string }
  | { type: 'error'; message: string };

export interface WorkerSummary {
  done: number;
  failed: number;
  released: number;
}

/** Runs a worker until `signal` fires; resolves once the jobs in hand are back in the queue and the models closed. */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const target = await connectQueue(o.queue);
  const name = `sr-worker@${hostname()}:${process.pid}`;
  const models = new Map<string, Promise<ModelSession>>();
  const summary: WorkerSummary = { done: 0, failed: 0, released: 0 };
  const stopping = new AbortController();
  const emit = (e: WorkerEvent) => o.onEvent?.(e);

  const modelFor = async (ref: ModelRef): Promise<ModelSession> => {
    const dir = resolveModelDir(ref.spec);
    const manifest = await loadManifest(dir);
    if (manifest.sha256 !== ref.sha256) {
      throw new ModelError(
        `Worker ${name} has model ${ref.spec} as ${manifest.name} ${manifest.sha256.slice(0, 12)}…, the job needs ${ref.name} ${ref.sha256.slice(0, 12)}…; give every worker the same model files`,
      );
    }
    const key = `${dir}\n${manifest.sha256}`;
    let m = models.get(key);
    if (!m) {
      m = loadModel(dir, { device: o.device ?? 'cpu', ...(o.threads !== undefined ? { threads: o.threads } : {}) });
      models.set(key, m);
      m.then(
        (s) => emit({ type: 'model', name: s.manifest.name, sha256: s.manifest.sha256, device: s.device, dir }),
        () => models.delete(key),
      );
    }
    return m;
  };

  const runJob = async (job: Job, token?: string): Promise<unknown> => {
    const kind = job.name as JobKind;
    const label = `${kind} ${job.id}`;
    const started = performance.now();
    const inHand = new AbortController();
    const stop = () => inHand.abort(new AbortError('Worker stopping'));
    stopping.signal.addEventListener('abort', stop);
    let lastProgress = 0;
    try {
      if (!JOB_KINDS.includes(kind))
        throw new BadPayloadError(`unknown job kind ${JSON.stringify(job.name)} (this worker runs ${JOB_KINDS.join(', ')})`);
      const handler = HANDLERS[kind];
      const data = handler.check(job.data);
      const what = handler.label(data);
      emit({ type: 'start', id: job.id!, kind, label: what });
      const result = await handler.run(data, {
        model: modelFor,
        signal: inHand.signal,
        onFraction: (f) => {
          const now = performance.now();
          if (now - lastProgress < 500 && f < 1) return;
          lastProgress = now;
          job.updateProgress({ fraction: f }).catch(() => undefined);
        },
      });
      summary.done++;
      emit({ type: 'done', id: job.id!, kind, label: what, seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (err) {
      if (inHand.signal.aborted) {
        // back to the queue for another worker; not a failed attempt
        await job.moveToWait(token);
        summary.released++;
        emit({ type: 'released', id: job.id!, kind, label });
        throw new WaitingError();
      }
      const reason = err instanceof BadPayloadError ? `USAGE: bad job payload: ${err.message}` : encodeFailure(err);
      summary.failed++;
      emit({ type: 'failed', id: job.id!, kind, label, reason });
      if (!(err instanceof SrError) && !(err instanceof BadPayloadError) && process.env.SR_DEBUG) {
        emit({ type: 'error', message: (err as Error).stack ?? String(err) });
      }
      throw new UnrecoverableError(reason);
    } finally {
      stopping.signal.removeEventListener('abort', stop);
    }
  };

  const stallMs = Math.max(1, o.stallSeconds ?? 30) * 1000;
  const worker = new Worker(QUEUE_NAME, runJob, {
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
      stopping.abort();
      void worker.close().finally(resolveClosed);
    };
    if (o.signal?.aborted) onStop();
    else o.signal?.addEventListener('abort', onStop, { once: true });
  });
  await worker.waitUntilReady();
  emit({ type: 'ready', queue: target.url, name, concurrency: o.concurrency ?? 1 });
  void worker.run().catch((err: unknown) => emit({ type: 'error', message: `queue: ${(err as Error).message}` }));
  await closed;
  for (const m of models.values()) await (await m.catch(() => null))?.dispose();
  return summary;
}
