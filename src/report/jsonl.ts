/** JSON-lines logs (the sweep's resume log, vary's records): appended a line at a time, so a crash can tear the last one. */
import { appendFile, readFile } from 'node:fs/promises';
import { OutputError } from '../errors.js';

/** Ends a torn last line (from a crash mid-write) so the next record starts on a line of its own. */
export async function repairLog(path: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  if (text.length === 0 || text.endsWith('\n')) return;
  try {
    await appendFile(path, '\n');
  } catch (err) {
    // a read-only or full disk: an output failure, not an internal error
    throw new OutputError(`Cannot append to ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
