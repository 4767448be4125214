/**
 * The Boomerang method flags shared by `sr upscale` and `sr eval` (--t, --cascade, --steps, …): one declaration of
 * their fields and one strict parser into library options. Ranges are checked by the library (resolveSettings).
 */
import { UsageError } from '../errors.js';
import { SAMPLER_KINDS } from '../diffusion/samplers.js';
import { KERNELS } from '../image/upsample.js';
import type { DeviceRequest } from '../model/session.js';
import { CONSISTENCY_KINDS, type UpscaleOptions } from '../upscale.js';
import { oneOf, positiveInteger } from '../validate.js';
import { parseCascade, parseNumber } from './parse.js';

export interface MethodFlags {
  t?: string;
  cascade?: string;
  steps?: string;
  upsampler?: string;
  sampler?: string;
  eta?: string;
  consistency?: string;
  seed?: string;
  samples?: string;
  reduce?: string;
  preset?: string;
  tile?: string;
}

export type MethodOptions = Omit<UpscaleOptions, 'factor' | 'model' | 'device' | 'signal' | 'onProgress'>;

export function parseMethodFlags(f: MethodFlags): MethodOptions {
  const o: MethodOptions = {};
  if (f.t !== undefined) o.t = parseNumber('--t', f.t);
  if (f.cascade !== undefined) o.cascade = parseCascade(f.cascade);
  if (f.steps !== undefined) o.steps = parseNumber('--steps', f.steps);
  if (f.upsampler !== undefined) o.upsampler = oneOf('upsampler', f.upsampler, KERNELS);
  if (f.sampler !== undefined) o.sampler = oneOf('sampler', f.sampler, SAMPLER_KINDS);
  if (f.eta !== undefined) o.eta = parseNumber('--eta', f.eta);
  if (f.consistency !== undefined) o.consistency = oneOf('consistency', f.consistency, CONSISTENCY_KINDS);
  if (f.seed !== undefined) o.seed = parseNumber('--seed', f.seed);
  if (f.samples !== undefined) o.samples = parseNumber('--samples', f.samples);
  if (f.reduce !== undefined) o.reduce = oneOf('reduce', f.reduce, ['mean', 'median', 'none'] as const);
  if (f.preset !== undefined) o.preset = f.preset;
  if (f.tile !== undefined) o.tiling = { tile: positiveInteger('tile', parseNumber('--tile', f.tile)) };
  return o;
}

export function parseDevice(value: string): DeviceRequest {
  if (!['cpu', 'webgpu', 'auto'].includes(value)) throw new UsageError(`Expected one of cpu, webgpu, auto for --device but received ${JSON.stringify(value)}`);
  return value as DeviceRequest;
}
