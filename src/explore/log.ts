/**
 * explore's resume log: one JSON object per line, appended as each candidate finishes, so an interrupted run loses
 * at most the candidate in progress. Torn or foreign lines are ignored when reading.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OutputError } from '../errors.js';

/** Every line of the log that parses as a JSON object (none when the file does not exist). */
export async function readLines<T extends object>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new OutputError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line, (_k, x: unknown) => (x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x)) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(v as T);
    } catch {
      // a torn last line (a crash mid-write) or a foreign one
    }
  }
  return out;
}

/** Appends one object as a line (a torn last line is ended first, so the new one stands alone). */
export async function appendLine(path: string, value: object): Promise<void> {
  const line = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n';
  try {
    await mkdir(dirname(path), { recursive: true });
    const text = await readFile(path, 'utf8').catch(() => '');
    await appendFile(path, text.length > 0 && !text.endsWith('\n') ? '\n' + line : line);
  } catch (err) {
    throw new OutputError(`Cannot append to ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
