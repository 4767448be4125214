/**
 * A sweep on a queue: each planned task (a cell group on one image) becomes a job whose payload holds everything
 * needed to repeat it (the set's folders and factor, the image's name, the cells, seed, sampler, model name and
 * sha256, where to save images); a worker runs it with the same unit as a local sweep (taskUnit) and sends the
 * records back as JSON lines. Only the enqueuing side appends to the log, so each record is written once.
 */
import { resolve } from 'node:path';
import { QueueError } from '../errors.js';
import type { TilingOptions } from '../model/denoiser.js';
import type { Enqueue, UnitDecoder } from '../jobs/runner.js';
import { BadPayloadError, PAYLOAD_VERSION, checkEnvelope, checkFields, jobId, type ModelRef } from '../queue/jobs.js';
import { savesImage, taskUnit, type RunKey, type TaskUnit } from './cell-run.js';
import { loadTestImage } from './dataset.js';
import type { Cell } from './grid.js';
import { decodeRecord, encodeRecord } from './log.js';
import type { SweepRecord } from './summary.js';
import type { SweepOptions } from './sweep-types.js';

export interface SweepJobData {
  v: number;
  model: ModelRef | null;
  set: { hr: string; lr: string | null; factor: number };
  image: string;
  cells: Cell[];
  run: RunKey;
  out: string;
  save: boolean;
  tiling: TilingOptions | null;
}

/** A sweep's units as jobs; a job's id is decided by what decides its records (and the output folder). */
export function enqueueTasks(c: {
  options: Pick<SweepOptions, 'hr' | 'lr' | 'out' | 'tiling'>;
  run: RunKey;
  ref: ModelRef | null;
  save: 'first' | 'all' | 'none';
}): Enqueue<TaskUnit, SweepRecord[]> {
  return {
    kind: 'sweep',
    encode({ task, image }) {
      const data: SweepJobData = {
        v: PAYLOAD_VERSION,
        model: task.cells[0]!.kind === 'boomerang' ? c.ref : null,
        set: { hr: resolve(c.options.hr), lr: c.options.lr !== undefined ? resolve(c.options.lr) : null, factor: task.factor },
        image,
        cells: task.cells,
        run: c.run,
        out: resolve(c.options.out),
        save: savesImage(c.save, task.imageIndex),
        tiling: c.options.tiling ?? null,
      };
      const parts = [
        data.out,
        data.set.hr,
        String(data.set.lr),
        String(data.set.factor),
        image,
        JSON.stringify(data.run),
        String(data.save),
      ];
      return { id: jobId('sweep', [...parts, JSON.stringify(data.tiling), ...task.cells.map((x) => x.id)]), data };
    },
    decodeResult: decodeRecords,
  };
}

/** The records a worker sent back (JSON lines); a QueueError when they are not records. */
export function decodeRecords(result: unknown, id: string): SweepRecord[] {
  if (typeof result !== 'string') throw new QueueError(`Queued job ${id} returned no records`);
  return result.split('\n').map((line) => {
    const r = decodeRecord(line);
    if (!r) throw new QueueError(`Queued job ${id} returned a line that is not a record: ${line.slice(0, 80)}`);
    return r;
  });
}

export const sweepUnits: UnitDecoder<SweepRecord[]> = {
  decode(data) {
    const o = checkEnvelope('sweep', data, false);
    checkFields('sweep job', o, {
      set: 'object',
      image: 'string',
      cells: 'array',
      run: 'object',
      out: 'string',
      save: 'boolean',
      tiling: 'object?',
    });
    checkFields('sweep job set', o.set, { hr: 'string', lr: 'string?', factor: 'number' });
    checkFields('sweep job run', o.run, { seed: 'number', sampler: 'string', eta: 'number' });
    const cells = o.cells as unknown[];
    if (cells.length === 0) throw new BadPayloadError('sweep job: no cells');
    for (const cell of cells) checkFields('sweep job cell', cell, { id: 'string', kind: 'string', factor: 'number' });
    const d = o as unknown as SweepJobData;
    if (d.cells.some((x) => x.kind === 'boomerang') && !d.model) throw new BadPayloadError('sweep job: Boomerang cells without a model');
    const set = { hr: d.set.hr, ...(d.set.lr !== null ? { lr: d.set.lr } : {}), factor: d.set.factor };
    const task = { cells: d.cells, factor: d.set.factor, imageIndex: 0, weight: 0 };
    const unit = taskUnit(task, d.image, () => loadTestImage(set, d.image), {
      run: d.run,
      out: d.out,
      saveImage: d.save,
      tiling: d.tiling ?? undefined,
    });
    return { unit, model: d.model };
  },
  encodeResult: (records) => records.map(encodeRecord).join('\n'),
};
