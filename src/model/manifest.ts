/**
 * The model contract between training (models/train/export.py) and inference: read `models/<name>/manifest.json`, validate
 * every field once, and hand back a complete, typed, frozen manifest. Knows nothing of ONNX.
 */
import { readFile } from 'node:fs/promises';
import { ModelError } from '../errors.js';
import { CONSISTENCY_KINDS, type Consistency } from '../diffusion/consistency.js';
import type { PredictionKind } from '../diffusion/predictions.js';
import { SAMPLER_KINDS, type SamplerKind } from '../diffusion/samplers.js';
import type { BetaSpec } from '../diffusion/schedule.js';
import type { SoftCorruption } from '../diffusion/soft.js';
import { KERNELS, type Kernel } from '../image/upsample.js';

/** What the model's output means: eps, x0 or v (Gaussian family), residual x0 − x_τ (soft-resample family). */
export type Prediction = PredictionKind | 'residual';

/**
 * The model family: gaussian (a DDPM prior; Boomerang noises to t) or soft-resample (a prior trained on the
 * bicubic shrink/enlarge corruption it undoes; src/diffusion/soft.ts).
 */
export type ModelFamily = { kind: 'gaussian' } | SoftCorruption;
/** A named preset's settings (or the model's defaults): any option of `upscale` left out is resolved further. */
export interface PresetSettings {
  t?: number;
  cascade?: number | number[];
  steps?: number;
  sampler?: SamplerKind;
  eta?: number;
  consistency?: Consistency;
  upsampler?: Kernel;
  /** Back-projection iterations applied to the upsampled image before the first pass (0: none). */
  backProject?: number;
  /**
   * Soft-resample: start the first pass from the enlarged input corrupted again at its level (UpscaleOptions), or, in
   * `inputs.jpeg`, a quality: only for JPEG inputs saved below it (milder compression loses more detail than blocks).
   */
  recorrupt?: boolean | number;
  /** For JPEG inputs: keep the output within the file's quantisation intervals (UpscaleOptions.jpegConstraint). */
  jpegConstraint?: boolean;
  samples?: number;
  description?: string;
}

/** A model's manifest.json, validated: the diffusion schedule, the UNet's contract, defaults, presets and sha256. */
export interface ModelManifest {
  name: string;
  version: string;
  T: number;
  betas: BetaSpec;
  family: ModelFamily;
  prediction: Prediction;
  patch: number;
  multiple: number;
  trainCrop: number;
  params: number;
  sha256: string;
  /** Default sampling settings shipped with the model: t and steps always, and optionally any preset field. */
  defaults: PresetSettings & { t: number; steps: number };
  /**
   * Measured CPU time per megapixel of model input per evaluation (CPU EP, the reference machine named in the
   * manifest's speed record), for estimating a job's time before it starts; null when not measured.
   */
  cpuSecondsPerMegapixel: number | null;
  /** Named presets (e.g. fidelity, detail) chosen by a sweep on held-out data. */
  presets: Record<string, PresetSettings>;
  /**
   * Settings for inputs known to be degraded, over the preset and defaults (explicit options still win): `jpeg` for
   * an input saved as JPEG below quality 95 (`input` auto) or declared so, and `jpegBelow` (manifest keys `jpeg<Q`)
   * over those for a JPEG saved below quality Q (or of unknown quality), the highest Q first so that a lower bound's
   * settings win; chosen by measurement for this model (jpegInputSettings merges them).
   */
  inputs: { jpeg?: PresetSettings; jpegBelow?: readonly { quality: number; settings: PresetSettings }[] };
  /**
   * Other builds of the same weights in the model folder, by precision (`int8`: a static QDQ quantisation for the
   * CPU EP; models/train/quantize.py), each checked against its own sha256 when loaded; {} when none.
   */
  variants: Readonly<Record<string, ModelVariant>>;
  /** Everything else in the file (training record, evaluation figures), kept for `sr info`. */
  raw: Record<string, unknown>;
}

