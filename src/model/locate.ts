/**
 * Where models live: `--model` may be a folder holding manifest.json + model.onnx, or the name of a model shipped
 * in the package's models/ folder. No name means the shipped default.
 */
import { existsSync, readdirSync } from 'node:fs';
import { ModelError } from '../errors.js';
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

/** The names of the models shipped in the package's models/ folder (folders with a manifest.json). */
export function shippedModels(): string[] {
  const dir = join(packageRoot(), 'models');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
}

/**
 * A model folder for a name or path (its contents are checked when loading). A bare name is a shipped model,
 * else a folder of that name here; neither is a ModelError that lists the shipped names.
 */
export function resolveModelDir(spec: string | undefined): string {
  const s = spec ?? DEFAULT_MODEL;
  if (s.includes('/') || s.includes('\\') || s.startsWith('.')) return resolve(s);
  const shipped = join(packageRoot(), 'models', s);
  if (existsSync(join(shipped, 'manifest.json'))) return shipped;
  if (existsSync(join(resolve(s), 'manifest.json'))) return resolve(s);
  throw new ModelError(
    `Unknown model ${JSON.stringify(s)}: the shipped models are ${shippedModels().join(', ')}; or give a model folder (./path)`,
  );
}
