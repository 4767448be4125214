/**
 * `sr worker` as a library, and the handler of each job kind: the one place that knows every feature a worker can
 * run (above the features, so that src/queue/ imports none of them). Each handler decodes a job into the feature's
 * unit of work and runs it as a local run would (src/jobs/runner.ts).
 */
import { upscaleUnits } from './batch/payload.js';
import { sweepUnits } from './eval/sweep-payload.js';
import { unitHandler } from './jobs/runner.js';
import type { JobHandler, JobHandlers } from './queue/jobs.js';
import { runQueueWorker, type WorkerContext, type WorkerOptions, type WorkerSummary } from './queue/worker.js';
import { varyUnits } from './vary/payload.js';

export type { WorkerContext, WorkerEvent, WorkerOptions, WorkerSummary } from './queue/worker.js';

const HANDLERS: JobHandlers = {
  sweep: unitHandler(sweepUnits) as JobHandler<unknown>,
  upscale: unitHandler(upscaleUnits) as JobHandler<unknown>,
  vary: unitHandler(varyUnits) as JobHandler<unknown>,
};

/**
 * `sr worker` as a library: takes jobs from the queue, loads each model once and keeps it, runs each job with the
 * handler of its kind and reports progress through the job. A payload it cannot run, a model whose sha256 is not
 * the one the job names, or an error of the work itself fails the job at once with a one-line reason (never
 * retried: the same job would fail the same way). A stop (the signal) aborts the jobs in hand and puts them back
 * in the queue for another worker; their outputs are written atomically, so nothing half-written is left. A
 * worker that dies without stopping (kill -9, a lost machine) stops renewing its jobs' locks; another worker
 * takes them back after `stallSeconds`.
 *
 * Runs until `signal` fires; resolves once the jobs in hand are back in the queue and the models closed.
 */
export function runWorker(o: WorkerOptions, ctx: WorkerContext = {}): Promise<WorkerSummary> {
  return runQueueWorker(o, HANDLERS, ctx);
}
