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

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  trackTempFile(temp);
  try {
    if (opts.mkdir) await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, data, { flag: 'wx' });
    if (opts.signal?.aborted) throw new AbortError('Aborted', { cause: opts.signal.reason });
    if (opts.overwrite === false) await placeNew(temp, path);
    else await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    if (err instanceof SrError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such folder'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (code ?? (err instanceof Error ? err.message : String(err)));
    throw new OutputError(`Cannot write ${opts.what ? `${opts.what} ` : ''}${path}: ${why}`, { cause: err });
  } finally {
    untrackTempFile(temp);
  }
}

/**
 * Puts the finished temp file at `path` only if nothing is there: a hard link fails atomically with EEXIST (then
 * the temp file goes). Where hard links are not supported, an existence check and a rename.
 */
async function placeNew(temp: string, path: string): Promise<void> {
  const exists = () => new OutputError(`Output ${path} exists; refusing to overwrite it`);
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
