/**
 * The Boomerang method flags shared by `sr upscale` and `sr eval` (--t, --cascade, --steps, …): one declaration of
 * their fields and one strict parser into library options. Ranges are checked by the library (resolveSettings).
 */
import type { Command } from 'commander';
import { SAMPLER_KINDS } from '../diffusion/samplers.js';
import { KERNELS } from '../image/upsample.js';
import { DEVICE_REQUESTS, PRECISION_REQUESTS, type DeviceRequest } from '../model/session.js';
import { CONSISTENCY_KINDS } from '../diffusion/consistency.js';
import { INPUT_KINDS, JPEG_CLEAN_QUALITY, NOISY_INPUT_SIGMA, REDUCE_KINDS, type UpscaleOptions, type UpscaleSettings } from '../upscale.js';
import { oneOf, positiveInteger } from '../validate.js';
import { parseCascade, parseNumber } from './parse.js';

/**
 * Declares the method flags on a command (one declaration for sr upscale and sr eval). Defaults shown are the
 * library's; the model's manifest (sr info) and --preset come before them.
 */
export function addMethodOptions(cmd: Command): Command {
  return cmd
    .option('--t <step>', "diffusion step to noise to, 1..T-1 (default: the model's; larger = more detail, less fidelity)")
    .option('--cascade <n|list>', "Boomerang passes N at t, or a list of t per pass (e.g. 100,60,30) (default: the model's)")
    .option('--steps <n>', "reverse steps per pass, evenly spaced (default: the model's; capped at t)")
    .option('--upsampler <kind>', `${KERNELS.join(' | ')}, centre-aligned (default: the model's, else bicubic)`)
    .option(
      '--back-project <n>',
      "back-projection iterations on the upsampled image before the first pass, 0 = none (default: the model's, else 0)",
    )
    .option('--sampler <kind>', `${SAMPLER_KINDS.join(' | ')} (default: the model's, else ancestral)`)
    .option('--eta <x>', "DDIM eta in 0..1, 0 = deterministic reverse pass (default: the model's, else 0)")
    .option(
      '--consistency <kind>',
      "none (vanilla Boomerang) | ddnm (exact agreement with the input under average pooling) | ibp (back-projection through a bicubic degradation) (default: the model's, else ddnm)",
    )
    .option('--seed <n>', 'seed for repeatable results (default: random, printed)')
    .option('--samples <k>', "independent samples (default: the model's, else 1)")
    .option(
      '--reduce <how>',
      `${REDUCE_KINDS.join(' | ')}: how samples combine (none: every sample kept, written as <name>-s1 … -sK) (default: mean)`,
    )
    .option('--preset <name>', "a preset from the model's manifest (see sr info); explicit flags override it")
    .option(
      '--input <kind>',
      `${INPUT_KINDS.join(' | ')}: how the input was degraded; auto treats a JPEG saved below quality ${JPEG_CLEAN_QUALITY} as jpeg and uses the model's settings for it, and any other input whose noise it estimates at ${NOISY_INPUT_SIGMA} grey levels or more as noisy (the noise removed as --noise does); noisy removes the estimated noise whatever its level (default: auto)`,
    )
    .option(
      '--noise <sigma>',
      'Gaussian noise in the input, std in grey levels (0..255; a low-light phone photo is about 3-10): removed first by one evaluation of the Gaussian prior (default: 0, none)',
    )
    .option('--model <name|dir>', 'shipped model name or a model folder', 'default')
    .option('--device <kind>', `${DEVICE_REQUESTS.join(' | ')}`, 'cpu')
    .option(
      '--precision <kind>',
      `${PRECISION_REQUESTS.join(' | ')}: int8 runs the model's int8 variant (sr info), CPU only, about 2.2-2.5x less CPU per evaluation for 0.002 dB PSNR-Y on the AVX-512 VNNI CPU it was measured on; auto runs int8 on the CPU when the model has an int8 variant of the same weights and the CPU has VNNI (avx512_vnni or avx_vnni), else float (sr info says which) (default: auto)`,
    )
    .option(
      '--tile <px>',
      'largest tile side (default 640, a multiple of the model multiple); larger images are covered with equal tiles up to it',
    );
}

export interface MethodFlags {
  t?: string;
  cascade?: string;
  steps?: string;
  upsampler?: string;
  backProject?: string;
  sampler?: string;
  eta?: string;
  consistency?: string;
  seed?: string;
  samples?: string;
  reduce?: string;
  preset?: string;
  input?: string;
  noise?: string;
  tile?: string;
  precision?: string;
}

export type MethodOptions = Omit<UpscaleOptions, 'factor' | 'model' | 'device' | 'signal' | 'onProgress'>;

export function parseMethodFlags(f: MethodFlags): MethodOptions {
  const o: MethodOptions = {};
  if (f.t !== undefined) o.t = parseNumber('--t', f.t);
  if (f.cascade !== undefined) o.cascade = parseCascade(f.cascade);
  if (f.steps !== undefined) o.steps = parseNumber('--steps', f.steps);
  if (f.upsampler !== undefined) o.upsampler = oneOf('upsampler', f.upsampler, KERNELS);
  if (f.backProject !== undefined) o.backProject = parseNumber('--back-project', f.backProject);
  if (f.sampler !== undefined) o.sampler = oneOf('sampler', f.sampler, SAMPLER_KINDS);
  if (f.eta !== undefined) o.eta = parseNumber('--eta', f.eta);
  if (f.consistency !== undefined) o.consistency = oneOf('consistency', f.consistency, CONSISTENCY_KINDS);
  if (f.seed !== undefined) o.seed = parseNumber('--seed', f.seed);
  if (f.samples !== undefined) o.samples = parseNumber('--samples', f.samples);
  if (f.reduce !== undefined) o.reduce = oneOf('reduce', f.reduce, REDUCE_KINDS);
  if (f.preset !== undefined) o.preset = f.preset;
  if (f.input !== undefined) o.input = oneOf('input', f.input, INPUT_KINDS);
  if (f.noise !== undefined) o.noise = parseNumber('--noise', f.noise);
  if (f.precision !== undefined) o.precision = oneOf('--precision', f.precision, PRECISION_REQUESTS);
  if (f.tile !== undefined) o.tiling = { tile: positiveInteger('tile', parseNumber('--tile', f.tile)) };
  return o;
}

/**
 * What a run did about noise, for the one-line summaries of sr upscale and sr eval: the noise removed, and whether it
 * was estimated (--input auto|noisy) or given (--noise). An estimate below the bound changes nothing and is only in the
 * settings (the --json report).
 */
export function noiseNote(s: Pick<UpscaleSettings, 'noise' | 'noiseEstimate' | 'denoiser'>): string {
  if (s.noise <= 0) return '';
  return `, noise ${s.noise} removed by ${s.denoiser}${s.noiseEstimate !== null ? ' (estimated: noisy input)' : ''}`;
}

export function parseDevice(value: string): DeviceRequest {
  return oneOf('--device', value, DEVICE_REQUESTS);
}
