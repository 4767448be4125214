/**
 * A batch on a queue: each planned file becomes a job (input, outputs, the batch's options, model name + sha256),
 * run by a worker with the same per-file code as a local batch (attemptFile), written atomically under its planned
 * name on the shared filesystem, its report sent back. The enqueuing side assembles the same BatchReport as
 * runPlan, in the plan's order, whatever order the files finish in.
 */
import { resolve } from 'node:path';
import type { ModelManifest } from '../model/manifest.js';
import type { QueueTarget } from '../queue/connection.js';
import type { OutputHold } from '../queue/out-lock.js';
import {
  BadPayloadError,
  PAYLOAD_VERSION,
  checkEnvelope,
  checkFields,
  jobId,
  modelRef,
  type JobHandler,
  type ModelRef,
} from '../queue/jobs.js';
import { QueueError } from '../errors.js';
import {
  attemptFile,
  batchReport,
  markSkipped,
  pendingReport,
  planWeights,
  skippedByResume,
  type BatchEvents,
  type BatchOptions,
  type BatchOutcome,
  type BatchPlan,
  type FileReport,
  type Job,
} from './batch.js';
import { runFilesQueued, type FileUnit } from '../jobs/queued.js';
import type { UpscaleFileOptions } from '../upscale.js';

/** The options a queued file runs with: the batch's, without the device (each worker has its own). */
export type PortableOptions = Omit<BatchOptions, 'device'>;

export interface UpscaleJobData {
  v: number;
  model: ModelRef;
  job: Job;
  options: PortableOptions;
}

/** What a worker needs of the options; what else a caller's object carries (upscaleInputs' model name, callbacks) stays here. */
function portable(options: BatchOptions): PortableOptions {
  const {
    model: _m,
    device: _d,
    signal: _s,
    onProgress: _p,
    onWarning: _w,
    decode: _x,
    ...rest
  } = options as BatchOptions & Partial<Pick<UpscaleFileOptions, 'model' | 'signal' | 'onProgress' | 'onWarning' | 'decode'>>;
  return JSON.parse(JSON.stringify(rest)) as PortableOptions;
}

/**
 * Runs a planned batch on the queue's workers (they load `modelSpec`, which must have this manifest's sha256):
 * the same report and stop rules as runPlan. Files skipped by --resume are never enqueued. `hold`: the lock on the
 * output folder the caller holds (out-lock.ts), so that one enqueuer writes into it.
 */
export async function runPlanQueued(
  plan: BatchPlan,
  queue: string | QueueTarget,
  modelSpec: string | undefined,
  manifest: ModelManifest,
  options: BatchOptions = {},
  events: BatchEvents = {},
  hold?: OutputHold,
): Promise<BatchOutcome> {
  const started = new Date();
  const t0 = performance.now();
  const files: FileReport[] = plan.jobs.map(pendingReport);
  const weights = planWeights(plan);
  const ref = modelRef(modelSpec, manifest);
  const opts = portable(options);
  const units: FileUnit<UpscaleJobData>[] = [];
  for (let i = 0; i < plan.jobs.length; i++) {
    const job = plan.jobs[i]!;
    if (await skippedByResume(plan, job, options)) {
      markSkipped(files[i]!);
      events.onFile?.(files[i]!, i, plan.jobs.length);
      continue;
    }
    const j = { input: resolve(job.input), output: resolve(job.output), files: (job.files ?? [job.output]).map((f) => resolve(f)) };
    const id = jobId('upscale', [j.input, JSON.stringify(j.files), JSON.stringify(opts), ref.sha256]);
    units.push({
      id,
      kind: 'upscale' as const,
      data: { v: PAYLOAD_VERSION, model: ref, job: j, options: opts },
      weight: weights[i]!,
      label: job.input,
      file: i,
    });
  }
  const stoppedBy = await runFilesQueued<FileReport>(queue, units, files, events, hold, async (i, result, unit) => {
    if (typeof result !== 'object' || result === null || typeof (result as FileReport).status !== 'string') {
      throw new QueueError(`Queued job ${unit.id} returned no file report`);
    }
    // the names as planned here (a worker reports absolute paths)
    files[i] = {
      ...(result as FileReport),
      input: plan.jobs[i]!.input,
      output: plan.jobs[i]!.output,
      outputs: plan.jobs[i]!.files ?? [plan.jobs[i]!.output],
    };
    events.onFile?.(files[i]!, i, plan.jobs.length);
  });
  return { report: batchReport(plan.outDir, manifest.name, files, started, (performance.now() - t0) / 1000), stoppedBy };
}

export const upscaleHandler: JobHandler<UpscaleJobData> = {
  check(data) {
    const o = checkEnvelope('upscale', data, true);
    checkFields('upscale job', o, { job: 'object', options: 'object' });
    const job = checkFields('upscale job file', o.job, { input: 'string', output: 'string', files: 'array' });
    if ((job.files as unknown[]).some((f) => typeof f !== 'string')) throw new BadPayloadError('upscale job: files must be paths');
    return o as unknown as UpscaleJobData;
  },
  label: (d) => d.job.input,
  async run(d, ctx) {
    const model = await ctx.model(d.model);
    const { file, stop } = await attemptFile(d.job, model, d.options, { signal: ctx.signal, onFraction: (f) => ctx.onFraction(f) });
    if (stop) throw stop; // an interruption puts it back; a model/device failure fails the job (and stops the batch)
    return file;
  },
};
