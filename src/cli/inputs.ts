/**
 * Turning `sr upscale` arguments into a list of input files: a plain file stays itself; a folder gives its
 * image files (by extension, not recursive, hidden files skipped); an argument with * ? or [...] that is not
 * itself an existing path is a glob (`**` crosses folders; * and ? do not match a leading dot), expanded here
 * so quoted patterns work the same on every shell. Each input also gets the path its output keeps under the
 * output folder (the file name, or the path below the glob's fixed part).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import { InputError } from '../errors.js';
import { INPUT_EXTENSIONS } from '../image/io.js';

/** Extensions a folder argument picks up (content is still sniffed when decoding). */
const IMAGE_EXTENSIONS = INPUT_EXTENSIONS;

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

const exists = (p: string) => stat(p).then((s) => s, () => null);

export async function expandInputs(args: readonly string[]): Promise<ExpandedInputs> {
  const items: InputItem[] = [];
  let batch = args.length > 1;
  for (const arg of args) {
    const st = await exists(arg);
    if (st?.isDirectory()) {
      batch = true;
      const names = (await readdir(arg)).filter((n) => !n.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(n).toLowerCase())).sort();
      const files: string[] = [];
      for (const n of names) if ((await exists(join(arg, n)))?.isFile()) files.push(n);
      if (files.length === 0) throw new InputError(`No image files (${IMAGE_EXTENSIONS.join(' ')}) in folder ${arg}`);
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

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expands a glob pattern into sorted existing files; `base` is the folder before the first wildcard. */
export async function glob(pattern: string): Promise<{ base: string; matches: string[] }> {
  const parts = pattern.split(/[\\/]+/);
  const first = parts.findIndex(isGlob);
  const fixed = parts.slice(0, first);
  const base = fixed.length === 0 ? '.' : fixed.join(sep) || sep;
  const rest = parts.slice(first).filter((p) => p !== '');
  const found = new Set<string>();
  const walk = async (dir: string, idx: number): Promise<void> => {
    const seg = rest[idx]!;
    const last = idx === rest.length - 1;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (seg === '**') {
      if (last) return; // a trailing ** names folders, not files
      await walk(dir, idx + 1);
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) await walk(join(dir, e.name), idx);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of entries) {
      if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
      if (!re.test(e.name)) continue;
      const p = dir === '.' && !isAbsolute(pattern) ? e.name : join(dir, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && (await exists(p))?.isDirectory());
      if (last) {
        if (!isDir && (await exists(p))?.isFile()) found.add(p);
      } else if (isDir) await walk(p, idx + 1);
    }
  };
  await walk(base, 0);
  return { base, matches: [...found].sort() };
}
