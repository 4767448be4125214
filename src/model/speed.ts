/**
 * Speeds measured on this machine, so that a job's estimate (and the --yes guard) uses what the model really costs
 * here rather than the manifest's reference figure (measured once on a 2-core VM: jobs ran 1.6-2.5x slower than it
 * said elsewhere). A figure is seconds per model evaluation of one tile, per model file (sha256), device and run shape
 * (tile height x width, tiles per run), with the pipeline's time around the evaluations as a fraction of theirs.
 *
 * Where: `$SR_CACHE_DIR/speed.json`, else `$XDG_CACHE_HOME/boomerang-sr/speed.json`, else
 * `~/.cache/boomerang-sr/speed.json`. When the file cannot be read or written (a read-only home, no home folder),
 * the figures are kept in memory for the process and nothing is reported: a later process then measures again
 * (one timed evaluation at model load) and its plan-time estimate falls back to the manifest's figure.
 * No onnxruntime here: the measuring is the caller's (upscale.ts), with ModelSession.run.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Device } from './session.js';

/** What a figure is for: one model, device and run shape. */
export interface SpeedKey {
  /** The sha256 of the file run: model.onnx's, or a variant's (int8), so precisions do not share figures. */
  sha256: string;
  device: Device;
  /** The tile (or the whole padded image, when it is one tile) as run. */
  height: number;
  width: number;
  /** Tiles per model run. */
  batch: number;
}

/** A speed measured here. */
export interface MeasuredSpeed {
  /** Seconds inside the model per tile evaluation. */
  secondsPerEvaluation: number;
  /** The job's time outside the model per second inside it (0.15: 15% more than the model time). */
  overhead: number;
  /** When, and over how many tile evaluations, it was measured. */
  measured: string;
  evaluations: number;
}

/** The overhead assumed before a job at this shape has been timed whole (10-12% measured on 2 cores, rounded up). */
export const DEFAULT_OVERHEAD = 0.15;

/** The most figures kept in the file (the oldest go first). */
const MAX_ENTRIES = 200;

/** The speed cache file for this environment (see the module's header). */
export function speedCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SR_CACHE_DIR) return join(env.SR_CACHE_DIR, 'speed.json');
  const base = env.XDG_CACHE_HOME || join(safeHome(), '.cache');
  return join(base, 'boomerang-sr', 'speed.json');
}

function safeHome(): string {
  try {
    return homedir();
  } catch {
    return '.';
  }
}

/** The key of a figure in the file: short and readable. */
export function speedKeyString(k: SpeedKey): string {
  return `${k.sha256.slice(0, 16)} ${k.device} ${k.height}x${k.width}${k.batch > 1 ? `x${k.batch}` : ''}`;
}

/** The file's figures as read once per process (then kept up to date by recordSpeed), by file. */
const loaded = new Map<string, Map<string, MeasuredSpeed>>();

async function entries(file: string): Promise<Map<string, MeasuredSpeed>> {
  let map = loaded.get(file);
  if (map) return map;
  map = new Map();
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as unknown;
    const speeds = typeof data === 'object' && data !== null ? (data as { speeds?: unknown }).speeds : undefined;
    if (typeof speeds === 'object' && speeds !== null) {
      for (const [k, v] of Object.entries(speeds)) if (isSpeed(v)) map.set(k, v);
    }
  } catch {
    // missing, unreadable or not JSON: no figures (a bad file is replaced at the next record)
  }
  loaded.set(file, map);
  return map;
}

function isSpeed(v: unknown): v is MeasuredSpeed {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s.secondsPerEvaluation === 'number' &&
    s.secondsPerEvaluation > 0 &&
    Number.isFinite(s.secondsPerEvaluation) &&
    typeof s.overhead === 'number' &&
    s.overhead >= 0 &&
    Number.isFinite(s.overhead) &&
    typeof s.measured === 'string' &&
    typeof s.evaluations === 'number'
  );
}

/** The figure measured here for this model, device and shape, or null. */
export async function lookupSpeed(key: SpeedKey, file: string = speedCacheFile()): Promise<MeasuredSpeed | null> {
  return (await entries(file)).get(speedKeyString(key)) ?? null;
}

/**
 * Keeps a figure (in memory at once, then in the file). Resolves to whether the file was written; never throws:
 * a cache that cannot be written only means measuring again next time.
 */
export async function recordSpeed(key: SpeedKey, speed: MeasuredSpeed, file: string = speedCacheFile()): Promise<boolean> {
  const map = await entries(file);
  const k = speedKeyString(key);
  map.delete(k); // re-inserted last: the newest figures are kept when the file is trimmed
  map.set(k, speed);
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as string);
  try {
    await mkdir(dirname(file), { recursive: true });
    // written whole and renamed: a reader never sees half a file (two writers: the last one wins)
    const temp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify({ tool: 'boomerang-sr', speeds: Object.fromEntries(map) }, null, 1)}\n`);
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      throw err;
    }
    return true;
  } catch {
    return false;
  }
}
