/**
 * `sr vary` on a queue: each planned source (all its samples) becomes a job; a worker runs it with the same unit as
 * a local run (sourceUnit), writes the samples atomically under their planned names and sends the records back;
 * only the enqueuing side appends them to records.jsonl, so each is written once. A job run again after a worker
 * died keeps the samples its first attempt wrote and records them from the files.
 */
import { resolve } from 'node:path';
import { QueueError } from '../errors.js';
import type { Enqueue, UnitDecoder } from '../jobs/runner.js';
import type { ModelManifest } from '../model/manifest.js';
import type { TilingOptions } from '../model/denoiser.js';
import { BadPayloadError, PAYLOAD_VERSION, checkEnvelope, checkFields, jobId, modelRef, type ModelRef } from '../queue/jobs.js';
import type { VaryRecord } from './records.js';
import { sourceUnit, type SourceResult, type SourceUnit, type VaryDatasetOptions } from './dataset.js';
import type { SampleJob, SourceJob, VaryPlan } from './plan.js';
import type { VarySettings } from './settings.js';

export interface VaryJobData {
  v: number;
  model: ModelRef;
  source: { input: string; source: string; samples: SampleJob[]; work: [number, number][] };
  settings: VarySettings;
  force: boolean;
  resume: boolean;
  /** Outputs of this source that already have a record. */
  recorded: string[];
  maxPixels: number | null;
  tiling: TilingOptions | null;
}

/** A vary run's units as jobs for workers that load `modelSpec` (which must have this manifest's sha256). */
export function enqueueSources(
  plan: VaryPlan,
  modelSpec: string | undefined,
  manifest: ModelManifest,
  options: VaryDatasetOptions,
): Enqueue<SourceUnit, SourceResult> {
  const ref = modelRef(modelSpec, manifest);
  return {
    kind: 'vary',
    encode({ job }) {
      const data: VaryJobData = {
        v: PAYLOAD_VERSION,
        model: ref,
        source: {
          input: resolve(job.input),
          source: job.source,
          samples: job.samples.map((sj) => ({ ...sj, path: resolve(sj.path) })),
          work: [...job.work],
        },
        settings: plan.settings,
        force: plan.force,
        resume: plan.resume,
        recorded: job.samples.filter((sj) => plan.log.records.has(sj.output)).map((sj) => sj.output),
        maxPixels: options.maxPixels ?? null,
        tiling: options.tiling ?? null,
      };
      const id = jobId('vary', [
        resolve(plan.outDir),
        data.source.input,
        JSON.stringify(data.source.samples),
        JSON.stringify(plan.settings),
        String(plan.force),
      ]);
      return { id, data };
    },
    decodeResult(result, id) {
      const r = result as SourceResult | null;
      if (typeof r !== 'object' || r === null || !Array.isArray(r.records) || typeof r.file !== 'object') {
        throw new QueueError(`Queued job ${id} returned no vary result`);
      }
      return r;
    },
  };
}

export const varyUnits: UnitDecoder<SourceResult> = {
  decode(data) {
    const o = checkEnvelope('vary', data, true);
    checkFields('vary job', o, {
      source: 'object',
      settings: 'object',
      force: 'boolean',
      resume: 'boolean',
      recorded: 'array',
      tiling: 'object?',
      maxPixels: 'number?',
    });
    const src = checkFields('vary job source', o.source, { input: 'string', source: 'string', samples: 'array', work: 'array' });
    for (const sj of src.samples as unknown[])
      checkFields('vary job sample', sj, { t: 'number', sample: 'number', seed: 'number', path: 'string', output: 'string' });
    checkFields('vary job settings', o.settings, { model: 'string', sha256: 'string', seed: 'number', samples: 'number', ts: 'array' });
    if ((o.recorded as unknown[]).some((r) => typeof r !== 'string')) throw new BadPayloadError('vary job: recorded must be output names');
    const d = o as unknown as VaryJobData;
    const job: SourceJob = { input: d.source.input, source: d.source.source, samples: d.source.samples, work: new Map(d.source.work) };
    const recorded = new Set(d.recorded);
    const records: VaryRecord[] = [];
    const unit = sourceUnit(
      job,
      0,
      job.samples.map((sj) => job.work.get(sj.t) ?? 1),
      {
        settings: d.settings,
        force: d.force,
        // the plan refused outputs that existed unless --force or --resume: any found now were written by an earlier
        // attempt of this job (its worker died), so they are kept and recorded from the file
        resume: !d.force,
        maxPixels: d.maxPixels ?? undefined,
        tiling: d.tiling ?? undefined,
        isRecorded: (output) => recorded.has(output),
        onRecord: async (rec) => {
          records.push(rec);
          recorded.add(rec.output);
        },
      },
      records,
    );
    return {
      model: d.model,
      unit: {
        ...unit,
        async run(model, ctx) {
          const ran = await unit.run(model, ctx);
          const { file } = ran.result;
          if (!ran.stop && !d.resume) {
            // samples of an earlier attempt count as written by this run, as they would have been without the crash
            file.written += file.skipped;
            file.skipped = 0;
            file.recovered = 0;
            file.status = file.written === 0 && file.skipped > 0 ? 'skipped' : 'ok';
          }
          return ran;
        },
      },
    };
  },
};
