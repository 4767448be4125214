/**
 * A batch's files on a queue: each planned file becomes a job (its input, outputs and resolved settings, the batch's
 * options, model name + sha256), run by a worker with the same unit as a local batch (fileUnit), written atomically
 * under its planned name on the shared filesystem, its report sent back.
 */
import { resolve } from 'node:path';
import { QueueError } from '../errors.js';
import type { Enqueue, UnitDecoder } from '../jobs/runner.js';
import type { ModelManifest } from '../model/manifest.js';
import { BadPayloadError, PAYLOAD_VERSION, checkEnvelope, checkFields, jobId, modelRef, type ModelRef } from '../queue/jobs.js';
import type { UpscaleFileOptions } from '../upscale.js';
import { fileUnit, type BatchOptions, type FileReport, type FileUnit, type Job } from './batch.js';

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
  const { model: _m, device: _d, decode: _x, ...rest } = options as BatchOptions & Partial<Pick<UpscaleFileOptions, 'model' | 'decode'>>;
  return JSON.parse(JSON.stringify(rest)) as PortableOptions;
}

/** A batch's units as jobs for workers that load `modelSpec` (which must have this manifest's sha256). */
export function enqueueFiles(modelSpec: string | undefined, manifest: ModelManifest, options: BatchOptions): Enqueue<FileUnit, FileReport> {
  const ref = modelRef(modelSpec, manifest);
  const opts = portable(options);
  return {
    kind: 'upscale',
    encode({ job }) {
      const j: Job = { ...job, input: resolve(job.input), output: resolve(job.output), files: job.files.map((f) => resolve(f)) };
      // decided by the options, not the settings: a rerun (whose random seed differs) collects what this one finished
      const id = jobId('upscale', [j.input, JSON.stringify(j.files), JSON.stringify(opts), ref.sha256]);
      return { id, data: { v: PAYLOAD_VERSION, model: ref, job: j, options: opts } satisfies UpscaleJobData };
    },
    decodeResult(result, id) {
      if (typeof result !== 'object' || result === null || typeof (result as FileReport).status !== 'string') {
        throw new QueueError(`Queued job ${id} returned no file report`);
      }
      return result as FileReport;
    },
  };
}

export const upscaleUnits: UnitDecoder<FileReport> = {
  decode(data) {
    const o = checkEnvelope('upscale', data, true);
    checkFields('upscale job', o, { job: 'object', options: 'object' });
    const job = checkFields('upscale job file', o.job, { input: 'string', output: 'string', files: 'array', settings: 'object' });
    if ((job.files as unknown[]).some((f) => typeof f !== 'string')) throw new BadPayloadError('upscale job: files must be paths');
    checkFields('upscale job settings', job.settings, {
      factor: 'number',
      passes: 'array',
      steps: 'number',
      seed: 'number',
      samples: 'number',
      jpegDetected: 'number?',
    });
    const d = o as unknown as UpscaleJobData;
    return { unit: fileUnit(d.job, 0, 0, d.options), model: d.model };
  },
};
