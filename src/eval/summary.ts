/**
 * Sweep records (one per cell and image: the resume log's lines) and their per-cell means.
 */
import type { Measurements } from '../metrics/index.js';
import type { Cell } from './grid.js';
import { METRICS, meanOf } from './score.js';

export interface SweepRecord extends Cell, Measurements {
  image: string;
  width: number;
  height: number;
  /** Seconds for the image (for reduce variants of one run: that run's time). */
  seconds: number;
  evaluations: number;
  /** Model name and sha256 (Boomerang cells), seed, sampler and η: with cell and image, the resume key. */
  model: string | null;
  modelSha: string | null;
  seed: number | null;
  /** The seed the image's runs used: itemSeed(seed, image); `sr upscale --seed` with it repeats the run. */
  noiseSeed: number | null;
  sampler: string | null;
  eta: number | null;
  /** ISO time the record was written. */
  at: string;
}

export interface SummaryRow extends Cell, Measurements {
  images: number;
  seconds: number;
  evaluations: number;
  /** On the Pareto front of fidelity against detail for its factor (Boomerang cells only). */
  pareto: boolean;
}

/** The resume key of a record: the same cell on the same image with the same model, seed and sampler. */
export function recordKey(r: Pick<SweepRecord, 'id' | 'image' | 'modelSha' | 'seed' | 'noiseSeed' | 'sampler' | 'eta'>): string {
  // noiseSeed is in the key so that records of runs that shared one seed across images are not resumed into
  // a sweep whose images draw their own noise
  return [r.id, r.image, r.modelSha ?? '', r.seed ?? '', r.noiseSeed ?? '', r.sampler ?? '', r.eta ?? ''].join('|');
}

/** Per-cell means over the images, in the order of `cells` (cells without records are left out). */
export function summarise(cells: readonly Cell[], records: readonly SweepRecord[]): SummaryRow[] {
  const byCell = new Map<string, SweepRecord[]>();
  for (const r of records) {
    const list = byCell.get(r.id) ?? [];
    list.push(r);
    byCell.set(r.id, list);
  }
  const rows: SummaryRow[] = [];
  for (const c of cells) {
    const rs = byCell.get(c.id);
    if (!rs?.length) continue;
    const m = meanOf(rs);
    rows.push({
      ...c,
      ...m,
      images: rs.length,
      seconds: rs.reduce((s, r) => s + r.seconds, 0) / rs.length,
      evaluations: rs.reduce((s, r) => s + r.evaluations, 0) / rs.length,
      pareto: false,
    });
  }
  return rows;
}

export { METRICS };
