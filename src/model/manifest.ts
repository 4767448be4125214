/**
 * The model contract between training and inference (DESIGN.md): read `models/<name>/manifest.json`, validate
 * every field once, and hand back a complete, typed, frozen manifest. Knows nothing of ONNX.
 */
import { readFile } from 'node:fs/promises';
import { ModelError } from '../errors.js';

export type Prediction = 'eps' | 'x0' | 'v';
export type BetaSpec =
  | { kind: 'linear'; start: number; end: number }
  | { kind: 'cosine'; s?: number }
  | { kind: 'table'; alphasCumprod: number[] };

export interface PresetSettings {
  t?: number;
  cascade?: number | number[];
  steps?: number;
  sampler?: 'ancestral' | 'ddim';
  eta?: number;
  consistency?: 'none' | 'ddnm';
  upsampler?: 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';
  samples?: number;
  description?: string;
}

export interface ModelManifest {
  name: string;
  version: string;
  T: number;
  betas: BetaSpec;
  prediction: Prediction;
  patch: number;
  multiple: number;
  trainCrop: number;
  params: number;
  sha256: string;
  /** Default sampling settings shipped with the model: t and steps always, and optionally any preset field. */
  defaults: PresetSettings & { t: number; steps: number };
  /** Named presets (e.g. fidelity, detail) chosen by a sweep on held-out data. */
  presets: Record<string, PresetSettings>;
  /** Everything else in the file (training record, evaluation figures), kept for `sr info`. */
  raw: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** Validates a parsed manifest; `source` names the file in messages. */
export function validateManifest(json: unknown, source: string): ModelManifest {
  const fail = (what: string): never => {
    throw new ModelError(`Invalid model manifest ${source}: ${what}`);
  };
  if (!isObj(json)) return fail('expected a JSON object');
  const m = json;
  const str = (k: string): string =>
    typeof m[k] === 'string' && (m[k] as string).length > 0 ? (m[k] as string) : fail(`expected a non-empty string for ${k}`);
  const posInt = (k: string): number =>
    isPosInt(m[k]) ? (m[k] as number) : fail(`expected a positive integer for ${k} but received ${JSON.stringify(m[k])}`);

  const name = str('name');
  const version = String(m.version ?? fail('expected a version'));
  const T = posInt('T');
  if (T < 2) fail(`expected T >= 2 but received ${T}`);
  const prediction = m.prediction;
  if (prediction !== 'eps' && prediction !== 'x0' && prediction !== 'v') {
    fail(`expected prediction to be one of eps, x0, v but received ${JSON.stringify(prediction)}`);
  }
  const patch = posInt('patch');
  const multiple = posInt('multiple');
  if (multiple % patch !== 0) fail(`expected multiple (${multiple}) to be a multiple of patch (${patch})`);
  const sha256 = str('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail('expected sha256 to be 64 lowercase hex digits');
  const betas = validateBetas(m.betas, T, fail);
  const defaults = isObj(m.defaults) ? m.defaults : {};
  const dt = defaults.t ?? 100;
  const ds = defaults.steps ?? 20;
  if (!isPosInt(dt) || dt >= T) fail(`expected defaults.t in 1..${T - 1} but received ${JSON.stringify(dt)}`);
  if (!isPosInt(ds)) fail(`expected defaults.steps to be a positive integer but received ${JSON.stringify(ds)}`);
  const presets = isObj(m.presets) ? (m.presets as Record<string, PresetSettings>) : {};
  return Object.freeze({
    name,
    version,
    T,
    betas,
    prediction: prediction as Prediction,
    patch,
    multiple,
    trainCrop: isPosInt(m.train_crop) ? m.train_crop : 0,
    params: isPosInt(m.params) ? m.params : 0,
    sha256,
    defaults: { ...(defaults as PresetSettings), t: dt as number, steps: ds as number },
    presets,
    raw: m,
  });
}

function validateBetas(b: unknown, T: number, fail: (what: string) => never): BetaSpec {
  if (!isObj(b)) return fail('expected betas to be an object with a kind');
  if (b.kind === 'linear') {
    const { start, end } = b;
    if (typeof start !== 'number' || typeof end !== 'number' || !(start > 0) || !(end > start) || !(end < 1)) {
      return fail('expected linear betas with 0 < start < end < 1');
    }
    return { kind: 'linear', start, end };
  }
  if (b.kind === 'cosine') return { kind: 'cosine', s: typeof b.s === 'number' ? b.s : 0.008 };
  if (b.kind === 'table') {
    const a = b.alphasCumprod;
    if (!Array.isArray(a) || a.length !== T || !a.every((v) => typeof v === 'number' && v > 0 && v < 1)) {
      return fail(`expected betas.alphasCumprod to be ${T} numbers in (0, 1)`);
    }
    return { kind: 'table', alphasCumprod: a as number[] };
  }
  return fail(`expected betas.kind to be linear, cosine or table but received ${JSON.stringify(b.kind)}`);
}

/** Reads and validates `<dir>/manifest.json`. */
export async function loadManifest(dir: string): Promise<ModelManifest> {
  const path = `${dir}/manifest.json`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelError(`Cannot read model manifest ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`Invalid model manifest ${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return validateManifest(json, path);
}
