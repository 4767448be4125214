/**
 * Writers for results: CSV (RFC 4180 quoting), JSON, and an atomic text write (temp file + rename, so a reader
 * never sees half a file).
 */
import { writeFileAtomic } from '../io-safety/atomic.js';

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text: a header of `columns`, then one line per row (missing values empty). */
export function toCsv<R extends object>(rows: readonly R[], columns: readonly string[]): string {
  const get = (r: R, c: string) => (r as Record<string, unknown>)[c];
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(get(r, c))).join(','))].join('\n') + '\n';
}

/** JSON with Infinity/NaN written as strings (JSON has no such numbers). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}

/** Writes text to `path` atomically (io-safety/atomic.ts), creating the folder. OutputError on failure. */
export async function writeTextAtomic(path: string, text: string | Buffer): Promise<void> {
  await writeFileAtomic(path, text, { mkdir: true });
}
