/**
 * Turning `sr upscale` arguments into a list of input files: a plain file stays itself; a folder gives its
 * image files (by extension, not recursive, hidden files skipped); an argument with * ? or [...] that is not
 * itself an existing path is a glob (`**` crosses folders; * and ? do not match a leading dot), expanded here
 * so quoted patterns work the same on every shell. Each input also gets the path its output keeps under the
 * output folder (the file name, or the path below the glob's fixed part).
 */
import { readdir, stat } from 'node:fs/promises';
import { glob as globFiles } from 'tinyglobby';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import { InputError } from '../errors.js';
import { INPUT_EXTENSIONS } from '../image/io.js';

export interface InputItem {
  /** The file to read, as the user gave it or as found. */
  path: string;
  /** Relative path (with the input's extension) that names its output under the output folder. */
  rel: string;
  /** The folder `rel` is relative to (the folder argument, the glob's fixed part, or the file's folder). */
  base: string;
}

export interface ExpandedInputs {
  items: InputItem[];
  /** True when the arguments ask for batch processing: several, a folder, or a glob. */
  batch: boolean;
}

export const isGlob = (s: string): boolean => /[*?[]/.test(s);

const exists = (p: string) =>
  stat(p).then(
    (s) => s,
    () => null,
  );

export async function expandInputs(args: readonly string[]): Promise<ExpandedInputs> {
  const items: InputItem[] = [];
  let batch = args.length > 1;
  for (const arg of args) {
    const st = await exists(arg);
    if (st?.isDirectory()) {
      batch = true;
      const names = (
        await readdir(arg).catch((err: NodeJS.ErrnoException) => {
          throw new InputError(`Cannot read folder ${arg}: ${err.code ?? String(err)}`, { cause: err });
        })
      )
        .filter((n) => !n.startsWith('.') && INPUT_EXTENSIONS.includes(extname(n).toLowerCase()))
        .sort();
      const files: string[] = [];
      for (const n of names) if ((await exists(join(arg, n)))?.isFile()) files.push(n);
      if (files.length === 0) throw new InputError(`No image files (${INPUT_EXTENSIONS.join(' ')}) in folder ${arg}`);
      for (const n of files) items.push({ path: join(arg, n), rel: n, base: arg });
    } else if (!st && isGlob(arg)) {
      batch = true;
      const { base, matches } = await glob(arg);
      if (matches.length === 0) throw new InputError(`No files match ${arg}`);
      for (const m of matches) items.push({ path: m, rel: relative(base, m), base });
    } else {
      items.push({ path: arg, rel: basename(arg), base: dirname(arg) });
    }
  }
  return { items, batch };
}

/**
 * Expands a glob pattern into sorted existing files (tinyglobby: `*`, `?`, `[abc]`, `**`; a leading dot is only
 * matched by a pattern that names it); `base` is the folder before the first wildcard.
 */
export async function glob(pattern: string): Promise<{ base: string; matches: string[] }> {
  const parts = pattern.split(/[\\/]+/);
  const first = parts.findIndex(isGlob);
  const fixed = parts.slice(0, first);
  const base = fixed.length === 0 ? '.' : fixed.join(sep) || sep;
  const rest = parts
    .slice(first)
    .filter((p) => p !== '')
    .join('/');
  if (rest.endsWith('**')) return { base, matches: [] }; // a trailing ** names folders, not files
  const found = await globFiles(rest, { cwd: base, onlyFiles: true, dot: false, expandDirectories: false, followSymbolicLinks: true });
  const matches = found.map((m) => (base === '.' && !isAbsolute(pattern) ? m : join(base, m))).sort();
  return { base, matches };
}