/** A variant's file in the model folder (a plain file name), its sha256, and what the manifest says of it. */
export interface ModelVariant {
  file: string;
  sha256: string;
  /**
   * The sha256 of the model.onnx whose weights it holds (manifest `model_sha256`): a variant left over from earlier
   * weights does not match the manifest's sha256, and loadModel refuses it.
   */
  modelSha256: string;
  /** The file's size, when recorded. */
  bytes: number | null;
  /** How it was made (one line, for `sr info`), when recorded. */
  recipe: string | null;
  /** What it was measured to cost in quality and gain in speed (one line, for `sr info`), when recorded. */
  measured: string | null;
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
  const family = validateFamily(m.family, fail);
  const allowed = family.kind === 'gaussian' ? ['eps', 'x0', 'v'] : ['residual'];
  if (!allowed.includes(prediction as string)) {
    fail(`expected prediction to be one of ${allowed.join(', ')} for a ${family.kind} model but received ${JSON.stringify(prediction)}`);
  }
  const patch = posInt('patch');
  const multiple = posInt('multiple');
  if (multiple % patch !== 0) fail(`expected multiple (${multiple}) to be a multiple of patch (${patch})`);
  const sha256 = str('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail('expected sha256 to be 64 lowercase hex digits');
  const betas = validateBetas(m.betas, T, fail);
  const defaults = isObj(m.defaults) ? validatePreset(m.defaults, 'defaults', T, fail) : {};
  const dt = defaults.t ?? 100;
  const ds = defaults.steps ?? 20;
  if (!isPosInt(dt) || dt >= T) fail(`expected defaults.t in 1..${T - 1} but received ${JSON.stringify(dt)}`);
  if (!isPosInt(ds)) fail(`expected defaults.steps to be a positive integer but received ${JSON.stringify(ds)}`);
  if (m.presets !== undefined && !isObj(m.presets)) fail('expected presets to be an object of named settings');
  const presets: Record<string, PresetSettings> = {};
  for (const [k, v] of Object.entries(isObj(m.presets) ? m.presets : {})) {
    if (!isObj(v)) fail(`expected presets.${k} to be an object`);
    presets[k] = validatePreset(v as Record<string, unknown>, `presets.${k}`, T, fail);
  }
  if (m.inputs !== undefined && !isObj(m.inputs)) fail('expected inputs to be an object of settings per input kind');
  const inputs: { jpeg?: PresetSettings; jpegBelow?: { quality: number; settings: PresetSettings }[] } = {};
  const bands: { quality: number; settings: PresetSettings }[] = [];
  for (const [k, v] of Object.entries(isObj(m.inputs) ? m.inputs : {})) {
    const below = /^jpeg<(\d{1,3})$/.exec(k);
    const quality = below ? Number(below[1]) : null;
    if (k !== 'jpeg' && !(quality !== null && quality >= 1 && quality <= 100)) {
      fail(`expected inputs to name jpeg or jpeg<Q (Q a JPEG quality in 1..100) but received ${JSON.stringify(k)}`);
    }
    if (!isObj(v)) fail(`expected inputs.${k} to be an object`);
    const settings = validatePreset(v as Record<string, unknown>, `inputs.${k}`, T, fail);
    if (quality === null) inputs.jpeg = settings;
    else bands.push({ quality, settings });
  }
  if (bands.length > 0) inputs.jpegBelow = bands.sort((a, b) => b.quality - a.quality);
  return Object.freeze({
    name,
    version,
    T,
    betas,
    family,
    prediction: prediction as Prediction,
    patch,
    multiple,
    trainCrop: isPosInt(m.train_crop) ? m.train_crop : 0,
    params: isPosInt(m.params) ? m.params : 0,
    sha256,
    defaults: { ...(defaults as PresetSettings), t: dt as number, steps: ds as number },
    cpuSecondsPerMegapixel: speedOf(m.speed, fail),
    presets,
    inputs,
    variants: validateVariants(m.variants, fail),
    raw: m,
  });
}

/** The optional `variants` field: { <precision>: { file, sha256, bytes?, recipe?, measured? } }. */
function validateVariants(v: unknown, fail: (what: string) => never): Readonly<Record<string, ModelVariant>> {
  if (v === undefined) return Object.freeze({}); // manifests from before int8 shipped
  if (!isObj(v)) return fail('expected variants to be an object of variant files by precision');
  const out: Record<string, ModelVariant> = {};
  for (const [k, e] of Object.entries(v)) {
    if (!isObj(e)) return fail(`expected variants.${k} to be an object with file and sha256`);
    const file = e.file;
    // a file name inside the model folder, never a path out of it
    if (typeof file !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*\.onnx$/.test(file) || file === 'model.onnx') {
      return fail(
        `expected variants.${k}.file to be an .onnx file name in the model folder (not model.onnx) but received ${JSON.stringify(file)}`,
      );
    }
    for (const f of ['sha256', 'model_sha256'] as const) {
      if (typeof e[f] !== 'string' || !/^[0-9a-f]{64}$/.test(e[f] as string))
        fail(`expected variants.${k}.${f} to be 64 lowercase hex digits`);
    }
    if (e.bytes !== undefined && !isPosInt(e.bytes)) fail(`expected variants.${k}.bytes to be a positive integer`);
    for (const f of ['recipe', 'measured'] as const) {
      if (e[f] !== undefined && typeof e[f] !== 'string') fail(`expected variants.${k}.${f} to be a string`);
    }
    out[k] = Object.freeze({
      file,
      sha256: e.sha256 as string,
      modelSha256: e.model_sha256 as string,
      bytes: isPosInt(e.bytes) ? e.bytes : null,
      recipe: typeof e.recipe === 'string' ? e.recipe : null,
      measured: typeof e.measured === 'string' ? e.measured : null,
    });
  }
  return Object.freeze(out);
}

function speedOf(v: unknown, fail: (what: string) => never): number | null {
  if (v === undefined) return null;
  const s = isObj(v) ? v.cpu_seconds_per_megapixel : undefined;
  if (typeof s !== 'number' || !(s > 0)) return fail('expected speed.cpu_seconds_per_megapixel to be a positive number');
  return s;
}

/** Checks every field of a preset (or the defaults) against the lists the sampler accepts. */
function validatePreset(p: Record<string, unknown>, where: string, T: number, fail: (what: string) => never): PresetSettings {
  const bad = (k: string, want: string): never => fail(`expected ${where}.${k} to be ${want} but received ${JSON.stringify(p[k])}`);
  const isStep = (v: unknown) => isPosInt(v) && (v as number) < T;
  const among = (k: string, allowed: readonly string[]) => {
    if (p[k] !== undefined && !allowed.includes(p[k] as string)) bad(k, `one of ${allowed.join(', ')}`);
  };
  if (p.t !== undefined && !isStep(p.t)) bad('t', `an integer in 1..${T - 1}`);
  if (p.cascade !== undefined && !isPosInt(p.cascade) && !(Array.isArray(p.cascade) && p.cascade.length > 0 && p.cascade.every(isStep))) {
    bad('cascade', `a positive integer or a list of t in 1..${T - 1}`);
  }
  for (const k of ['steps', 'samples']) if (p[k] !== undefined && !isPosInt(p[k])) bad(k, 'a positive integer');
  if (p.backProject !== undefined && !(Number.isInteger(p.backProject) && (p.backProject as number) >= 0))
    bad('backProject', 'a non-negative integer');
  if (p.eta !== undefined && !(typeof p.eta === 'number' && p.eta >= 0 && p.eta <= 1)) bad('eta', 'a number in 0..1');
  if (p.recorrupt !== undefined && typeof p.recorrupt !== 'boolean' && !(isPosInt(p.recorrupt) && (p.recorrupt as number) <= 100))
    bad('recorrupt', 'true, false or a JPEG quality in 1..100');
  if (p.jpegConstraint !== undefined && typeof p.jpegConstraint !== 'boolean') bad('jpegConstraint', 'true or false');
  among('sampler', SAMPLER_KINDS);
  among('consistency', CONSISTENCY_KINDS);
  among('upsampler', KERNELS);
  if (p.description !== undefined && typeof p.description !== 'string') bad('description', 'a string');
  return p as PresetSettings;
}

function validateFamily(f: unknown, fail: (what: string) => never): ModelFamily {
  if (f === undefined) return { kind: 'gaussian' }; // manifests from before the soft-resample family
  if (!isObj(f)) return fail('expected family to be an object with a kind');
  if (f.kind === 'gaussian') return { kind: 'gaussian' };
  if (f.kind !== 'soft-resample')
    return fail(`expected family.kind to be gaussian or soft-resample but received ${JSON.stringify(f.kind)}`);
  const num = (k: string, ok: (v: number) => boolean, want: string): number =>
    typeof f[k] === 'number' && ok(f[k] as number)
      ? (f[k] as number)
      : fail(`expected family.${k} to be ${want} but received ${JSON.stringify(f[k])}`);
  return Object.freeze({
    kind: 'soft-resample',
    maxScale: num('max_scale', (v) => v > 1, 'a number above 1'),
    sigmaMax: num('sigma_max', (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    levels: num('levels', (v) => Number.isInteger(v) && v > 1, 'an integer above 1'),
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
