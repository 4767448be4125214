/**
 * Finding images in folders and pairing them by name. A file's key is its name without the extension and
 * without a trailing role suffix (_HR, _LR, _SR, or -hr/-lr/-sr, any case), so the classic pairs
 * img_001_SRF_4_HR.png and img_001_SRF_4_LR.png (which may share one folder) both have the key img_001_SRF_4.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError } from '../errors.js';
import { INPUT_EXTENSIONS } from '../image/io.js';

export type Role = 'hr' | 'lr' | 'sr';

const ROLE_SUFFIX = /[_-](hr|gt|lr|sr|test)$/i;
const ROLE_OF: Readonly<Record<string, Role>> = { hr: 'hr', gt: 'hr', lr: 'lr', sr: 'sr', test: 'sr' };

/** The matching key of a file name and the role its suffix names (null when it has none). */
export function imageKey(fileName: string): { key: string; role: Role | null } {
  const stem = fileName.slice(0, fileName.length - extname(fileName).length);
  const m = ROLE_SUFFIX.exec(stem);
  if (!m) return { key: stem, role: null };
  return { key: stem.slice(0, m.index), role: ROLE_OF[m[1]!.toLowerCase()]! };
}

/**
 * The images of a folder for one role, by key, sorted by key. Files whose suffix names another role are left
 * out (so HR and LR may share a folder). InputError when the folder cannot be read or two files share a key.
 */
export async function listImages(dir: string, role: Role): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `Cannot read folder ${dir}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : String(err)}`,
      { cause: err },
    );
  }
  const found = new Map<string, string>();
  for (const name of names.sort()) {
    if (name.startsWith('.') || !INPUT_EXTENSIONS.includes(extname(name).toLowerCase())) continue;
    const { key, role: r } = imageKey(name);
    if (r !== null && r !== role) continue;
    const prev = found.get(key);
    if (prev !== undefined) throw new InputError(`Two images in ${dir} match the name ${key}: ${prev} and ${name}`);
    found.set(key, name);
  }
  return new Map([...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, join(dir, v)]));
}

export interface MatchedPair {
  /** The shared key, e.g. img_001_SRF_4. */
  name: string;
  hr: string;
  other: string;
}

export interface Matching {
  pairs: MatchedPair[];
  /** Keys found only among the HR images, and only among the others. */
  onlyHr: string[];
  onlyOther: string[];
}

/** Pairs the HR images of `hrDir` with the `role` images of `otherDir` by key (sorted by key). */
export async function matchFolders(hrDir: string, otherDir: string, role: Exclude<Role, 'hr'>): Promise<Matching> {
  const hr = await listImages(hrDir, 'hr');
  const other = await listImages(otherDir, role);
  const pairs: MatchedPair[] = [];
  const onlyHr: string[] = [];
  for (const [key, path] of hr) {
    const o = other.get(key);
    if (o === undefined) onlyHr.push(key);
    else pairs.push({ name: key, hr: path, other: o });
  }
  const onlyOther = [...other.keys()].filter((k) => !hr.has(k));
  return { pairs, onlyHr, onlyOther };
}
