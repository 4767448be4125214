/**
 * The one atomic file write: bytes go to a temp file beside the target (registered, so a forced exit removes it),
 * renamed into place only once complete; on any failure the temp file is removed and an OutputError names the
 * target. Images, reports, logs' summaries and plots all go through here.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AbortError, OutputError, SrError } from '../errors.js';
import { trackTempFile, untrackTempFile } from './temp-files.js';

export interface AtomicWriteOptions {
  /** Replace an existing file (default true); false makes an existing target an OutputError, atomically. */
  overwrite?: boolean;
  /** Create the folder when missing (default false: a missing folder is an OutputError). */
  mkdir?: boolean;
  /** When it has fired by the time the bytes are written, the temp file is removed and AbortError thrown. */
  signal?: AbortSignal;
  /** What the file is, for messages ("report", "image"); default none. */
  what?: string;
}

/**
 * The longest temporary name given in the readable form: the smallest name limit in common use (eCryptfs: 143
 * bytes; most file systems allow 255).
 */
const READABLE_TEMP_BYTES = 143;

/**
 * A temporary name beside `path`: `.NAME.PID.RANDOM.tmp` while that is short, else `.sr-PID-RANDOM.tmp` (24 bytes
 * or so, shorter than any name that needed it), so the temporary file fits wherever the final name is legal:
 * a 240-byte name used to fail with ENAMETOOLONG after the work was done (issue 25 #5).
 */
export function tempNameFor(path: string, short = false): string {
  const random = randomBytes(4).toString('hex');
  const readable = `.${basename(path)}.${process.pid}.${random}.tmp`;
  const name = !short && Buffer.byteLength(readable) <= READABLE_TEMP_BYTES ? readable : `.sr-${process.pid}-${random}.tmp`;
  return join(dirname(path), name);
}

/** A file system error's reason in a few words (its code where nothing plainer says it). */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such folder'
    : code === 'EACCES'
      ? 'permission denied'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a file is in the way'
          : (code ?? (err instanceof Error ? err.message : String(err)));
}

/**
 * `mkdir -p dir` whose failure (a file in the way, no permission, a full or read-only disk) is an OutputError naming
 * the folder, exit 5: a raw fs error reached the CLI as an internal error, exit 1 (issue 25, "exit 1 is for bugs").
 */
export async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new OutputError(`Cannot create folder ${dir}: ${fsReason(err)}`, { cause: err });
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  let temp = tempNameFor(path);
  trackTempFile(temp);
  try {
    if (opts.mkdir) await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(temp, data, { flag: 'wx' });
    } catch (err) {
      // a file system with a lower name limit than the readable form assumed: the short form, once
      if ((err as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw err;
      untrackTempFile(temp);
      temp = tempNameFor(path, true);
      trackTempFile(temp);
      await writeFile(temp, data, { flag: 'wx' });
    }
    if (opts.signal?.aborted) throw new AbortError('Aborted', { cause: opts.signal.reason });
    if (opts.overwrite === false) await placeNew(temp, path);
    else await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    if (err instanceof SrError) throw err;
    throw new OutputError(`Cannot write ${opts.what ? `${opts.what} ` : ''}${path}: ${fsReason(err)}`, { cause: err });
  } finally {
    untrackTempFile(temp);
  }
}

/**
 * An output that exists where none may be written (overwrite: false): found before the work, or appeared while it
 * was being made; under --resume the job is then a skip, another run having done it (issue 25 #8).
 */
export class OutputExistsError extends OutputError {
  constructor(
    readonly path: string,
    message = `Output ${path} exists; refusing to overwrite it`,
  ) {
    super(message);
  }
}

/**
 * Puts the finished temp file at `path` only if nothing is there: a hard link fails atomically with EEXIST (then
 * the temp file goes). Where hard links are not supported, an existence check and a rename.
 */
async function placeNew(temp: string, path: string): Promise<void> {
  const exists = () => new OutputExistsError(path);
  try {
    await link(temp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists();
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      throw exists();
    await rename(temp, path);
    return;
  }
  await unlink(temp);
}
