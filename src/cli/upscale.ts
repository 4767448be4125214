/** `sr upscale IN -o OUT`: parse and validate the flags, then call the library's upscaleFile. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { OutputError, UsageError } from '../errors.js';
import { upscaleFile, type UpscaleFileOptions } from '../upscale.js';
import { parseCascade, parseNumber } from './parse.js';
import { createProgressLine } from './progress.js';
import type { DeviceRequest } from '../model/session.js';
import type { Kernel } from '../image/upsample.js';
import type { SamplerKind } from '../diffusion/samplers.js';

interface Flags {
  output: string;
  factor?: string;
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
  model?: string;
  device?: string;
  tile?: string;
  force?: boolean;
  quiet?: boolean;
}

export function registerUpscale(program: Command, signal: AbortSignal): void {
  program
    .command('upscale')
    .description('super-resolve an image with Boomerang (upsample, noise to t, reverse diffusion; N passes)')
    .argument('<input>', 'input image (PNG, JPEG, WebP, TIFF, AVIF, GIF)')
    .requiredOption('-o, --output <file>', 'output image; the format follows the extension (.png .jpg .webp .tif .avif)')
    .option('-f, --factor <n>', 'integer enlargement factor', '4')
    .option('--t <step>', "diffusion step to noise to, 1..T-1 (default: the model's; larger = more detail, less fidelity)")
    .option('--cascade <n|list>', 'Boomerang passes N at t, or a list of t per pass (e.g. 100,60,30)', '1')
    .option('--steps <n>', "reverse steps per pass, evenly spaced (default: the model's; capped at t)")
    .option('--upsampler <kind>', 'nearest | bilinear | bicubic | lanczos (centre-aligned)', 'bicubic')
    .option('--sampler <kind>', 'ancestral (DDPM) | ddim', 'ancestral')
    .option('--eta <x>', 'DDIM eta in 0..1 (0 = deterministic reverse pass)')
    .option('--consistency <kind>', 'none (vanilla Boomerang) | ddnm (keep agreement with the input)', 'ddnm')
    .option('--seed <n>', 'seed for repeatable results (default: random, printed)')
    .option('--samples <k>', 'independent samples to combine')
    .option('--reduce <how>', 'mean | median | none: how to combine samples', 'mean')
    .option('--preset <name>', "a preset from the model's manifest (see sr info); explicit flags override it")
    .option('--model <name|dir>', 'shipped model name or a model folder', 'default')
    .option('--device <kind>', 'cpu | webgpu | auto', 'cpu')
    .option('--tile <px>', 'tile size for large images (a multiple of the model multiple)')
    .option('--force', 'overwrite an existing output file')
    .option('-q, --quiet', 'no progress output')
    .action(async (input: string, flags: Flags) => {
      const options = toOptions(flags);
      if (resolve(input) === resolve(flags.output)) throw new OutputError(`Refusing to write over the input ${input}`);
      if (!flags.force && existsSync(flags.output)) {
        throw new OutputError(`Output ${flags.output} exists; use --force to overwrite it`);
      }
      const line = createProgressLine({ quiet: flags.quiet ?? false });
      let total = 0;
      options.onProgress = (e) => {
        if (e.stage !== 'boomerang') return;
        const perPass = e.totalSteps;
        total = perPass * e.passes * e.samples;
        const done = ((e.sample - 1) * e.passes + (e.pass - 1)) * perPass + e.step;
        line.update(done, total, `pass ${e.pass}/${e.passes} step ${e.step}/${e.totalSteps} t=${e.t}` + (e.samples > 1 ? ` sample ${e.sample}/${e.samples}` : ''));
      };
      options.signal = signal;
      const r = await upscaleFile(input, flags.output, options);
      const s = r.settings;
      const { height, width } = { height: r.image.shape[1], width: r.image.shape[2] };
      line.done(`wrote ${flags.output} (${width}x${height}, x${s.factor}, t=${s.passes.join(',')}, ${s.steps} steps, ` +
        `${s.sampler}, consistency ${s.consistency}, seed ${s.seed}${s.samples > 1 ? `, ${s.samples} samples ${s.reduce}` : ''}) ` +
        `in ${r.stats.seconds.toFixed(1)} s on ${s.device} with model ${s.model}`);
    });
}

function toOptions(f: Flags): UpscaleFileOptions {
  const o: UpscaleFileOptions = {};
  if (f.factor !== undefined) o.factor = parseNumber('--factor', f.factor);
  if (f.t !== undefined) o.t = parseNumber('--t', f.t);
  if (f.cascade !== undefined) o.cascade = parseCascade(f.cascade);
  if (f.steps !== undefined) o.steps = parseNumber('--steps', f.steps);
  if (f.upsampler !== undefined) o.upsampler = f.upsampler as Kernel;
  if (f.sampler !== undefined) o.sampler = f.sampler as SamplerKind;
  if (f.eta !== undefined) o.eta = parseNumber('--eta', f.eta);
  if (f.consistency !== undefined) o.consistency = f.consistency as 'none' | 'ddnm';
  if (f.seed !== undefined) o.seed = parseNumber('--seed', f.seed);
  if (f.samples !== undefined) o.samples = parseNumber('--samples', f.samples);
  if (f.reduce !== undefined) o.reduce = f.reduce as 'mean' | 'median' | 'none';
  if (f.preset !== undefined) o.preset = f.preset;
  if (f.model !== undefined) o.model = f.model;
  if (f.device !== undefined) {
    if (!['cpu', 'webgpu', 'auto'].includes(f.device)) throw new UsageError(`Expected one of cpu, webgpu, auto for --device but received ${JSON.stringify(f.device)}`);
    o.device = f.device as DeviceRequest;
  }
  if (f.tile !== undefined) o.tiling = { tile: parseNumber('--tile', f.tile) };
  return o;
}
