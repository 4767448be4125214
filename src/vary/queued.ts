/**
 * `sr vary` on a queue: each planned source (all its samples) becomes a job; a worker runs it with the same
 * per-source code as a local run (varySource), writes the samples atomically under their planned names and sends
 * the records back; only the enqueuing side appends them to records.jsonl, so each is written once. A job run
 * again after a worker died keeps the samples its first attempt wrote and records them from the files.
 */
import { resolve } from 'node:path';
import { QueueError } from '../errors.js';
import type { ModelManifest } from '../model/manifest.js';
import type { TilingOptions } from '../model/denoiser.js';
import type { QueueTarget } from '../queue/connection.js';
import type { OutputHold } from '../queue/out-lock.js';
import { settle } from '../jobs/outcome.js';
import { runFilesQueued, type FileUnit } from '../jobs/queued.js';
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
import type { VaryRecord } from './records.js';
import {
  closeRunState,
  emptyReport,
  openRunState,
  record,
  sampleWeights,
  varyReport,
  varySource,
  type SourceContext,
  type VaryDatasetOptions,
  type VaryEvents,
  type VaryFileReport,
  type VaryOutcome,
} from './dataset.js';
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

interface VaryJobResult {
  file: VaryFileReport;
  records: VaryRecord[];
}

/**
 * Runs a planned vary on the queue's workers: the same records, report and stop rules as runVaryPlan. `hold`: the
 * lock on the output folder the caller holds (out-lock.ts), so that one enqueuer appends to its records.
 */
export async function runVaryPlanQueued(
  plan: VaryPlan,
  queue: string | QueueTarget,
  modelSpec: string | undefined,
  manifest: ModelManifest,
  options: VaryDatasetOptions = {},
  events: VaryEvents = {},
  hold?: OutputHold,
): Promise<VaryOutcome> {
  const started = new Date();
  const t0 = performance.now();
  const ctx = await openRunState(plan);
  const weights = sampleWeights(plan);
  const ref = modelRef(modelSpec, manifest);
  const files = plan.sources.map(emptyReport);
  const units: FileUnit<VaryJobData>[] = plan.sources.map((job, i) => {
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
    return { id, kind: 'vary', data, weight: weights[i]!.reduce((a, w) => a + w, 0), label: job.input, file: i };
  });
  let stoppedBy: unknown;
  try {
    stoppedBy = await runFilesQueued<VaryJobResult>(queue, units, files, events, hold, async (i, result, unit) => {
      if (typeof result !== 'object' || result === null || !Array.isArray(result.records) || typeof result.file !== 'object') {
        throw new QueueError(`Queued job ${unit.id} returned no vary result`);
      }
      for (const rec of result.records) await record(ctx, rec);
      files[i] = { ...result.file, input: plan.sources[i]!.input };
      events.onFile?.(files[i]!, i, files.length);
    });
  } finally {
    await closeRunState(ctx);
  }
  return { report: varyReport(plan, files, started, (performance.now() - t0) / 1000), stoppedBy };
}

export const varyHandler: JobHandler<VaryJobData> = {
  check(data) {
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
    return o as unknown as VaryJobData;
  },
  label: (d) => d.source.input,
  async run(d, ctx) {
    const model = await ctx.model(d.model);
    const job: SourceJob = { input: d.source.input, source: d.source.source, samples: d.source.samples, work: new Map(d.source.work) };
    const weights = job.samples.map((sj) => job.work.get(sj.t) ?? 1);
    const total = weights.reduce((a, w) => a + w, 0) || 1;
    const offsets = weights.map((_, n) => weights.slice(0, n).reduce((a, w) => a + w, 0));
    const recorded = new Set(d.recorded);
    const records: VaryRecord[] = [];
    const file = emptyReport(job);
    const sctx: SourceContext = {
      settings: d.settings,
      model,
      force: d.force,
      // the plan refused outputs that existed unless --force or --resume: any found now were written by an earlier
      // attempt of this job (its worker died), so they are kept and recorded from the file
      resume: !d.force,
      maxPixels: d.maxPixels ?? undefined,
      tiling: d.tiling ?? undefined,
      signal: ctx.signal,
      onWarning: undefined,
      isRecorded: (output) => recorded.has(output),
      onRecord: async (rec) => {
        records.push(rec);
        recorded.add(rec.output);
      },
      progress: (done) => ctx.onFraction(done / total),
    };
    try {
      await varySource(job, sctx, file, job.input, offsets);
      if (!d.resume) {
        // samples of an earlier attempt count as written by this run, as they would have been without the crash
        file.written += file.skipped;
        file.skipped = 0;
        file.recovered = 0;
      }
      file.status = file.written === 0 && file.skipped > 0 ? 'skipped' : 'ok';
    } catch (err) {
      const stop = settle(err, file, ctx.signal);
      if (stop) throw stop; // an interruption puts the job back; a model/device failure fails it
    }
    return { file, records } satisfies VaryJobResult;
  },
};
