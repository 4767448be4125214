/**
 * The inputs of `sr vary`: as `sr upscale` takes them (src/jobs/inputs.ts: files, quoted globs), except that a folder
 * is walked recursively, so a class-per-folder dataset (`data/cat/…`, `data/dog/…`) is taken whole and its layout kept
 * in each item's `rel`. Hidden files and folders are skipped, as in a folder listing for upscale.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { type InputItem, expandInputs } from '../jobs/inputs.js';
import { InputError } from '../errors.js';
import { INPUT_EXTENSIONS } from '../image/io.js';

/** `rel` with / between folders, whatever the platform (seeds and records must not depend on it). */
export const posixRel = (rel: string): string => rel.split(sep).join('/');

const isImageName = (rel: string): boolean =>
  !rel.split(/[\\/]/).some((part) => part.startsWith('.')) && INPUT_EXTENSIONS.includes(extname(rel).toLowerCase());

/** Every image file in `dir` and below, sorted, with paths relative to `dir`. */
async function walkFolder(dir: string): Promise<InputItem[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).map(String).filter(isImageName).sort();
  } catch (err) {
    throw new InputError(`Cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const items: InputItem[] = [];
  for (const rel of names) {
    if ((await stat(join(dir, rel)).catch(() => null))?.isFile()) items.push({ path: join(dir, rel), rel, base: dir });
  }
  if (items.length === 0) throw new InputError(`No image files (${INPUT_EXTENSIONS.join(' ')}) in folder ${dir} or below`);
  return items;
}

/** Files, folders (recursive) and globs into input items, in the order given. */
export async function expandVaryInputs(args: readonly string[]): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for (const arg of args) {
    const st = await stat(arg).catch(() => null);
    if (st?.isDirectory()) items.push(...(await walkFolder(arg)));
    else items.push(...(await expandInputs([arg])).items);
  }
  return items;
}
