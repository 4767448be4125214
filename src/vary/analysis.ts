/**
 * The per-t summary of a varied set, from OUTDIR/records.jsonl and the files: mean distance to the source (from the
 * records), the nearest-neighbour re-identification rate and margin (anonymity.ts) against the set of sources the
 * records name, and the diversity among the K samples of one source (mean pairwise PSNR-Y and SSIM-Y).
 */
import type { RunContext } from '../run-context.js';
import { join } from 'node:path';
import { InputError, throwIfAborted } from '../errors.js';
import { decodeImage } from '../image/io.js';
import type { Plane } from '../metrics/index.js';
import { identify, thumbnail, type Identification } from './anonymity.js';
import { lumaOf, pairwiseDiversity } from './distance.js';
import { RECORDS_FILE, readRecords, type VaryRecord } from './records.js';

export interface VaryRow {
  t: number;
  /** Samples measured at this t, and the sources they came from. */
  samples: number;
  sources: number;
  /** Means over the samples of their distance to the source (full size). */
  psnrY: number;
  ssimY: number;
  gmsd: number;
  detailRatio: number;
  /** Share of samples whose nearest source (32×32 luma PSNR) is their own; NaN with one source. */
  reidRate: number;
  /** Mean of own − nearest-other thumbnail PSNR (dB). */
  margin: number;
  /** Mean pairwise PSNR-Y and SSIM-Y among the K samples of one source (NaN when K = 1). */
  diversityPsnrY: number;
  diversitySsimY: number;
}

export interface VaryAnalysis {
  outDir: string;
  rows: VaryRow[];
  /** Sources in the attacker's reference set (every readable source the records name). */
  sources: number;
  /** Records left out: their sample or source file is missing or unreadable. */
  leftOut: number;
  models: string[];
  cascades: number[];
  steps: number[];
}

/** Mean of the values that are not NaN (an Infinity stays: identical images). */
export function mean(values: readonly number[]): number {
  const xs = values.filter((v) => !Number.isNaN(v));
  return xs.length === 0 ? NaN : xs.reduce((a, v) => a + v, 0) / xs.length;
}

/** Thumbnails of every source the records name (by input path), the unreadable ones left out. */
async function sourceThumbnails(records: readonly VaryRecord[], onWarning?: (m: string) => void): Promise<Map<string, Plane>> {
  const thumbs = new Map<string, Plane>();
  for (const input of new Set(records.map((r) => r.input))) {
    try {
      thumbs.set(input, thumbnail((await decodeImage(input)).rgb));
    } catch (err) {
      onWarning?.(`${(err as Error).message.split('\n')[0]}; its samples are left out of the report`);
    }
  }
  return thumbs;
}

interface Measured {
  record: VaryRecord;
  id: Identification;
}

/** One source at one t: each sample's identification, and the diversity of the group. */
async function measureGroup(outDir: string, group: readonly VaryRecord[], thumbs: ReadonlyMap<string, Plane>) {
  const measured: Measured[] = [];
  const lumas: Plane[] = [];
  for (const record of group) {
    const img = await decodeImage(join(outDir, ...record.output.split('/'))).catch(() => null);
    if (!img) continue;
    measured.push({ record, id: identify(thumbnail(img.rgb), record.input, thumbs) });
    lumas.push(lumaOf(img.rgb));
  }
  return { measured, diversity: pairwiseDiversity(lumas) };
}

function rowOf(t: number, measured: readonly Measured[], diversity: readonly { psnrY: number; ssimY: number }[]): VaryRow {
  const d = (k: keyof VaryRecord['distance']) => mean(measured.map((m) => m.record.distance[k]));
  const known = measured.filter((m) => m.id.reidentified !== null);
  return {
    t,
    samples: measured.length,
    sources: new Set(measured.map((m) => m.record.input)).size,
    psnrY: d('psnrY'),
    ssimY: d('ssimY'),
    gmsd: d('gmsd'),
    detailRatio: d('detailRatio'),
    reidRate: known.length === 0 ? NaN : known.filter((m) => m.id.reidentified).length / known.length,
    margin: mean(measured.map((m) => m.id.margin)),
    diversityPsnrY: mean(diversity.map((v) => v.psnrY)),
    diversitySsimY: mean(diversity.map((v) => v.ssimY)),
  };
}

/** Groups of records by t, then by source. */
function groups(records: readonly VaryRecord[]): Map<number, Map<string, VaryRecord[]>> {
  const byT = new Map<number, Map<string, VaryRecord[]>>();
  for (const r of records) {
    const bySource = byT.get(r.t) ?? new Map<string, VaryRecord[]>();
    byT.set(r.t, bySource);
    bySource.set(r.input, [...(bySource.get(r.input) ?? []), r]);
  }
  return byT;
}

/** Analyses the varied set in `outDir` (its records and files). InputError when there is nothing to analyse. */
export async function analyseVary(outDir: string, o: Pick<RunContext<never>, 'signal' | 'onWarning'> = {}): Promise<VaryAnalysis> {
  const path = join(outDir, RECORDS_FILE);
  const log = await readRecords(path);
  const records = [...log.records.values()];
  if (records.length === 0) throw new InputError(`No records in ${path}; run sr vary IN… -o ${outDir} first`);
  if (log.badLines > 0) o.onWarning?.(`${path}: ${log.badLines} line(s) that are not records skipped (a torn write)`);
  const thumbs = await sourceThumbnails(records, o.onWarning);
  const rows: VaryRow[] = [];
  let measuredCount = 0;
  for (const [t, bySource] of [...groups(records)].sort((a, b) => a[0] - b[0])) {
    const measured: Measured[] = [];
    const diversity: { psnrY: number; ssimY: number }[] = [];
    for (const [input, group] of bySource) {
      throwIfAborted(o.signal);
      if (!thumbs.has(input)) continue;
      const g = await measureGroup(outDir, group, thumbs);
      measured.push(...g.measured);
      diversity.push(g.diversity);
    }
    measuredCount += measured.length;
    if (measured.length > 0) rows.push(rowOf(t, measured, diversity));
  }
  const uniq = <T extends string | number>(xs: T[]) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    outDir,
    rows,
    sources: thumbs.size,
    leftOut: records.length - measuredCount,
    models: uniq(records.map((r) => `${r.model.name} (${r.model.sha256.slice(0, 12)})`)),
    cascades: uniq(records.map((r) => r.cascade)),
    steps: uniq(records.map((r) => r.steps)),
  };
}
