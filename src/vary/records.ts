/**
 * OUTDIR/records.jsonl: one JSON record per sample, appended as each sample is written, keyed by the output file.
 * A torn last line (a crash mid-write) is ended before appending (report/jsonl.ts's repairLog) and skipped when reading;
 * should an output be recorded twice (rewritten with --force), the last record wins and the file is rewritten with
 * one record per output (`compactRecords`), as it is after a torn line.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { OutputError } from '../errors.js';
import { writeFileAtomic } from '../io-safety/atomic.js';

export const RECORDS_FILE = 'records.jsonl';

/** A sample's distance to its source (metrics/index.ts `measure`, shave 0, on the 8-bit images). */
export interface Distance {
  psnrY: number;
  ssimY: number;
  psnrRgb: number;
  gmsd: number;
  detailRatio: number;
}

/** One line of records.jsonl: a sample, where it came from, how it was made and how far it is from its source. */
export interface VaryRecord {
  /** The sample file, relative to OUTDIR with / (the record's key). */
  output: string;
  /** The source's path relative to its input argument (folder or glob base), with /: its place in the dataset. */
  source: string;
  /** The source file as read (absolute), for the report's nearest-neighbour test. */
  input: string;
  t: number;
  /** 1..K within its t. */
  sample: number;
  /** The sample's own seed. */
  seed: number;
  /** The run's --seed the sample seed was derived from. */
  runSeed: number;
  /** Reverse steps per pass actually run (min(--steps, t)). */
  steps: number;
  cascade: number;
  sampler: string;
  eta: number;
  model: { name: string; sha256: string };
  width: number;
  height: number;
  distance: Distance;
  seconds: number;
  /** The command that writes the same bytes again. */
  reproduce: string;
}

const reviver = (_k: string, v: unknown): unknown => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v);
const replacer = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

export interface RecordLog {
  /** By output, the last record of each. */
  records: Map<string, VaryRecord>;
  /** Lines that were not a record (a torn line). */
  badLines: number;
  /** Records that a later one for the same output replaced. */
  duplicates: number;
}

const isRecord = (r: unknown): r is VaryRecord =>
  typeof r === 'object' && r !== null && typeof (r as VaryRecord).output === 'string' && typeof (r as VaryRecord).source === 'string';

/** Reads the log; a missing file is an empty log. */
export async function readRecords(path: string): Promise<RecordLog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: new Map(), badLines: 0, duplicates: 0 };
    throw new OutputError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const log: RecordLog = { records: new Map(), badLines: 0, duplicates: 0 };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line, reviver);
    } catch {
      r = null;
    }
    if (!isRecord(r)) log.badLines++;
    else {
      if (log.records.has(r.output)) log.duplicates++;
      log.records.set(r.output, r);
    }
  }
  return log;
}

export const recordLine = (r: VaryRecord): string => JSON.stringify(r, replacer) + '\n';

export async function appendRecord(path: string, record: VaryRecord): Promise<void> {
  try {
    await appendFile(path, recordLine(record));
  } catch (err) {
    throw new OutputError(`Cannot append to ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** Rewrites the log atomically with one record per output, in the order of `records`. */
export async function compactRecords(path: string, records: Iterable<VaryRecord>): Promise<void> {
  await writeFileAtomic(path, [...records].map(recordLine).join(''), { what: 'records' });
}
