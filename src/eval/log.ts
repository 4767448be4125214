/**
 * The sweep's resume log: one JSON record per line, appended as each cell finishes an image, so an interrupted
 * sweep loses at most the image in progress. A torn last line (a crash mid-write) is ignored when reading.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OutputError } from '../errors.js';
import type { SweepRecord } from './summary.js';

export async function readLog(path: string): Promise<{ records: SweepRecord[]; badLines: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: 0 };
    throw new OutputError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const records: SweepRecord[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = decodeRecord(line);
    if (r) records.push(r);
    else badLines++;
  }
  return { records, badLines };
}

/** A record as one line of JSON (non-finite numbers as strings: a perfect PSNR is Infinity). */
export function encodeRecord(record: SweepRecord): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/** The record of one line, or null when it is not one (a torn or foreign line). */
export function decodeRecord(line: string): SweepRecord | null {
  try {
    const r = JSON.parse(line, (_k, v: unknown) =>
      v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v,
    ) as SweepRecord;
    return typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.image === 'string' ? r : null;
  } catch {
    return null;
  }
}

export async function appendRecord(path: string, record: SweepRecord): Promise<void> {
  const line = encodeRecord(record) + '\n';
  try {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, line);
  } catch (err) {
    throw new OutputError(`Cannot append to ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
