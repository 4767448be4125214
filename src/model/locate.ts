/**
 * Where models live: `--model` may be a folder holding manifest.json + model.onnx, or the name of a model shipped
 * in the package's models/ folder. No name means the shipped default.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_MODEL = 'default';

/** The package root (the folder with package.json), found from this module's own location (src/ or dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('boomerang-sr: cannot find the package root from ' + fileURLToPath(import.meta.url));
}

/** A model folder for a name or path (not checked here; loading checks it). */
export function resolveModelDir(spec: string | undefined): string {
  const s = spec ?? DEFAULT_MODEL;
  if (s.includes('/') || s.includes('\\') || s.startsWith('.')) return resolve(s);
  return join(packageRoot(), 'models', s);
}
