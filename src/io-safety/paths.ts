/** Path safety: is the output the input itself (through links, `..`, case-preserving names), does it exist. */
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors.js';

/** The real path of `p`, or of its folder joined with its name when `p` does not exist yet. */
export async function realTarget(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    try {
      return join(await realpath(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** True when `a` and `b` name the same file: same real path, or (both existing) the same device and inode. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [ra, rb] = await Promise.all([realTarget(a), realTarget(b)]);
  if (ra === rb) return true;
  const [sa, sb] = await Promise.all([stat(ra).catch(() => null), stat(rb).catch(() => null)]);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** True when something exists at `p` (a file, folder or a dangling link). */
export async function pathExists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * The checks every output gets, for a side file such as the --json report, made before any work: its folder
 * exists, it is not a folder, and it is none of the run's inputs, outputs or output folder (compared as sameFile
 * does). Throws OutputError naming the file and the clash.
 */
export async function checkSideFile(
  path: string,
  what: string,
  run: { inputs?: readonly string[]; outputs?: readonly string[]; outputDir?: string | null } = {},
): Promise<void> {
  const dir = dirname(resolve(path));
  if (!(await stat(dir).catch(() => null))?.isDirectory())
    throw new OutputError(`Cannot write ${what} ${path}: no such folder ${dirname(path)}`);
  if ((await stat(path).catch(() => null))?.isDirectory()) throw new OutputError(`Cannot write ${what} ${path}: is a directory`);
  for (const input of run.inputs ?? []) {
    if (await sameFile(input, path)) throw new OutputError(`Refusing to write the ${what} ${path} over the input ${input}`);
  }
  for (const output of run.outputs ?? []) {
    if (await sameFile(output, path)) throw new OutputError(`Refusing to write the ${what} ${path} over the output ${output}`);
  }
  if (run.outputDir != null && (await realTarget(run.outputDir)) === (await realTarget(path))) {
    throw new OutputError(`Refusing to write the ${what} ${path} over the output folder ${run.outputDir}`);
  }
}
